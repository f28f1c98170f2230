"""go/nested.py: one walk for every Go writer, at any depth, with the writer's punctuation."""

from __future__ import annotations

import json
from typing import Any

from statelab.go.nested import write_nested


def _json(value: Any, sort_keys: bool = False) -> str:
    return write_nested(value, scalar=json.dumps, key=lambda k: json.dumps(k) + ":",
                        sort_keys=sort_keys)


def test_it_writes_what_json_writes() -> None:
    value = {"b": [1, {"c": None}, []], "a": {}, "d": "x"}
    assert _json(value) == json.dumps(value, separators=(",", ":"))
    assert _json(value, sort_keys=True) == json.dumps(value, separators=(",", ":"),
                                                      sort_keys=True)
    assert _json(7) == "7"


def test_depth_is_no_limit() -> None:
    deep: Any = 1
    for _ in range(20_000):  # twice Go's decoder limit, far past Python's recursion limit
        deep = [deep]
    assert _json(deep) == "[" * 20_000 + "1" + "]" * 20_000


def test_fmt_punctuation() -> None:
    written = write_nested({"b": [1, 2], "a": None}, scalar=str, key=lambda k: f"{k}:",
                           sort_keys=True, map_open="map[", map_close="]", separator=" ")
    assert written == "map[a:None b:[1 2]]"
