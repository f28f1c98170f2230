"""Checks over a race history: lost updates, final value, conflicts, retries, latency.

Each anomaly comes with one plain sentence in the style of Elle's explanations, for example
"writer B overwrote version 4 with a value computed from version 3; writer C's increment is
lost". Version numbers count the successful writes to a key in the order the store applied
them, which is exactly the ETag on Dapr's Redis store.

The checks read only the history (which can come from JSON), never a live store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from statelab.analysis.history import History, Operation
from statelab.analysis.versions import applied_ok

__all__ = ["Anomaly", "RaceReport", "analyse", "lost_updates"]


@dataclass(frozen=True)
class Anomaly:
    """One lost update: which write erased which versions, and whose increments vanished."""

    key: str
    write_index: int
    overwritten_version: int
    based_on_version: int
    lost_writers: tuple[str, ...]
    lost_indexes: tuple[int, ...]
    time_us: int

    def sentence(self, writer: str) -> str:
        names = list(self.lost_writers)
        if not names:
            whose = "no other increment is lost"
        elif len(names) == 1:
            whose = f"writer {names[0]}'s increment is lost"
        else:
            listed = ", ".join(names[:-1]) + f" and {names[-1]}"
            whose = f"the increments of writers {listed} are lost"
        based = (f"version {self.based_on_version}" if self.based_on_version
                 else "an empty key")
        return (f"writer {writer} overwrote version {self.overwritten_version} of {self.key} "
                f"with a value computed from {based}; {whose}")


def lost_updates(history: History) -> list[tuple[Anomaly, str]]:
    """Every successful write computed from an older version than the one it replaced.

    Each version of a key is the version it was computed from plus one write, so versions form
    a tree; a write that replaces version *c* with a value computed from version *b* drops the
    writes on *c*'s branch above their common ancestor. Those writers' increments are named
    (a later write computed from an older version can bring one back; :func:`analyse` counts
    the increments really missing from the final value). Returns (anomaly, sentence) pairs in
    the order the store applied the writes.
    """
    applied = sorted((op for op in history if op.applied_order is not None),
                     key=lambda op: op.applied_order)  # type: ignore[arg-type, return-value]
    tree = _VersionTree()
    current: dict[str, int] = {}
    etag_version: dict[tuple[str, str], int] = {}
    found: list[tuple[Anomaly, str]] = []
    for op in applied:
        head = current.get(op.key, 0)
        if op.kind == "read":
            if op.etag_returned is not None:
                etag_version[(op.key, op.etag_returned)] = head
            continue
        if op.kind != "write" or not (applied_ok(op) and op.applied_order is not None):
            continue
        based = 0 if op.based_on is None else etag_version.get((op.key, op.based_on), 0)
        dropped = tree.dropped(op.key, head, based)
        if dropped:
            anomaly = Anomaly(key=op.key, write_index=op.index, overwritten_version=head,
                              based_on_version=based,
                              lost_writers=tuple(dict.fromkeys(w.writer for w in dropped)),
                              lost_indexes=tuple(w.index for w in dropped),
                              time_us=op.applied_us or op.complete_us)
            found.append((anomaly, anomaly.sentence(op.writer)))
        current[op.key] = tree.add(op.key, based, op)
    return found


class _VersionTree:
    """Versions of each key: number -> (parent number, depth, the write that made it)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[str, int], tuple[int, int, Operation]] = {}
        self.count: dict[str, int] = {}

    def depth(self, key: str, version: int) -> int:
        return 0 if version == 0 else self.nodes[(key, version)][1]

    def parent(self, key: str, version: int) -> int:
        return self.nodes[(key, version)][0]

    def add(self, key: str, based: int, op: Operation) -> int:
        number = self.count.get(key, 0) + 1
        self.count[key] = number
        self.nodes[(key, number)] = (based, self.depth(key, based) + 1, op)
        return number

    def dropped(self, key: str, head: int, based: int) -> list[Operation]:
        """The writes on *head*'s lineage that *based*'s lineage does not contain."""
        out: list[Operation] = []
        a, b = head, based
        while self.depth(key, a) > self.depth(key, b):
            out.append(self.nodes[(key, a)][2])
            a = self.parent(key, a)
        while self.depth(key, b) > self.depth(key, a):
            b = self.parent(key, b)
        while a != b:
            out.append(self.nodes[(key, a)][2])
            a, b = self.parent(key, a), self.parent(key, b)
        return list(reversed(out))

    def lineage(self, key: str, version: int) -> set[int]:
        indexes: set[int] = set()
        while version:
            parent, _, op = self.nodes[(key, version)]
            indexes.add(op.index)
            version = parent
        return indexes


def _percentile(values: list[int], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[rank] / 1000


@dataclass
class RaceReport:
    """What happened in a race, as numbers and sentences."""

    expected: int
    final: dict[str, int]
    successes: int
    given_up: int
    conflicts: int
    other_failures: int
    indeterminate: int
    retries: int
    attempts: dict[int, int]
    duration_ms: float
    latency_p50_ms: float
    latency_p99_ms: float
    anomalies: list[str] = field(default_factory=list)
    first_anomaly_index: int | None = None
    live: bool = False

    @property
    def final_total(self) -> int:
        return sum(self.final.values())

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.final_total)

    @property
    def retries_per_success(self) -> float:
        return self.retries / self.successes if self.successes else 0.0

    @property
    def throughput_per_s(self) -> float:
        return self.successes / (self.duration_ms / 1000) if self.duration_ms else 0.0

    def lines(self) -> list[str]:
        rows = [
            f"final value {self.final_total}, expected {self.expected}"
            + (f" ({self.lost} increment(s) lost)" if self.lost else "")
            + (f" ({self.final_total - self.expected} applied twice)"
               if self.final_total > self.expected else ""),
            f"lost updates: {len(self.anomalies)}" if not self.live else
            "lost updates: not named in a live run (the store's order is unknown); "
            "compare the final value with the expected one",
            f"successful increments: {self.successes}, given up: {self.given_up}",
            f"conflicts (409): {self.conflicts}, other errors: {self.other_failures}, "
            f"indeterminate: {self.indeterminate}",
            f"retries: {self.retries} ({self.retries_per_success:.2f} per success)",
            "attempts per success: " + (", ".join(f"{n}x{count}" for n, count in
                                                  sorted(self.attempts.items())) or "-"),
            f"virtual time {self.duration_ms:.1f} ms, throughput "
            f"{self.throughput_per_s:.0f} increments/s, latency p50 {self.latency_p50_ms:.1f} ms"
            f" p99 {self.latency_p99_ms:.1f} ms",
        ]
        return rows + self.anomalies

    def text(self) -> str:
        return "\n".join(self.lines())


def analyse(history: History) -> RaceReport:
    """Compute the :class:`RaceReport` of a race history."""
    writes = [op for op in history if op.kind == "write"]
    final: dict[str, int] = {}
    last_order: dict[str, int] = {}
    for op in writes:
        if (applied_ok(op) and op.applied_order is not None) and op.applied_order is not None:
            if op.applied_order >= last_order.get(op.key, -1):
                last_order[op.key] = op.applied_order
                final[op.key] = int(op.value) if isinstance(op.value, (int, float)) else 0
    live = bool(history.meta.get("live"))
    if live and "final_values" in history.meta:
        # A live history: the store's order is unknown, the final values were read at the end.
        final = {k: int(v) for k, v in history.meta["final_values"].items()}
    successes = [op for op in writes if op.outcome == "ok"]
    increments = _increments(writes)
    given_up = sum(1 for attempts in increments.values()
                   if not any(op.outcome == "ok" for op in attempts))
    anomalies = lost_updates(history)
    latencies = [op.latency_us for op in history if op.outcome != "info"]
    attempts = Counter(op.attempt for op in successes)
    return RaceReport(
        expected=len(successes),
        final=dict(sorted(final.items())),
        successes=len(successes),
        given_up=given_up,
        conflicts=sum(1 for op in writes if op.status == 409),
        other_failures=sum(1 for op in writes if op.outcome == "fail" and op.status != 409),
        indeterminate=sum(1 for op in history if op.outcome == "info"),
        retries=sum(1 for op in writes if op.attempt > 1),
        attempts=dict(sorted(attempts.items())),
        duration_ms=history.duration_us / 1000,
        latency_p50_ms=_percentile(latencies, 0.5),
        latency_p99_ms=_percentile(latencies, 0.99),
        anomalies=[sentence for _, sentence in anomalies],
        first_anomaly_index=anomalies[0][0].write_index if anomalies else None,
        live=live,
    )


def _increments(writes: Iterable[Operation]) -> dict[tuple[int, int], list[Operation]]:
    grouped: dict[tuple[int, int], list[Operation]] = {}
    for op in writes:
        grouped.setdefault((op.process, op.increment), []).append(op)
    return grouped

