"""JSON the way daprd's Go code reads and writes it.

Why this exists: learners see Dapr's *exact* bytes. daprd decodes request bodies with Go's
``encoding/json`` (numbers become float64, field names match case-insensitively, only the first
value of a body is read, errors have Go's wording), and the stores re-encode values with two
different Go encoders:

* the Redis store uses jsoniter ``ConfigFastest``: floats rounded to 6 decimals, no HTML escaping,
  map keys in Go's random map order (statelab keeps the sender's order instead, so stored
  outputs stay deterministic; spec section 3.4);
* the in-memory store uses ``encoding/json``: sorted keys, shortest float form, ``<>&`` escaped.

Python's :mod:`json` does the parsing of ordinary bodies; this module adds Go's scanner error
messages, Go's type-mismatch errors for the request structs, and the two encoders. Go nests up
to :data:`MAX_DEPTH` levels and has no depth limit when it encodes, so everything here that
walks a user's value (the scanner, the decoders past the C fast path, the encoders) keeps its
own stack instead of recursing: a body as deep as daprd accepts is stored and read back whole,
and one level more is Go's ``exceeded max depth`` error, never a ``RecursionError``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from statelab.go.nested import write_nested

__all__ = [
    "ANY",
    "BOOL",
    "GoJSONError",
    "INT",
    "MAX_DEPTH",
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
    "unmarshal",
]


class GoJSONError(ValueError):
    """A decoding failure, carrying the text Go's ``encoding/json`` would have produced."""


#: Go's ``maxNestingDepth`` (encoding/json scanner.go): a body may nest arrays and objects
#: this deep; one level more is ``invalid character '[' exceeded max depth``.
MAX_DEPTH = 10000


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
    """An iterative copy of the checks in Go's ``encoding/json/scanner.go``.

    :meth:`first_value` only validates and returns where the first value ends, so trailing
    bytes can be ignored the way ``json.Decoder.Decode`` ignores them; :meth:`parse` also
    builds the value (numbers as :class:`GoNumber`). Nesting is kept on an explicit stack, not
    on Python's call stack, so a body nested as deep as Go accepts (:data:`MAX_DEPTH`) parses,
    and the next level fails with Go's own error, at the same character.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        if self.pos >= len(self.text):
            raise GoJSONError("unexpected EOF")
        return self.text[self.pos]

    def _skip_ws(self) -> None:
        text = self.text
        pos = self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def _fail(self, context: str) -> GoJSONError:
        return GoJSONError(f"invalid character {_quote_char(self.text[self.pos])} {context}")

    def first_value(self) -> int:
        self._run(build=False)
        return self.pos

    def parse(self) -> tuple[Any, int]:
        """The first value, built, and the offset where it ends."""
        return self._run(build=True), self.pos

    def _run(self, build: bool) -> Any:
        self._skip_ws()
        if self.pos >= len(self.text):
            raise GoJSONError("EOF")
        # One frame per open container: the container (None when not building) and, for an
        # object, the key its next value goes under.
        stack: list[tuple[Any, str | None]] = []
        while True:
            # -- a value starts here
            self._skip_ws()
            c = self._peek()
            if c == "{" or c == "[":
                if len(stack) >= MAX_DEPTH:  # scanner.go pushParseState
                    raise self._fail("exceeded max depth")
                self.pos += 1
                self._skip_ws()
                if c == "{":
                    if self._peek() == "}":
                        self.pos += 1
                        value: Any = {} if build else None
                    else:
                        stack.append(({} if build else None, self._object_key(build)))
                        continue
                elif self._peek() == "]":
                    self.pos += 1
                    value = [] if build else None
                else:
                    stack.append(([] if build else None, None))
                    continue
            else:
                value = self._scalar(c, build)
            # -- a value ended: hand it to the containers it closes
            while True:
                if not stack:
                    return value
                container, key = stack[-1]
                if build:
                    if key is None:
                        container.append(value)
                    else:
                        container[key] = value
                self._skip_ws()
                c = self._peek()
                if c == ",":
                    self.pos += 1
                    if key is not None:
                        self._skip_ws()
                        stack[-1] = (container, self._object_key(build))
                    break
                if key is not None and c == "}" or key is None and c == "]":
                    self.pos += 1
                    stack.pop()
                    value = container
                    continue
                raise self._fail("after object key:value pair" if key is not None
                                 else "after array element")

    def _object_key(self, build: bool) -> str:
        """The key at the current position and its colon; returns "" when not building."""
        if self._peek() != '"':
            raise self._fail("looking for beginning of object key string")
        key = self._string(build)
        self._skip_ws()
        if self._peek() != ":":
            raise self._fail("after object key")
        self.pos += 1
        return key

    def _scalar(self, c: str, build: bool) -> Any:
        if c == '"':
            return self._string(build)
        if c == "-" or c.isdigit() and c.isascii():
            start = self.pos
            self._number()
            return GoNumber(self.text[start:self.pos]) if build else None
        if c in "tfn":
            literal = {"t": "true", "f": "false", "n": "null"}[c]
            self.pos += 1
            for expected in literal[1:]:
                if self._peek() != expected:
                    raise self._fail(f"in literal {literal} (expecting '{expected}')")
                self.pos += 1
            return {"t": True, "f": False, "n": None}[c]
        raise self._fail("looking for beginning of value")

    def _string(self, build: bool) -> str:
        start = self.pos
        self.pos += 1
        text = self.text
        escaped = False
        while True:
            plain = _STRING_RUN.match(text, self.pos)
            if plain is not None:
                self.pos = plain.end()
            c = self._peek()
            if c == '"':
                self.pos += 1
                break
            if c == "\\":
                escaped = True
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
                self.pos += 1
                continue
            raise self._fail("in string literal")  # a control character
        if not build:
            return ""
        if not escaped:
            return text[start + 1:self.pos - 1]
        decoded: str = json.loads(text[start:self.pos])
        return _go_text(decoded)

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


# Characters a string may hold with no further check (no quote, backslash or control).
_STRING_RUN = re.compile('[^"\\\\\x00-\x1f]+')


def _go_text(value: str) -> str:
    """Go decodes an unpaired ``\\ud800`` escape to U+FFFD; Python keeps the surrogate."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _surrogate_leaf(value: Any) -> Any:
    return _go_text(value) if isinstance(value, str) else value


def _replace_lone_surrogates(value: Any) -> Any:
    """:func:`_go_text` on every string of a decoded value, keys included."""
    return _rebuild(value, _surrogate_leaf)


def _rebuild(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """A copy of *value* with *leaf* applied to every scalar and every key. Lists and dicts are
    walked with an explicit stack, so any depth the decoder accepted is fine here too."""
    if not isinstance(value, (list, dict)):
        return leaf(value)
    root: Any = [] if isinstance(value, list) else {}
    # Frames: (source iterator, target container, is_dict).
    stack: list[tuple[Any, Any, bool]] = [(
        iter(value.items()) if isinstance(value, dict) else iter(value), root,
        isinstance(value, dict))]
    while stack:
        source, target, is_dict = stack[-1]
        for item in source:
            key, child = item if is_dict else (None, item)
            if isinstance(child, (list, dict)):
                copy: Any = [] if isinstance(child, list) else {}
                if is_dict:
                    target[leaf(key)] = copy
                else:
                    target.append(copy)
                stack.append((iter(child.items()) if isinstance(child, dict) else iter(child),
                              copy, isinstance(child, dict)))
                break
            if is_dict:
                target[leaf(key)] = leaf(child)
            else:
                target.append(leaf(child))
        else:
            stack.pop()
    return root


@dataclass(frozen=True)
class GoNumber:
    """A JSON number kept as its literal, so a Go ``int`` field can be checked exactly."""

    literal: str

    def as_float(self) -> float:
        return float(self.literal)


def decode_first_value(body: bytes) -> Any:
    """Decode the first JSON value of *body* as ``json.Decoder.Decode`` would.

    Numbers come back as :class:`GoNumber` so that :func:`decode_into` can tell an ``int`` field
    from a float64 one, as Go does. Raises :class:`GoJSONError` with Go's message; nesting
    deeper than :data:`MAX_DEPTH` is Go's ``invalid character '[' exceeded max depth``.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        # Fast path: for valid JSON, Python's C scanner ends the first value exactly where
        # Go's scanner does, and yields the same value as the slow path below. Anything it
        # rejects, and NaN/Infinity (which Go rejects), goes to the slow path for Go's error.
        if sys.getrecursionlimit() > MAX_DEPTH:
            raise _NotGoJSONError("the C scanner would nest deeper than Go allows")
        start = len(text) - len(text.lstrip(_WHITESPACE))
        value, end = _FAST_DECODER.raw_decode(text, start)
        if text[end:end + 1] in (".", "e", "E"):
            # A top-level "1." or "1e": Python stops before the dot, Go reports an error.
            raise _NotGoJSONError(text[end])
    except (ValueError, RecursionError, _NotGoJSONError):
        # The slow path, iterative: Go's errors, and bodies nested deeper than the C scanner
        # goes (it stops at the interpreter's recursion limit; Go at MAX_DEPTH levels).
        return _Scanner(text).parse()[0]
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
            try:
                return _plain(value)
            except _FloatRangeError as exc:
                # Go saves the error with the field's context and goes on decoding
                # (decodeState.saveError, addErrorContext).
                self._mismatch(GoNumber(exc.literal), _FLOAT64, struct, path, " " + exc.literal)
                return None
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
            # At most 19 digits (JSON allows no leading zeros): a longer literal is out of
            # int64's range, and int() would refuse one of over 4300 digits anyway.
            literal = value.literal
            if re.fullmatch(r"-?\d{1,19}", literal) and -(2**63) <= int(literal) < 2**63:
                return int(literal)
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


class _FloatRangeError(GoJSONError):
    """A number beyond float64 (``1e400``, a literal of 400 digits) decoded into ``any``."""

    def __init__(self, literal: str) -> None:
        self.literal = literal
        super().__init__(f"json: cannot unmarshal number {literal} into Go value of type "
                         "float64")


_FLOAT64 = _Scalar("float64", "any")


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, GoNumber):
        number = value.as_float()
        if math.isinf(number):
            raise _FloatRangeError(value.literal)
        return number
    return value


def _plain(value: Any) -> Any:
    """Turn GoNumbers into float64 values, as decoding into ``interface{}`` does."""
    if isinstance(value, (list, dict)):
        return _rebuild(value, _plain_leaf)
    return _plain_leaf(value)


def unmarshal(data: bytes) -> Any:
    """Go's ``json.Unmarshal`` into ``interface{}``: the whole input must be one JSON value.

    Unlike :func:`decode_first_value` (``json.Decoder``), trailing bytes are an error
    (``invalid character 'x' after top-level value``) and a short input reads as
    ``unexpected end of JSON input``. daprd's gRPC ``SaveState`` uses it on values sent with
    ``contentType: application/json``."""
    text = data.decode("utf-8", errors="replace")
    try:
        end = _Scanner(text).first_value()
    except GoJSONError as exc:
        if str(exc) in ("EOF", "unexpected EOF"):
            raise GoJSONError("unexpected end of JSON input") from None
        raise
    rest = text[end:].lstrip(_WHITESPACE)
    if rest:
        raise GoJSONError(f"invalid character {_quote_char(rest[0])} after top-level value")
    return _plain(decode_first_value(data))


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


def _std_key(key: str) -> str:
    return _go_string(key, _STD_ESCAPES, _STD_NEEDS)


def _std_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _go_string(value, _STD_ESCAPES, _STD_NEEDS)
    if isinstance(value, (int, float)):
        return go_float(float(value))
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _fastest_key(key: str) -> str:
    return _go_string(key, _FASTEST_ESCAPES, _FASTEST_NEEDS)


def _fastest_scalar(value: Any) -> str:
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
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _encode(value: Any, scalar: Callable[[Any], str], key: Callable[[str], str],
            sort_keys: bool) -> str:
    """One encoder for the three Go writers (no depth limit, as Go's: see go/nested.py)."""
    if not isinstance(value, (list, dict)):
        return scalar(value)
    return write_nested(value, scalar=scalar, key=lambda name: key(name) + ":",
                        sort_keys=sort_keys)


def encode_std(value: Any) -> bytes:
    """Go ``encoding/json.Marshal`` of a decoded ``interface{}`` (used by the in-memory store)."""
    return _encode(value, _std_scalar, _std_key, True).encode("utf-8")


def encode_fastest(value: Any) -> bytes:
    """jsoniter ``ConfigFastest.Marshal`` (used by the Redis store).

    Go iterates maps in random order, so real Dapr scrambles object keys here; statelab keeps
    the order the client sent, so that stored notebook outputs stay deterministic.
    """
    return _encode_fastest(value, 0).encode("utf-8")


#: How deep :func:`_encode_fastest` recurses before it hands a subtree to the iterative
#: :func:`_encode`: ordinary values never get there, and the recursion stays far below
#: Python's limit whatever the nesting.
_RECURSION_BUDGET = 64


def _encode_fastest(value: Any, depth: int) -> str:
    """``_encode`` specialised for ``encode_fastest`` (same output; this runs on every save):
    plain recursion for the first levels, the explicit stack below them."""
    if isinstance(value, str):
        return '"' + value + '"' if not _FASTEST_NEEDS.search(value) else \
            _go_string(value, _FASTEST_ESCAPES, _FASTEST_NEEDS)
    if isinstance(value, (list, dict)):
        if depth >= _RECURSION_BUDGET:
            return _encode(value, _fastest_scalar, _fastest_key, False)
        if isinstance(value, list):
            return "[" + ",".join([_encode_fastest(v, depth + 1) for v in value]) + "]"
        return "{" + ",".join([_fastest_key(k) + ":" + _encode_fastest(value[k], depth + 1)
                               for k in list(value)]) + "}"
    return _fastest_scalar(value)


def encode_std_ordered(value: Any) -> bytes:
    """``encoding/json`` for a Go *struct*: fields keep their declared order, strings escaped."""
    return _encode(value, _std_scalar, _std_key, False).encode("utf-8")


#: A whole JSON string (group 1, kept) or a run of whitespace between tokens (dropped).
_SPACE_OUTSIDE_STRINGS = re.compile(r'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\r\n]+', re.DOTALL)
_HTML_ESCAPES = str.maketrans({ch: _STD_ESCAPES[ch] for ch in "<>&\u2028\u2029"})


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
    # Valid JSON has whitespace only between tokens and <, >, &, U+2028 and U+2029 only
    # inside strings, so two passes in C do it (no Python step per character: a 4 MiB value
    # would hold the GIL, and so /v1.0/healthz, for a third of a second): drop whitespace runs
    # outside strings (a string matches whole and is put back), then escape those characters.
    return _SPACE_OUTSIDE_STRINGS.sub(r"\1", text[:end]).translate(_HTML_ESCAPES)
