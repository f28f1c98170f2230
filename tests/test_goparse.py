"""Go strconv/url behaviour that ends up inside Dapr's answers (spec sections 1, 11.5, E7)."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given, strategies as st

from statelab.go.stdlib import (
    GoParseError,
    atoi,
    go_quote,
    parse_int,
    path_clean,
    query_unescape,
)


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


@pytest.mark.parametrize(("text", "value"), [
    ("0" * 5000 + "7", 7),                       # leading zeros do not count
    ("-" + "0" * 5000 + "7", -7),
    ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775808", -(2**63)),
])
def test_atoi_range_is_decided_on_the_digits(text: str, value: int) -> None:
    assert atoi(text) == value
    assert parse_int(text) == value


@pytest.mark.parametrize("text", ["9" * 5000, "-" + "1" * 4301, "9223372036854775808",
                                  "-9223372036854775809"])
def test_huge_integers_are_out_of_range_not_a_python_limit(text: str) -> None:
    # Python's int() refuses more than 4300 digits; Go says "value out of range".
    with pytest.raises(GoParseError) as info:
        atoi(text)
    assert str(info.value) == f'strconv.Atoi: parsing "{text}": value out of range'
    with pytest.raises(GoParseError) as info:
        parse_int(text)
    assert str(info.value) == f'strconv.ParseInt: parsing "{text}": value out of range'


def test_parse_int_names_itself() -> None:
    # components-contrib's Redis parseTTL: strconv.ParseInt(val, 10, 0)
    with pytest.raises(GoParseError, match='^strconv.ParseInt: parsing "1h": invalid syntax$'):
        parse_int("1h")


@pytest.mark.parametrize(("raw", "clean"), [
    ("", "."), ("/", "/"), ("//a//b/", "/a/b"), ("/a/./b/.", "/a/b"), ("/a/b/..", "/a"),
    ("/..", "/"), ("/../../a", "/a"), ("a/../..", ".."), ("../a/", "../a"), ("./", "."),
    ("/a/%2E%2E/b", "/a/%2E%2E/b"),
])
def test_path_clean_is_go_s(raw: str, clean: str) -> None:
    assert path_clean(raw) == clean


@given(st.lists(st.sampled_from(["", ".", "..", "a", "b.c", ".h", "%2E", "%2F", "k..", "..k"]),
                max_size=8))
def test_path_clean_matches_posix_normpath_on_rooted_paths(segments: list[str]) -> None:
    """The fast path (an already clean path is returned as it is) and the loop agree with
    posixpath.normpath, which is Go's path.Clean on rooted paths but for POSIX's leading
    '//'."""
    raw = "/" + "/".join(segments)
    expected = posixpath.normpath(raw)
    if expected.startswith("//"):
        expected = "/" + expected.lstrip("/")
    assert path_clean(raw) == expected
