"""One replay of a history: which requests the store applied, and the versions they made.

Every checker and every drawing asks the same questions of a history: was this write
applied? which version did that read see? which version did this write expect, which was it
computed from, and which did it create? :func:`replay` answers them once, in one way, so a lost
update the report counts is the same one the timeline outlines, with the same number.

Version numbers count the applied writes to a key since it was last deleted (0 = empty), which
is what the Redis store's ETags count too. Each version made by a write also remembers the
version its value was computed from, so the versions of a key form a tree
(:meth:`Version.erased` walks it to name the writes a lost update dropped).

A read's version is the key's version when the store applied the read: right for one store
(Redis, in-memory); a replica may serve an older one, which the consistency checks read from the
read's ETag instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statelab.analysis.history import History, Operation

__all__ = ["OpFacts", "Replay", "Version", "applied_ok", "replay"]


def applied_ok(op: Operation) -> bool:
    """Did the store apply this write (whatever the client saw)?"""
    status = op.applied_status if op.applied_status is not None else op.status
    if op.outcome == "info" and op.applied_status is None:
        return False
    return status is not None and 200 <= status < 300


@dataclass(slots=True)
class OpFacts:
    """What the store lane knows about one operation, in version numbers."""

    seen: int | None = None        # reads: the version read (0 = the key was empty)
    expects: int | None = None     # writes: the version of the ETag sent
    based: int | None = None       # writes: the version the value was computed from
    store_at: int | None = None    # the key's version when the store applied the request
    made: int | None = None        # writes: the version this write created
    applied: bool = False


@dataclass(slots=True)
class Version:
    """One state of a key: made by a write (or a delete, or none: the empty start).

    *based* is the version the write's value was computed from (its parent in the key's tree;
    None for an empty key's start and after a delete), *replaced* the version it overwrote.
    """

    key: str
    number: int
    value: Any
    time_us: int
    index: int | None  # the operation that made it (None for "empty")
    based: Version | None = field(default=None, repr=False, compare=False)
    replaced: Version | None = field(default=None, repr=False, compare=False)
    depth: int = field(default=0, repr=False, compare=False)

    def erased(self) -> list[Version]:
        """The versions this write dropped, oldest first: those in the lineage of the version it
        replaced that the lineage of the version it was computed from does not contain."""
        if self.replaced is None or self.based is None:
            return []
        lost: list[Version] = []
        replaced, based = self.replaced, self.based
        while replaced.depth > based.depth:
            lost.append(replaced)
            replaced = _parent(replaced)
        while based.depth > replaced.depth:
            based = _parent(based)
        while replaced is not based and replaced.based is not None:
            lost.append(replaced)
            replaced, based = replaced.based, _parent(based)
        return lost[::-1]


def _parent(version: Version) -> Version:
    assert version.based is not None, "only a start (depth 0) has no parent"
    return version.based


class Replay:
    """The store's side of a history: versions per key, and each request in version numbers.

    Operations are taken in the store's apply order (``applied_order``); a live history has
    none, so the time its answer arrived stands in for it, and :attr:`store_order` is False.
    """

    def __init__(self, history: History) -> None:
        self.facts: dict[int, OpFacts] = {}
        #: Per key, every version in the order the store made them (starting with "empty").
        self.versions: dict[str, list[Version]] = {}
        #: The versions writes made (not the empty starts nor deletes), in the store's order.
        self.writes: list[Version] = []
        ops = list(history.operations)
        self.store_order = any(op.applied_order is not None for op in ops)
        if self.store_order:
            order = sorted((op for op in ops if op.applied_order is not None),
                           key=lambda op: op.applied_order or 0)
        else:  # a live history: the best guess is the time the answer arrived
            order = sorted((op for op in ops if op.outcome != "info"),
                           key=lambda op: (op.applied_us if op.applied_us is not None
                                           else op.complete_us, op.index))
        self._etag_version: dict[tuple[str, str], int] = {}
        #: Per key, the versions since the last delete, by number (so [0] is the start).
        self._current: dict[str, list[Version]] = {}
        first_time = min((op.invoke_us for op in ops), default=0)
        for op in ops:
            if op.key not in self.versions:
                start = Version(op.key, 0, None, first_time, None)
                self.versions[op.key] = [start]
                self._current[op.key] = [start]
        for op in order:
            self._apply(op)
        for op in ops:  # writes never applied still show what they expected
            if op.index not in self.facts:
                self.facts[op.index] = OpFacts(expects=self._version_of(op.key, op.etag_sent),
                                               based=self._version_of(op.key, op.based_on))

    def _apply(self, op: Operation) -> None:
        chain = self._current[op.key]
        head = chain[-1]
        facts = self.facts[op.index] = OpFacts(store_at=head.number, applied=True)
        if op.kind == "read":
            if op.etag_returned is not None:
                self._etag_version[(op.key, op.etag_returned)] = head.number
                facts.seen = head.number
            elif (op.status or 0) == 204 or (op.applied_status or 0) == 204:
                facts.seen = 0
            return
        facts.expects = self._version_of(op.key, op.etag_sent)
        facts.based = self._version_of(op.key, op.based_on)
        if op.based_on is None and op.etag_sent is None:
            facts.based = 0
        if not applied_ok(op):
            return
        time = op.applied_us if op.applied_us is not None else op.complete_us
        if op.kind == "write":
            # A value computed from an unknown version counts as computed from nothing.
            based = chain[facts.based] if facts.based is not None and facts.based < len(chain) \
                else chain[0]
            version = Version(op.key, head.number + 1, op.value, time, op.index, based=based,
                              replaced=head, depth=based.depth + 1)
            facts.made = version.number
            chain.append(version)
            self.writes.append(version)
        else:  # a delete: the key starts again from empty
            version = Version(op.key, 0, None, time, op.index)
            self._current[op.key] = [version]
        self.versions[op.key].append(version)

    def _version_of(self, key: str, etag: str | None) -> int | None:
        if etag is None:
            return None
        known = self._etag_version.get((key, etag))
        if known is not None:
            return known
        return int(etag) if etag.isdigit() else None


def replay(history: History) -> Replay:
    """Replay *history* on the store's side (see :class:`Replay`)."""
    return Replay(history)
