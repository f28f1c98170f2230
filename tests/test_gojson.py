"""Go's JSON behaviour as daprd shows it (spec sections 2.2 E4, 3.1, 3.4, 6)."""

from __future__ import annotations

import pytest

from statelab.go.json import (
    ANY,
    INT,
    MAX_DEPTH,
    STRING,
    GoJSONError,
    MapOf,
    SliceOf,
    Struct,
    compact_raw,
    decode_first_value,
    decode_into,
    encode_fastest,
    encode_std,
    go_float,
    unmarshal,
)

SET_REQUEST = SliceOf(Struct("state.SetRequest", (
    ("key", STRING), ("value", ANY), ("etag", STRING), ("metadata", MapOf(STRING)))))


@pytest.mark.parametrize(("body", "message"), [
    (b"", "EOF"),                                           # E4: empty body
    (b"   \n", "EOF"),
    (b"foobar", "invalid character 'o' in literal false (expecting 'a')"),
    (b"[{},]", "invalid character ']' looking for beginning of value"),  # trailing comma
    (b"[{\"key\" \"a\"}]", "invalid character '\"' after object key"),
    (b"[{\"key\":\"a\" 1}]", "invalid character '1' after object key:value pair"),
    (b"[1 2]", "invalid character '2' after array element"),
    (b"[{", "unexpected EOF"),
    (b"[\"a\nb\"]", "invalid character '\\n' in string literal"),
    (b"[\"\\x\"]", "invalid character 'x' in string escape code"),
    (b"[-]", "invalid character ']' in numeric literal"),
    (b"[1.]", "invalid character ']' after decimal point in numeric literal"),
    (b"[1e]", "invalid character ']' in exponent of numeric literal"),
    (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
])
def test_scanner_errors_use_go_wording(body: bytes, message: str) -> None:
    with pytest.raises(GoJSONError) as info:
        decode_first_value(body)
    assert str(info.value) == message


def test_only_the_first_value_is_read() -> None:
    # §1: json.Decoder reads the first value; trailing bytes are ignored.
    assert decode_into(b'[{"key":"a"}] trailing garbage', SET_REQUEST) == [{"key": "a"}]


@pytest.mark.parametrize(("body", "message"), [
    (b"{}", "json: cannot unmarshal object into Go value of type []state.SetRequest"),
    (b'"x"', "json: cannot unmarshal string into Go value of type []state.SetRequest"),
    (b'[{"key":"a","etag":123}]',
     "json: cannot unmarshal number into Go struct field SetRequest.etag of type string"),
    (b'[{"key":"a","metadata":{"ttlInSeconds":120}}]',
     "json: cannot unmarshal number into Go struct field SetRequest.metadata.ttlInSeconds of "
     "type string"),
    (b'["x"]', "json: cannot unmarshal string into Go value of type state.SetRequest"),
])
def test_type_errors_use_go_wording(body: bytes, message: str) -> None:
    with pytest.raises(GoJSONError) as info:
        decode_into(body, SET_REQUEST)
    assert str(info.value) == message


def test_field_names_match_case_insensitively_and_unknown_fields_are_ignored() -> None:
    # §1: Go's encoding/json matches KEY and eTag; unknown fields are ignored.
    decoded = decode_into(b'[{"KEY":"a","eTag":"3","vae":1}]', SET_REQUEST)
    assert decoded == [{"key": "a", "etag": "3"}]


def test_null_leaves_zero_values() -> None:
    assert decode_into(b"null", SET_REQUEST) is None
    assert decode_into(b'[{"key":"a","etag":null}]', SET_REQUEST) == [{"key": "a", "etag": None}]


def test_numbers_become_float64_and_ints_are_checked() -> None:
    assert decode_into(b'[{"key":"a","value":12345678901234567890}]', SET_REQUEST) == [
        {"key": "a", "value": 12345678901234567890.0}]
    bulk = Struct("http.BulkGetRequest", (("keys", SliceOf(STRING)), ("parallelism", INT)))
    assert decode_into(b'{"keys":["a"],"parallelism":3}', bulk) == {"keys": ["a"],
                                                                     "parallelism": 3}
    with pytest.raises(GoJSONError, match=r"cannot unmarshal number 1\.5 into Go struct field "
                                          r"BulkGetRequest\.parallelism of type int"):
        decode_into(b'{"parallelism":1.5}', bulk)
    with pytest.raises(GoJSONError, match="cannot unmarshal number 1e400"):
        decode_into(b'[{"key":"a","value":1e400}]', SET_REQUEST)


def test_lone_surrogates_become_replacement_characters() -> None:
    assert decode_into(b'[{"key":"\\ud800"}]', SET_REQUEST) == [{"key": "\ufffd"}]


@pytest.mark.parametrize(("value", "std", "fastest"), [
    ("value1", b'"value1"', b'"value1"'),                         # §3.4 strings keep quotes
    ({"b": 1.0, "a": 2.0}, b'{"a":2,"b":1}', b'{"b":1,"a":2}'),   # sorted vs sender order
    (42.0, b"42", b"42"),
    (3.14159265, b"3.14159265", b"3.141593"),                     # 6 decimals on Redis
    (0.0000001, b"1e-7", b"0"),
    (12345678901234567890.0, b"12345678901234567000", b"12345678901234567000"),
    ("<b>&", b'"\\u003cb\\u003e\\u0026"', b'"<b>&"'),              # HTML escaping
    (None, b"null", b"null"),
    (True, b"true", b"true"),
    ([1.5, "x", None], b'[1.5,"x",null]', b'[1.5,"x",null]'),
    (-0.0000001, b"-1e-7", b"-0"),
    (1e21, b"1e+21", b"1e+21"),
    (100.0, b"100", b"100"),
    (-2.5, b"-2.5", b"-2.5"),
    ("tab\tnl\n\x01\u2028", b'"tab\\tnl\\n\\u0001\\u2028"', '"tab\\tnl\\n\\u0001\u2028"'.encode()),
])
def test_encoders_match_go(value: object, std: bytes, fastest: bytes) -> None:
    assert encode_std(value) == std
    assert encode_fastest(value) == fastest


def test_go_float_switches_to_exponent_like_go() -> None:
    assert go_float(1e20) == "100000000000000000000"
    assert go_float(1e-6) == "0.000001"
    assert go_float(1.5e-10) == "1.5e-10"
    with pytest.raises(GoJSONError):
        go_float(float("nan"))


def test_compact_raw_compacts_and_escapes_html() -> None:
    # §6: bulk data goes through json.Encoder: compacted and HTML-escaped.
    assert compact_raw(b'{ "a" : "<b>" ,\n "c": [1, 2] }') == '{"a":"\\u003cb\\u003e","c":[1,2]}'
    with pytest.raises(GoJSONError):
        compact_raw(b"hello")


@pytest.mark.parametrize(("data", "outcome"), [
    (b' {"a": [1, true]} ', {"a": [1.0, True]}),
    (b"null", None),
    (b"hello", "invalid character 'h' looking for beginning of value"),
    (b"", "unexpected end of JSON input"),
    (b'{"a":', "unexpected end of JSON input"),
    (b"1 2", "invalid character '2' after top-level value"),
    (b'"x"}', "invalid character '}' after top-level value"),
])
def test_unmarshal_reads_the_whole_input(data: bytes, outcome: object) -> None:
    """json.Unmarshal (gRPC G5): unlike the Decoder, trailing bytes and short input fail."""
    from statelab.go.json import unmarshal

    if isinstance(outcome, str):
        with pytest.raises(GoJSONError) as caught:
            unmarshal(data)
        assert str(caught.value) == outcome
    else:
        assert unmarshal(data) == outcome


# -- depth: Go's scanner accepts 10000 levels and rejects the next (maxNestingDepth) ------------

def _nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


@pytest.mark.parametrize("depth", [1, 500, 9999, MAX_DEPTH])
def test_nesting_up_to_go_s_limit_decodes_and_round_trips(depth: int) -> None:
    for body in (_nested(depth), ('{"a":' * depth + "1" + "}" * depth).encode()):
        value = decode_into(body, ANY)
        assert encode_fastest(value) == body  # Redis store: the value written back whole
        assert encode_std(value) == body      # in-memory store
        assert compact_raw(body) == body.decode()  # bulk get's json.RawMessage
        # (compared as text: Python's == on a value this deep would itself recurse)
        assert encode_fastest(unmarshal(body)) == body


@pytest.mark.parametrize("opener", ["[", "{\"k\":"])
def test_one_level_more_is_go_s_max_depth_error(opener: str) -> None:
    bracket = opener[0]
    closer = "]" if bracket == "[" else "}"
    body = (opener * (MAX_DEPTH + 1) + "1" + closer * (MAX_DEPTH + 1)).encode()
    for decode in (decode_first_value, compact_raw, lambda b: decode_into(b, SET_REQUEST)):
        with pytest.raises(GoJSONError) as info:
            decode(body)
        assert str(info.value) == f"invalid character '{bracket}' exceeded max depth"


def test_the_first_error_in_the_text_wins_over_depth() -> None:
    body = b"[" * 50 + b"x" + b"[" * MAX_DEPTH
    with pytest.raises(GoJSONError, match="^invalid character 'x' looking for beginning"):
        decode_first_value(body)
    # Depth is counted on open containers only: many siblings are fine.
    assert len(decode_first_value(b"[" + b"[]," * 20000 + b"[]]")) == 20001


def test_deep_values_keep_go_s_string_rules() -> None:
    body = ("[" * 2000 + '"\\ud800<\\u00e9>"' + "]" * 2000).encode()
    value = decode_first_value(body)
    for _ in range(2000):
        value = value[0]
    assert value == "\ufffd<\u00e9>"


# -- huge numbers: no Python int-conversion limit, Go's range errors -----------------------------

def test_huge_integer_literals_are_range_errors_not_crashes() -> None:
    bulk = Struct("http.BulkGetRequest", (("keys", SliceOf(STRING)), ("parallelism", INT)))
    digits = "9" * 5000
    with pytest.raises(GoJSONError) as info:
        decode_into(f'{{"parallelism":{digits}}}'.encode(), bulk)
    assert str(info.value) == (f"json: cannot unmarshal number {digits} into Go struct field "
                               "BulkGetRequest.parallelism of type int")
    with pytest.raises(GoJSONError) as info:
        decode_into(f'[{{"key":"a","value":[{digits}]}}]'.encode(), SET_REQUEST)
    assert str(info.value) == (f"json: cannot unmarshal number {digits} into Go struct field "
                               "SetRequest.value of type float64")
    with pytest.raises(GoJSONError, match="into Go value of type float64$"):
        unmarshal(digits.encode())
    assert decode_into(b'{"parallelism":-9223372036854775808}', bulk) == {
        "parallelism": -(2**63)}
