"""mapstructure as daprd decodes a transaction operation's ``request`` (spec 7.1, E15)."""

from __future__ import annotations

import pytest

from statelab.go.mapstructure import MapstructureError, decode, go_g, go_v

UPSERT = {"Key": "string", "Value": "any", "ETag": "string", "Metadata": "map",
          "Options": "options", "ContentType": "string"}


def _error(raw: object) -> str:
    with pytest.raises(MapstructureError) as info:
        decode(raw, UPSERT)
    return str(info.value)


def test_fields_match_case_insensitively_and_keep_go_names() -> None:
    decoded = decode({"key": "k", "etag": "3", "METADATA": {"a": "b"}, "x": 1,
                      "options": {"CONCURRENCY": "first-write"}}, UPSERT)
    assert decoded == {"Key": "k", "ETag": "3", "Metadata": {"a": "b"},
                       "Options": {"concurrency": "first-write"}}
    assert decode(None, UPSERT) == {}


def test_errors_name_the_go_field() -> None:
    # No mapstructure tags on state.SetRequest: errors use the Go field names.
    assert _error({"key": "k", "etag": 1}) == (
        "1 error(s) decoding:\n\n* 'ETag' expected type 'string', got unconvertible type "
        "'float64', value: '1'")
    assert _error({"key": 5, "contentType": True, "metadata": {"ttlInSeconds": 5.0},
                   "options": {"concurrency": [1]}}) == (
        "4 error(s) decoding:\n\n"   # Error() sorts its bullet points
        "* 'ContentType' expected type 'string', got unconvertible type 'bool', value: 'true'\n"
        "* 'Key' expected type 'string', got unconvertible type 'float64', value: '5'\n"
        "* 'Metadata[ttlInSeconds]' expected type 'string', got unconvertible type 'float64', "
        "value: '5'\n"
        "* 'Options.Concurrency' expected type 'string', got unconvertible type "
        "'[]interface {}', value: '[1]'")
    assert _error("k") == "1 error(s) decoding:\n\n* '' expected a map, got 'string'"
    assert _error([1]) == "1 error(s) decoding:\n\n* '' expected a map, got 'slice'"
    assert _error({"options": []}).endswith("* 'Options' expected a map, got 'slice'")
    assert _error({"metadata": 3.0}).endswith("* 'Metadata' expected a map, got 'float64'")


def test_null_map_entries_are_empty_strings() -> None:
    assert decode({"metadata": {"a": None}}, UPSERT) == {"Metadata": {"a": ""}}


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1"), (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"),
    (0.0001, "0.0001"), (0.00001, "1e-05"), (-2.5e-7, "-2.5e-07"), (1e21, "1e+21"),
    (-0.0, "-0"), (12345.678, "12345.678"),
])
def test_go_g_is_fmt_v_of_a_float64(value: float, text: str) -> None:
    assert go_g(value) == text


def test_go_v_prints_like_fmt() -> None:
    assert go_v({"b": [1.0, "x", None, True], "a": {"z": 1e6}}) == (
        "map[a:map[z:1e+06] b:[1 x <nil> true]]")
    deep: object = "x"
    for _ in range(10000):  # as deep as a request may nest: no recursion
        deep = [deep]
    assert go_v(deep) == "[" * 10000 + "x" + "]" * 10000
    assert _error({"etag": deep}).endswith("value: '" + "[" * 10000 + "x" + "]" * 10000 + "'")
