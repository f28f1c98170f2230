"""Go strconv/url behaviour that ends up inside Dapr's answers (spec sections 1, 11.5, E7)."""

from __future__ import annotations

import pytest

from statelab.go.stdlib import GoParseError, atoi, go_quote, query_unescape


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("+5", 5), ("-3", -3), ("007", 7)])
def test_atoi_accepts_what_go_accepts(text: str, value: int) -> None:
    assert atoi(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("abc", 'strconv.Atoi: parsing "abc": invalid syntax'),   # E7 wording
    ("", 'strconv.Atoi: parsing "": invalid syntax'),
    (" 1", 'strconv.Atoi: parsing " 1": invalid syntax'),
    ("1.5", 'strconv.Atoi: parsing "1.5": invalid syntax'),
    ("99999999999999999999", 'strconv.Atoi: parsing "99999999999999999999": value out of range'),
])
def test_atoi_errors_use_go_wording(text: str, message: str) -> None:
    with pytest.raises(GoParseError) as info:
        atoi(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("raw", "decoded"), [
    ("a%2Fb", "a/b"),        # §1: how a key can contain a slash
    ("a+b", "a b"),          # §1: + becomes a space
    ("a%2Bb", "a+b"),
    ("%C3%A9t%C3%A9", "été"),
    ("plain", "plain"),
])
def test_query_unescape(raw: str, decoded: str) -> None:
    assert query_unescape(raw) == decoded


@pytest.mark.parametrize("raw", ["%zz", "abc%", "%4"])
def test_query_unescape_rejects_bad_escapes(raw: str) -> None:
    with pytest.raises(GoParseError, match="invalid URL escape"):
        query_unescape(raw)


def test_go_quote() -> None:
    assert go_quote('a"b') == '"a\\"b"'
