"""Requests in words: outcome classes, sentences in version numbers, bar labels."""

from __future__ import annotations

from typing import Any

from statelab.analysis.history import Operation
from statelab.analysis.versions import OpFacts
from statelab.render.describe import bar_labels, describe, format_ms, outcome_class, value_text


def op(outcome: str = "ok", status: int | None = 204, **fields: Any) -> Operation:
    values: dict[str, Any] = dict(index=0, process=0, kind="write", key="k", invoke_us=0,
                                  complete_us=1, outcome=outcome, status=status, value=3)
    values.update(fields)
    return Operation(**values)


def test_outcome_classes() -> None:
    assert outcome_class(op("ok", 204)) == "ok"
    assert outcome_class(op("fail", 409)) == "conflict"
    assert outcome_class(op("fail", 500)) == "error"
    assert outcome_class(op("info", None)) == "info"


def test_sentences_speak_in_versions() -> None:
    write = op(etag_sent="2")
    assert describe(write, OpFacts(expects=2, made=3)) == \
        "A writes 3 to k with the ETag of v2: 204, now v3"
    conflict = op("fail", 409, etag_sent="2", error_code="ERR_STATE_SAVE", attempt=2)
    assert describe(conflict, OpFacts(expects=2, store_at=4)) == \
        "A writes 3 to k with the ETag of v2 (attempt 2): 409 ERR_STATE_SAVE (the key is at v4)"
    read = op(kind="read", status=200)
    assert describe(read, OpFacts(seen=5)) == "A reads k: value 3 at v5"
    lost = op("info", None, complete_us=7000)
    assert describe(lost, OpFacts(based=1)).startswith(
        "A writes 3 to k without an ETag (computed from v1): timed out after 7.000 ms")


def test_labels_longest_first() -> None:
    assert bar_labels(op(etag_sent="1"), OpFacts(expects=1, made=2)) == \
        ("expects v1 → v2", "v1→v2", "v2")
    assert bar_labels(op(), OpFacts(based=1, made=2))[0] == "from v1, no etag → v2"
    assert bar_labels(op(kind="read", status=204), OpFacts()) == ("empty", "v0")
    assert bar_labels(op("fail", 409, kind="delete"), OpFacts()) == ("delete → 409", "409")


def test_values_and_times_for_people() -> None:
    assert value_text(12) == "12"
    assert value_text({"b": 1, "a": "x"}) == '{"a":"x","b":1}'
    assert value_text("a" * 40).endswith("...") and len(value_text("a" * 40)) == 16
    assert format_ms(12_345) == "12.345 ms" and format_ms(12_345_000) == "12.35 s"
