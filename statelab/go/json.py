"""JSON the way daprd's Go code reads and writes it.

Why this exists: learners see Dapr's *exact* bytes. daprd decodes request bodies with Go's
``encoding/json`` (numbers become float64, field names match case-insensitively, only the first
value of a body is read, errors have Go's wording), and the stores re-encode values with two
different Go encoders:

* the Redis store uses jsoniter ``ConfigFastest``: floats rounded to 6 decimals, no HTML escaping,
  map keys in Go's random map order (statelab keeps the sender's order instead, so stored
  outputs stay deterministic; spec section 3.4);
* the in-memory store uses ``encoding/json``: sorted keys, shortest float form, ``<>&`` escaped.

Python's :mod:`json` does the parsing; this module adds Go's scanner error messages, Go's
type-mismatch errors for the request structs, and the two encoders.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "ANY",
    "BOOL",
    "GoJSONError",
    "INT",
    "MapOf",
    "STRING",
    "SliceOf",
    "Struct",
    "compact_raw",
    "decode_first_value",
    "decode_into",
    "encode_fastest",
    "encode_std",
    "encode_std_ordered",
    "go_float",
    "go_string",
]


class GoJSONError(ValueError):
    """A decoding failure, carrying the text Go's ``encoding/json`` would have produced."""


# --------------------------------------------------------------------------------------------
# Scanner: validates the first JSON value and reports errors with Go's wording.
# --------------------------------------------------------------------------------------------

_WHITESPACE = " \t\r\n"


def _quote_char(c: str) -> str:
    """Go's ``quoteChar``: the offending character as it appears in scanner errors."""
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    quoted = json.dumps(c, ensure_ascii=False)[1:-1]
    if c == "\x7f" or (ord(c) < 0x20 and quoted.startswith("\\u")):
        quoted = f"\\x{ord(c):02x}"
    return "'" + quoted + "'"


class _Scanner:
    """A recursive-descent copy of the checks in Go's ``encoding/json/scanner.go``.

    It only validates; the returned end offset tells the caller where the first value ends, so
    trailing bytes can be ignored the way ``json.Decoder.Decode`` ignores them.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        if self.pos >= len(self.text):
            raise GoJSONError("unexpected EOF")
        return self.text[self.pos]

    def _skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def _fail(self, context: str) -> GoJSONError:
        return GoJSONError(f"invalid character {_quote_char(self.text[self.pos])} {context}")

    def first_value(self) -> int:
        self._skip_ws()
        if self.pos >= len(self.text):
            raise GoJSONError("EOF")
        self._value()
        return self.pos

    def _value(self) -> None:
        self._skip_ws()
        c = self._peek()
        if c == "{":
            self._object()
        elif c == "[":
            self._array()
        elif c == '"':
            self._string()
        elif c == "-" or c.isdigit() and c.isascii():
            self._number()
        elif c in "tfn":
            literal = {"t": "true", "f": "false", "n": "null"}[c]
            self.pos += 1
            for expected in literal[1:]:
                if self._peek() != expected:
                    raise self._fail(f"in literal {literal} (expecting '{expected}')")
                self.pos += 1
        else:
            raise self._fail("looking for beginning of value")

    def _object(self) -> None:
        self.pos += 1
        self._skip_ws()
        if self._peek() == "}":
            self.pos += 1
            return
        while True:
            self._skip_ws()
            if self._peek() != '"':
                raise self._fail("looking for beginning of object key string")
            self._string()
            self._skip_ws()
            if self._peek() != ":":
                raise self._fail("after object key")
            self.pos += 1
            self._value()
            self._skip_ws()
            c = self._peek()
            if c == ",":
                self.pos += 1
                continue
            if c == "}":
                self.pos += 1
                return
            raise self._fail("after object key:value pair")

    def _array(self) -> None:
        self.pos += 1
        self._skip_ws()
        if self._peek() == "]":
            self.pos += 1
            return
        while True:
            self._value()
            self._skip_ws()
            c = self._peek()
            if c == ",":
                self.pos += 1
                continue
            if c == "]":
                self.pos += 1
                return
            raise self._fail("after array element")

    def _string(self) -> None:
        self.pos += 1
        while True:
            c = self._peek()
            if c == '"':
                self.pos += 1
                return
            if c == "\\":
                self.pos += 1
                e = self._peek()
                if e == "u":
                    self.pos += 1
                    for _ in range(4):
                        if self._peek() not in "0123456789abcdefABCDEF":
                            raise self._fail("in \\u hexadecimal character escape")
                        self.pos += 1
                    continue
                if e not in '"\\/bfnrt':
                    raise self._fail("in string escape code")
            elif ord(c) < 0x20:
                raise self._fail("in string literal")
            self.pos += 1

    def _digits(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789":
            self.pos += 1

    def _number(self) -> None:
        if self.text[self.pos] == "-":
            self.pos += 1
            if self._peek() not in "0123456789":
                raise self._fail("in numeric literal")
        if self.text[self.pos] == "0":
            self.pos += 1
        else:
            self._digits()
        if self.pos < len(self.text) and self.text[self.pos] == ".":
            self.pos += 1
            if self._peek() not in "0123456789":
                raise self._fail("after decimal point in numeric literal")
            self._digits()
        if self.pos < len(self.text) and self.text[self.pos] in "eE":
            self.pos += 1
            if self._peek() in "+-":
                self.pos += 1
            if self._peek() not in "0123456789":
                raise self._fail("in exponent of numeric literal")
            self._digits()


def _replace_lone_surrogates(value: Any) -> Any:
    """Go decodes an unpaired ``\\ud800`` escape to U+FFFD; Python keeps the surrogate."""
    if isinstance(value, str):
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
        return value
    if isinstance(value, list):
        return [_replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_lone_surrogates(k): _replace_lone_surrogates(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class GoNumber:
    """A JSON number kept as its literal, so a Go ``int`` field can be checked exactly."""

    literal: str

    def as_float(self) -> float:
        return float(self.literal)


def decode_first_value(body: bytes) -> Any:
    """Decode the first JSON value of *body* as ``json.Decoder.Decode`` would.

    Numbers come back as :class:`GoNumber` so that :func:`decode_into` can tell an ``int`` field
    from a float64 one, as Go does. Raises :class:`GoJSONError` with Go's message.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        # Fast path: for valid JSON, Python's C scanner ends the first value exactly where
        # Go's scanner does, and yields the same value as the slow path below. Anything it
        # rejects, and NaN/Infinity (which Go rejects), goes to the slow path for Go's error.
        start = len(text) - len(text.lstrip(_WHITESPACE))
        value, end = _FAST_DECODER.raw_decode(text, start)
        if text[end:end + 1] in (".", "e", "E"):
            # A top-level "1." or "1e": Python stops before the dot, Go reports an error.
            raise _NotGoJSONError(text[end])
    except (ValueError, _NotGoJSONError):
        end = _Scanner(text).first_value()
        value = json.loads(text[:end], parse_float=GoNumber, parse_int=GoNumber,
                           parse_constant=GoNumber)
    if "\\u" not in text:
        return value  # lone surrogates can only come from \u escapes
    return _replace_lone_surrogates(value)


class _NotGoJSONError(Exception):
    """NaN, Infinity or -Infinity: Python's json accepts them, Go's scanner does not."""


def _reject_constant(name: str) -> Any:
    raise _NotGoJSONError(name)


_FAST_DECODER = json.JSONDecoder(parse_float=GoNumber, parse_int=GoNumber,
                                 parse_constant=_reject_constant)


# --------------------------------------------------------------------------------------------
# Typed decoding into the shapes of daprd's request structs.
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Scalar:
    go_name: str
    json_kind: str  # "string", "int", "bool", "any"


STRING = _Scalar("string", "string")
INT = _Scalar("int", "int")
BOOL = _Scalar("bool", "bool")
ANY = _Scalar("interface {}", "any")


@dataclass(frozen=True)
class MapOf:
    value: GoType

    @property
    def go_name(self) -> str:
        return f"map[string]{self.value.go_name}"


@dataclass(frozen=True)
class SliceOf:
    item: GoType

    @property
    def go_name(self) -> str:
        return f"[]{self.item.go_name}"


@dataclass(frozen=True)
class Struct:
    """A Go struct: *go_name* as ``%T`` prints it, fields as (json name, type) pairs."""

    go_name: str
    fields: tuple[tuple[str, GoType], ...]

    @property
    def short_name(self) -> str:
        return self.go_name.rsplit(".", 1)[-1]


GoType = _Scalar | MapOf | SliceOf | Struct


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


class _TypedDecoder:
    """Walks a decoded value against a Go type; keeps the first type error, like Go does."""

    def __init__(self) -> None:
        self.first_error: GoJSONError | None = None

    def _mismatch(self, value: Any, target: GoType, struct: str, path: list[str],
                  detail: str = "") -> None:
        if self.first_error is not None:
            return
        kind = _json_kind(value) + detail
        if struct:
            where = f"Go struct field {struct}.{'.'.join(path)}"
        else:
            where = "Go value"
        self.first_error = GoJSONError(
            f"json: cannot unmarshal {kind} into {where} of type {target.go_name}")

    def decode(self, value: Any, target: GoType, struct: str = "", path: list[str] | None = None
               ) -> Any:
        path = path or []
        if value is None:
            return None  # Go leaves the zero value for null.
        if isinstance(target, _Scalar):
            return self._scalar(value, target, struct, path)
        if isinstance(target, SliceOf):
            if not isinstance(value, list):
                self._mismatch(value, target, struct, path)
                return None
            return [self.decode(v, target.item, struct, path) for v in value]
        if isinstance(target, MapOf):
            if not isinstance(value, dict):
                self._mismatch(value, target, struct, path)
                return None
            return {k: self.decode(v, target.value, struct, path + [k]) for k, v in value.items()}
        if not isinstance(value, dict):
            self._mismatch(value, target, struct, path)
            return None
        out: dict[str, Any] = {}
        # Go reports the outermost struct's name and the path below it.
        owner = struct or target.short_name
        for key, item in value.items():
            field = _match_field(target, key)
            if field is None:
                continue  # unknown fields are ignored
            name, ftype = field
            out[name] = self.decode(item, ftype, owner, path + [name])
        return out

    def _scalar(self, value: Any, target: _Scalar, struct: str, path: list[str]) -> Any:
        if target.json_kind == "any":
            return _plain(value)
        if target.json_kind == "string":
            if isinstance(value, str):
                return value
            self._mismatch(value, target, struct, path)
            return None
        if target.json_kind == "bool":
            if isinstance(value, bool):
                return value
            self._mismatch(value, target, struct, path)
            return None
        # int
        if isinstance(value, GoNumber):
            if re.fullmatch(r"-?\d+", value.literal) and -(2**63) <= int(value.literal) < 2**63:
                return int(value.literal)
            self._mismatch(value, target, struct, path, " " + value.literal)
            return None
        self._mismatch(value, target, struct, path)
        return None


def _match_field(target: Struct, key: str) -> tuple[str, GoType] | None:
    """Exact match first, then case-insensitive, as ``encoding/json`` does."""
    for name, ftype in target.fields:
        if name == key:
            return name, ftype
    for name, ftype in target.fields:
        if name.casefold() == key.casefold():
            return name, ftype
    return None


def _plain(value: Any) -> Any:
    """Turn GoNumbers into float64 values, as decoding into ``interface{}`` does."""
    if isinstance(value, GoNumber):
        number = value.as_float()
        if math.isinf(number):
            raise GoJSONError(f"json: cannot unmarshal number {value.literal} into Go value of "
                              "type float64")
        return number
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def decode_into(body: bytes, target: GoType) -> Any:
    """Decode *body* into *target* with Go's semantics; raise :class:`GoJSONError` on failure."""
    raw = decode_first_value(body)
    decoder = _TypedDecoder()
    result = decoder.decode(raw, target)
    if decoder.first_error is not None:
        raise decoder.first_error
    return result


# --------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------

def go_float(value: float) -> str:
    """``strconv.AppendFloat(v, 'f' or 'e', -1, 64)`` plus encoding/json's exponent clean-up."""
    if math.isinf(value) or math.isnan(value):
        raise GoJSONError(f"json: unsupported value: {value}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)  # Python's shortest repr uses e-notation in exactly these ranges
        return re.sub(r"e-0(\d)$", r"e-\1", text)
    text = format(Decimal(repr(value)).normalize(), "f")
    return text


def _fastest_float(value: float) -> str:
    """jsoniter's ``WriteFloat64Lossy``: 6 decimals below 0x4ffffff, negative sign kept."""
    if math.isinf(value) or math.isnan(value):
        raise GoJSONError(f"unsupported value: {value}")
    sign = ""
    if value < 0:
        sign = "-"
        value = -value
    if value > 0x4FFFFFF:
        return sign + go_float(value)
    scaled = int(value * 1000000.0 + 0.5)
    whole, frac = divmod(scaled, 1000000)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


_STD_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                "\b": "\\b", "\f": "\\f", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                "\u2028": "\\u2028", "\u2029": "\\u2029"}
_FASTEST_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_STD_NEEDS = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')
_FASTEST_NEEDS = re.compile('["\\\\\x00-\x1f]')


def _go_string(value: str, escapes: dict[str, str], needs: re.Pattern[str]) -> str:
    if not needs.search(value):
        return '"' + value + '"'
    return '"' + needs.sub(lambda m: escapes.get(m.group(0), f"\\u{ord(m.group(0)):04x}"),
                           value) + '"'


def go_string(value: str) -> str:
    """One string as ``encoding/json`` writes it (quotes, escapes, ``<>&`` escaped)."""
    return _go_string(value, _STD_ESCAPES, _STD_NEEDS)


def encode_std(value: Any) -> bytes:
    """Go ``encoding/json.Marshal`` of a decoded ``interface{}`` (used by the in-memory store)."""
    return _encode(value, sort_keys=True, float_fmt=go_float,
                   escapes=_STD_ESCAPES, needs=_STD_NEEDS).encode("utf-8")


def encode_fastest(value: Any) -> bytes:
    """jsoniter ``ConfigFastest.Marshal`` (used by the Redis store).

    Go iterates maps in random order, so real Dapr scrambles object keys here; statelab keeps
    the order the client sent, so that stored notebook outputs stay deterministic.
    """
    return _encode_fastest(value).encode("utf-8")


def _encode_fastest(value: Any) -> str:
    """``_encode`` specialised for ``encode_fastest`` (same output; this runs on every save)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return '"' + value + '"' if not _FASTEST_NEEDS.search(value) else \
            _go_string(value, _FASTEST_ESCAPES, _FASTEST_NEEDS)
    if isinstance(value, (int, float)):
        return _fastest_float(float(value))
    if isinstance(value, list):
        return "[" + ",".join([_encode_fastest(v) for v in value]) + "]"
    if isinstance(value, dict):
        return "{" + ",".join([_go_string(k, _FASTEST_ESCAPES, _FASTEST_NEEDS) + ":"
                               + _encode_fastest(value[k]) for k in list(value)]) + "}"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _encode(value: Any, *, sort_keys: bool, float_fmt: Callable[[float], str],
            escapes: dict[str, str], needs: re.Pattern[str]) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _go_string(value, escapes, needs)
    if isinstance(value, (int, float)):
        return float_fmt(float(value))
    if isinstance(value, list):
        return "[" + ",".join(_encode(v, sort_keys=sort_keys, float_fmt=float_fmt,
                                      escapes=escapes, needs=needs) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value) if sort_keys else list(value)
        return "{" + ",".join(
            _go_string(k, escapes, needs) + ":" + _encode(value[k], sort_keys=sort_keys,
                                                          float_fmt=float_fmt, escapes=escapes,
                                                          needs=needs)
            for k in keys) + "}"
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_std_ordered(value: Any) -> bytes:
    """``encoding/json`` for a Go *struct*: fields keep their declared order, strings escaped."""
    return _encode(value, sort_keys=False, float_fmt=go_float,
                   escapes=_STD_ESCAPES, needs=_STD_NEEDS).encode("utf-8")


def compact_raw(data: bytes) -> str:
    """How ``json.Encoder`` writes a ``json.RawMessage``: compacted and HTML-escaped.

    Raises :class:`GoJSONError` when *data* is not one valid JSON value (daprd then writes an
    empty body, spec section 6).
    """
    text = data.decode("utf-8", errors="replace")
    scanner = _Scanner(text)
    end = scanner.first_value()
    if text[end:].strip(_WHITESPACE):
        raise GoJSONError("invalid character after top-level value")
    out: list[str] = []
    in_string = False
    escaped = False
    for ch in text[:end]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            elif ch in "<>&\u2028\u2029":
                out.append(_STD_ESCAPES[ch])
                continue
            out.append(ch)
        elif ch in _WHITESPACE:
            continue
        else:
            if ch == '"':
                in_string = True
            out.append(ch)
    return "".join(out)
