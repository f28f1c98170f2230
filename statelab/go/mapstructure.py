"""mitchellh/mapstructure as daprd uses it for a transaction operation's ``request``.

daprd decodes each operation's ``request`` (already JSON-decoded into ``map[string]any``) into a
Go struct with mapstructure: field names match case-insensitively, there is no weak typing,
unknown fields are ignored, and every problem is collected into one error whose text is
``N error(s) decoding:`` followed by a bullet per problem (spec 7.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from statelab.go.json import go_float

__all__ = ["FieldKind", "MapstructureError", "decode"]

#: How a struct field decodes: a string, any JSON value, a ``map[string]string``, or the
#: ``options`` struct (``concurrency`` and ``consistency`` strings).
FieldKind = Literal["string", "any", "map", "options"]

_OPTION_FIELDS = ("concurrency", "consistency")


class MapstructureError(Exception):
    """mapstructure's error; ``str()`` is its exact text."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"* {p}" for p in problems)
        super().__init__(f"{len(problems)} error(s) decoding:\n\n{lines}")


def _go_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "nil"


def _go_value(value: Any) -> str:
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unconvertible(name: str, value: Any) -> str:
    return (f"'{name}' expected type 'string', got unconvertible type '{_go_kind(value)}', "
            f"value: '{_go_value(value)}'")


def _decode_map(name: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        kind = _go_kind(value).split("[")[0] or "slice"
        problems.append(f"'{name}' expected a map, got '{kind}'")
        return None
    bad = [k for k, v in value.items() if not isinstance(v, str)]
    for k in bad:
        problems.append(_unconvertible(f"{name}[{k}]", value[k]))
    return None if bad else value


def _decode_options(name: str, value: Any, problems: list[str]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        problems.append(f"'{name}' expected a map, got '{_go_kind(value)}'")
        return None
    options: dict[str, str] = {}
    for key, option in value.items():
        field = next((f for f in _OPTION_FIELDS if f == key.lower()), None)
        if field is None:
            continue
        if isinstance(option, str):
            options[field] = option
        elif option is not None:
            problems.append(_unconvertible(f"{name}.{field.capitalize()}", option))
    return options


def decode(raw: Any, schema: Mapping[str, FieldKind]) -> dict[str, Any]:
    """Decode *raw* into the struct *schema* describes; raises :class:`MapstructureError`.

    ``null`` decodes to an empty struct. Keys of the result are the schema's field names.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MapstructureError([f"'' expected a map, got '{_go_kind(raw)}'"])
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = next((f for f in schema if f.lower() == key.lower()), None)
        if name is None:
            continue
        kind = schema[name]
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
