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
from statelab.analysis.stats import percentile_ms
from statelab.analysis.versions import Replay, Version, replay

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


def lost_updates(history: History, *, story: Replay | None = None
                 ) -> list[tuple[Anomaly, str]]:
    """Every applied write that erased, for good, increments missing from the final value.

    A write that replaces version *c* with a value computed from version *b* drops the writes on
    *c*'s branch of the key's version tree above their common ancestor (see
    :meth:`~statelab.analysis.versions.Version.erased`). A later write computed from an older
    version can bring a dropped write back, so each write missing from the final value is
    charged to the *last* write that dropped it, and only there: every missing increment is
    named exactly once, and the named ones add up to the report's "increments lost". Returns
    (anomaly, sentence) pairs in the order the store applied the writes; none for a live
    history, whose store order is unknown. Pass *story* when the history's
    :func:`~statelab.analysis.versions.replay` is at hand.
    """
    story = replay(history) if story is None else story
    if not story.store_order:
        return []
    missing = _missing_from_final(story)
    charged: dict[int, int] = {}  # a missing write's index -> the position of its last eraser
    erased_by = [version.erased() for version in story.writes]
    for position, erased in enumerate(erased_by):
        for lost in erased:
            if lost.index is not None and lost.index in missing:
                charged[lost.index] = position
    by_index = {op.index: op for op in history}
    found: list[tuple[Anomaly, str]] = []
    for position, (version, erased) in enumerate(zip(story.writes, erased_by, strict=True)):
        dropped = [by_index[lost.index] for lost in erased
                   if lost.index is not None and charged.get(lost.index) == position]
        if not dropped:
            continue
        assert version.index is not None and version.replaced is not None  # made by a write
        assert version.based is not None
        anomaly = Anomaly(key=version.key, write_index=version.index,
                          overwritten_version=version.replaced.number,
                          based_on_version=version.based.number,
                          lost_writers=tuple(dict.fromkeys(op.writer for op in dropped)),
                          lost_indexes=tuple(op.index for op in dropped),
                          time_us=version.time_us)
        found.append((anomaly, anomaly.sentence(by_index[version.index].writer)))
    return found


def _missing_from_final(story: Replay) -> set[int]:
    """The writes whose increment is not in their key's final value: those off the lineage of
    the key's last version."""
    kept: set[int] = set()
    for versions in story.versions.values():
        version: Version | None = versions[-1]
        while version is not None:
            if version.index is not None:
                kept.add(version.index)
            version = version.based
    return {v.index for v in story.writes if v.index is not None and v.index not in kept}


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
    #: The increments the anomalies name, together (each missing increment is named once).
    erased: int = 0
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
            self._lost_updates_line() if not self.live else
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

    def _lost_updates_line(self) -> str:
        """How many writes lost increments, reconciled with the line above it."""
        count = len(self.anomalies)
        if not count:
            return "lost updates: 0"
        writes = "1 write" if count == 1 else f"{count} writes"
        increments = "1 increment" if self.erased == 1 else f"{self.erased} increments"
        same = " (the ones missing above)" if self.erased == self.lost else ""
        return (f"lost updates: {writes} overwrote a newer version than the one they were "
                f"computed from, erasing {increments}{same}; each below, in the store's order")

    def text(self) -> str:
        return "\n".join(self.lines())


def analyse(history: History) -> RaceReport:
    """Compute the :class:`RaceReport` of a race history."""
    story = replay(history)
    writes = [op for op in history if op.kind == "write"]
    final: dict[str, int] = {}
    if story.store_order:  # the value of each written key after the store's last request
        for key in dict.fromkeys(version.key for version in story.writes):
            last = story.versions[key][-1].value
            final[key] = int(last) if isinstance(last, (int, float)) else 0
    live = bool(history.meta.get("live"))
    if live and "final_values" in history.meta:
        # A live history: the store's order is unknown, the final values were read at the end.
        final = {k: int(v) for k, v in history.meta["final_values"].items()}
    successes = [op for op in writes if op.outcome == "ok"]
    increments = _increments(writes)
    given_up = sum(1 for attempts in increments.values()
                   if not any(op.outcome == "ok" for op in attempts))
    anomalies = lost_updates(history, story=story)
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
        latency_p50_ms=percentile_ms(latencies, 0.5),
        latency_p99_ms=percentile_ms(latencies, 0.99),
        anomalies=[sentence for _, sentence in anomalies],
        erased=sum(len(anomaly.lost_indexes) for anomaly, _ in anomalies),
        first_anomaly_index=anomalies[0][0].write_index if anomalies else None,
        live=live,
    )


def _increments(writes: Iterable[Operation]) -> dict[tuple[int, int], list[Operation]]:
    grouped: dict[tuple[int, int], list[Operation]] = {}
    for op in writes:
        grouped.setdefault((op.process, op.increment), []).append(op)
    return grouped

