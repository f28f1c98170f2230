"""Writing a nested value without recursion, for each of Go's writers statelab reproduces.

Go's ``encoding/json`` and jsoniter encoders and ``fmt``'s ``%v`` have no depth limit, and a
request may nest as deep as Go's decoder allows (10000 levels), far beyond Python's recursion
limit. :func:`write_nested` walks lists and dicts with an explicit stack once; each writer
supplies only its punctuation and how it spells a scalar and a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["write_nested"]

_END = object()


def write_nested(value: Any, *, scalar: Callable[[Any], str], key: Callable[[Any], str],
                 sort_keys: bool, map_open: str = "{", map_close: str = "}",
                 separator: str = ",") -> str:
    """*value* written out: a dict as ``map_open`` + ``key(k)`` + value ... + ``map_close``,
    a list in brackets, items apart by *separator*, anything else as ``scalar(value)``.
    ``key`` returns everything before a map item's value (``"name":`` or ``name:``)."""
    parts: list[str] = []
    append = parts.append
    # Frames: [iterator over items, is a dict, no item written yet].
    stack: list[list[Any]] = []
    child: Any = value
    while True:
        if isinstance(child, dict):
            append(map_open)
            items = sorted(child.items()) if sort_keys else list(child.items())
            stack.append([iter(items), True, True])
        elif isinstance(child, list):
            append("[")
            stack.append([iter(child), False, True])
        else:
            append(scalar(child))
        while stack:
            frame = stack[-1]
            item: Any = next(frame[0], _END)
            if item is _END:
                append(map_close if frame[1] else "]")
                stack.pop()
                continue
            if frame[2]:
                frame[2] = False
            else:
                append(separator)
            if frame[1]:
                append(key(item[0]))
                child = item[1]
            else:
                child = item
            break
        else:
            return "".join(parts)
