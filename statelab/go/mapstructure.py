"""mitchellh/mapstructure as daprd uses it for a transaction operation's ``request``.

daprd decodes each operation's ``request`` (already JSON-decoded into ``map[string]any``) into a
Go struct with mapstructure: field names match case-insensitively, there is no weak typing,
unknown fields are ignored, and every problem is collected into one error whose text is
``N error(s) decoding:`` followed by a bullet per problem (spec 7.1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from statelab.go.nested import write_nested

__all__ = ["FieldKind", "MapstructureError", "decode", "go_g", "go_v"]

#: How a struct field decodes: a string, any JSON value, a ``map[string]string``, or the
#: ``options`` struct (``concurrency`` and ``consistency`` strings).
FieldKind = Literal["string", "any", "map", "options"]

#: The options structs' Go fields (``SetStateOption``, ``DeleteStateOption``).
_OPTION_FIELDS = ("Concurrency", "Consistency")


class MapstructureError(Exception):
    """mapstructure's error; ``str()`` is its exact text."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        # mapstructure's Error.Error() sorts its bullet points (error.go).
        lines = "\n".join(sorted(f"* {p}" for p in problems))
        super().__init__(f"{len(problems)} error(s) decoding:\n\n{lines}")


def _go_kind(value: Any) -> str:
    """``reflect.Type.String()`` of a decoded JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):  # JSON numbers decode to float64
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "nil"


def _reflect_kind(value: Any) -> str:
    """``reflect.Kind.String()``, as "expected a map, got '...'" names it."""
    if isinstance(value, list):
        return "slice"
    if isinstance(value, dict):
        return "map"
    return _go_kind(value)


def go_g(value: float) -> str:
    """``fmt``'s ``%v`` of a float64: ``strconv.FormatFloat(v, 'g', -1, 64)``, the shortest
    digits, in exponent form when the exponent is below -4 or at least 6 (``1e+06``)."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)  # finite: Decimal's exponent is an int
    point = len(digits) + exponent  # where the decimal point goes, counted from the left
    x = point - 1
    minus = "-" if sign else ""
    if x < -4 or x >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


def go_v(value: Any) -> str:
    """``fmt``'s ``%v`` of a decoded JSON value: ``map[a:1 b:[x y]]``, ``<nil>``, ``1e+21``.

    Maps print with sorted keys, as fmt sorts them; a request may nest as deep as Go's
    decoder allows (10000 levels), so the walk is go/nested.py's, without recursion."""
    return write_nested(value, scalar=_v_scalar, key=lambda name: f"{name}:", sort_keys=True,
                        map_open="map[", map_close="]", separator=" ")


def _v_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_g(float(value))
    return "<nil>" if value is None else str(value)


def _unconvertible(name: str, value: Any) -> str:
    return (f"'{name}' expected type 'string', got unconvertible type '{_go_kind(value)}', "
            f"value: '{go_v(value)}'")


def _decode_map(name: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        problems.append(f"'{name}' expected a map, got '{_reflect_kind(value)}'")
        return None
    # A null entry decodes to "" (mapstructure leaves the zero value), without an error.
    bad = [k for k, v in value.items() if v is not None and not isinstance(v, str)]
    for k in bad:
        problems.append(_unconvertible(f"{name}[{k}]", value[k]))
    return None if bad else {k: v or "" for k, v in value.items()}


def _decode_options(name: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        problems.append(f"'{name}' expected a map, got '{_reflect_kind(value)}'")
        return None
    options: dict[str, str] = {}
    for field in _OPTION_FIELDS:  # struct field order, each matched case-insensitively
        key = next((k for k in value if k.lower() == field.lower()), None)
        if key is None:
            continue
        option = value[key]
        if isinstance(option, str):
            options[field.lower()] = option
        elif option is not None:
            problems.append(_unconvertible(f"{name}.{field}", option))
    return options


def decode(raw: Any, schema: Mapping[str, FieldKind]) -> dict[str, Any]:
    """Decode *raw* into the struct *schema* describes; raises :class:`MapstructureError`.

    *schema* names the struct's Go fields in their order (``Key``, ``ETag``, ...): with no
    ``mapstructure`` tags on daprd's request structs, these are the names its errors use
    (``'ETag' expected type 'string' ...``). Each is matched exactly, then case-insensitively
    (``decodeStructFromMap``). ``null`` decodes to an empty struct. Keys of the result are the
    schema's field names.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MapstructureError([f"'' expected a map, got '{_reflect_kind(raw)}'"])
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, kind in schema.items():
        key = name if name in raw else next((k for k in raw if k.lower() == name.lower()), None)
        if key is None:
            continue
        value = raw[key]
        if value is None or kind == "any":
            out[name] = value
        elif kind == "string":
            if isinstance(value, str):
                out[name] = value
            else:
                problems.append(_unconvertible(name, value))
        elif kind == "map":
            decoded = _decode_map(name, value, problems)
            if decoded is not None:
                out[name] = decoded
        else:
            options = _decode_options(name, value, problems)
            if options is not None:
                out[name] = options
    if problems:
        raise MapstructureError(problems)
    return out
