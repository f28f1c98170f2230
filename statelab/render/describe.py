"""Requests in words: the sentences of tooltips and of the cursor, and the labels on bars.

Everything is said in version numbers (``v3``), the learner's way to follow a key through a
race, rather than in ETags (opaque strings that differ between stores).
"""

from __future__ import annotations

import json
from typing import Any

from statelab.analysis.history import Operation
from statelab.analysis.versions import OpFacts

__all__ = ["bar_labels", "describe", "format_ms", "outcome_class", "value_text"]


def format_ms(us: float) -> str:
    """Virtual time for people: 12.345 ms, 1.2 s past 10 s."""
    ms = us / 1000
    if abs(ms) >= 10000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.3f} ms"


def value_text(value: Any) -> str:
    """A stored value, short enough for a label (long JSON is cut)."""
    if type(value) is int:
        return str(value)
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 16 else text[:13] + "..."


def outcome_class(op: Operation) -> str:
    """``ok``, ``conflict`` (a 409), ``error`` (any other failure) or ``info`` (timed out)."""
    if op.outcome == "ok":
        return "ok"
    if op.outcome == "info":
        return "info"
    return "conflict" if op.status == 409 else "error"


def _v(number: int | None) -> str:
    return "?" if number is None else str(number)


def _describe_read(op: Operation, facts: OpFacts, attempt: str) -> str:
    head = f"{op.writer} reads {op.key}{attempt}"
    if op.outcome == "info":
        return f"{head}: timed out after {format_ms(op.latency_us)}"
    if op.outcome == "ok" and op.status == 200:
        where = f" at v{facts.seen}" if facts.seen is not None else ""
        return f"{head}: value {value_text(op.value)}{where}"
    if op.outcome == "ok":
        return f"{head}: empty ({op.status})"
    return f"{head}: {op.status} {op.error_code or ''}".rstrip()


def describe(op: Operation, facts: OpFacts) -> str:
    """One plain sentence about a request, in version numbers (used by tooltips and cursor)."""
    attempt = f" (attempt {op.attempt})" if op.attempt > 1 else ""
    if op.kind == "read":
        return _describe_read(op, facts, attempt)
    verb = "deletes" if op.kind == "delete" else f"writes {value_text(op.value)} to"
    head = f"{op.writer} {verb} {op.key}"
    if op.etag_sent is not None:
        head += f" with the ETag of v{_v(facts.expects)}"
    elif op.kind == "write":
        head += " without an ETag"
        if facts.based:
            head += f" (computed from v{facts.based})"
    head += attempt
    if op.outcome == "info":
        tail = f"timed out after {format_ms(op.latency_us)}, indeterminate"
        if facts.made is not None:
            tail += f"; the store did apply it, as v{facts.made}"
        elif facts.applied:
            tail += "; the store rejected it"
        return f"{head}: {tail}"
    if op.outcome == "ok":
        return f"{head}: {op.status}" + (f", now v{facts.made}" if facts.made is not None
                                         else "")
    tail = f"{op.status} {op.error_code or ''}".rstrip()
    if op.status == 409 and facts.store_at is not None:
        tail += f" (the key is at v{facts.store_at})"
    return f"{head}: {tail}"


def bar_labels(op: Operation, facts: OpFacts) -> tuple[str, ...]:
    """Bar labels, longest first; the renderer picks the first that fits."""
    if op.kind == "read":
        if op.outcome == "info":
            return ("timeout", "?")
        if op.outcome != "ok":
            return (str(op.status),)
        if op.status == 200:
            return (f"saw v{_v(facts.seen)}", f"v{_v(facts.seen)}")
        return ("empty", "v0")
    cls = outcome_class(op)
    result = {"ok": f"v{_v(facts.made)}", "conflict": "409", "info": "timeout",
              "error": str(op.status)}[cls]
    if op.kind == "delete":
        return (f"delete → {result}", result)
    if op.etag_sent is not None:
        return (f"expects v{_v(facts.expects)} → {result}",
                f"v{_v(facts.expects)}→{result}", result)
    if facts.based:
        return (f"from v{facts.based}, no etag → {result}", f"no etag → {result}",
                f"→{result}", result)
    return (f"no etag → {result}", f"→{result}", result)
