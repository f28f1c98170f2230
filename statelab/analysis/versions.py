"""One replay of a history: which requests the store applied, and the versions they made.

Every checker and every drawing asks the same questions of a history: was this write
applied? which version did that read see? which version did this write expect, and which did
it create? :func:`replay` answers them once, in one way, so a lost update the report counts is
the same one the timeline outlines.

Version numbers count the applied writes to a key since it was last deleted (0 = empty), which
is what the Redis store's ETags count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statelab.analysis.history import History, Operation

__all__ = ["OpFacts", "Replay", "Version", "applied_ok", "replay"]


def applied_ok(op: Operation) -> bool:
    """Did the store apply this write (whatever the client saw)?"""
    status = op.applied_status if op.applied_status is not None else op.status
    if op.outcome == "info" and op.applied_status is None:
        return False
    return status is not None and 200 <= status < 300


@dataclass
class OpFacts:
    """What the store lane knows about one operation, in version numbers."""

    seen: int | None = None        # reads: the version read (0 = the key was empty)
    expects: int | None = None     # writes: the version of the ETag sent
    based: int | None = None       # writes: the version the value was computed from
    store_at: int | None = None    # the key's version when the store applied the request
    made: int | None = None        # writes: the version this write created
    applied: bool = False


@dataclass
class Version:
    key: str
    number: int
    value: Any
    time_us: int
    index: int | None  # the write that made it (None for "empty")


class Replay:
    """The store's side of a history: versions per key, and each request in version numbers.

    Operations are taken in the store's apply order (``applied_order``); a live history has
    none, so the time its answer arrived stands in for it.
    """

    def __init__(self, history: History) -> None:
        self.facts: dict[int, OpFacts] = {}
        self.versions: dict[str, list[Version]] = {}
        ops = list(history.operations)
        if any(op.applied_order is not None for op in ops):
            order = sorted((op for op in ops if op.applied_order is not None),
                           key=lambda op: op.applied_order)  # type: ignore[arg-type,return-value]
        else:  # a live history: the best guess is the time the answer arrived
            order = sorted((op for op in ops if op.outcome != "info"),
                           key=lambda op: (op.applied_us if op.applied_us is not None
                                           else op.complete_us, op.index))
        etag_version: dict[tuple[str, str], int] = {}
        current: dict[str, int] = {}
        first_time = min((op.invoke_us for op in ops), default=0)
        for op in ops:
            if op.key not in self.versions:
                self.versions[op.key] = [Version(op.key, 0, None, first_time, None)]
        for op in order:
            facts = self.facts.setdefault(op.index, OpFacts())
            now = current.get(op.key, 0)
            facts.store_at = now
            facts.applied = True
            if op.kind == "read":
                if op.etag_returned is not None:
                    etag_version[(op.key, op.etag_returned)] = now
                    facts.seen = now
                elif (op.status or 0) == 204 or (op.applied_status or 0) == 204:
                    facts.seen = 0
                continue
            facts.expects = self._version_of(op.key, op.etag_sent, etag_version)
            facts.based = self._version_of(op.key, op.based_on, etag_version)
            if op.based_on is None and op.etag_sent is None:
                facts.based = 0
            if op.kind == "write" and applied_ok(op):
                current[op.key] = now + 1
                facts.made = now + 1
                time = op.applied_us if op.applied_us is not None else op.complete_us
                self.versions[op.key].append(Version(op.key, now + 1, op.value, time, op.index))
            elif op.kind == "delete" and applied_ok(op):
                current[op.key] = 0
                time = op.applied_us if op.applied_us is not None else op.complete_us
                self.versions[op.key].append(Version(op.key, 0, None, time, op.index))
        for op in ops:  # writes never applied still show what they expected
            if op.index not in self.facts:
                self.facts[op.index] = OpFacts(
                    expects=self._version_of(op.key, op.etag_sent, etag_version),
                    based=self._version_of(op.key, op.based_on, etag_version))

    @staticmethod
    def _version_of(key: str, etag: str | None, known: dict[tuple[str, str], int]) -> int | None:
        if etag is None:
            return None
        if (key, etag) in known:
            return known[(key, etag)]
        return int(etag) if etag.isdigit() else None


def replay(history: History) -> Replay:
    """Replay *history* on the store's side (see :class:`Replay`)."""
    return Replay(history)
