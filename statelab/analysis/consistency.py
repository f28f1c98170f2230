"""Checks over a replica history: stale reads, read-your-writes and monotonic reads.

Each violation is explained in one sentence ("client B read version 2 from replica-1 at t=31 ms,
4 ms after version 3 was acknowledged"); the report also compares write latency and how far
behind the stale reads were. Version numbers are the ones :mod:`statelab.analysis.versions`
gives every history: the n-th write the primary applied makes version n (which is the primary's
ETag). A read's version is the ETag it returned, since a replica may serve an older one than
the primary holds.

The checks read only the history (which can come from JSON), never a live store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from statelab.analysis.history import History, Operation, writer_name
from statelab.analysis.stats import percentile_ms
from statelab.analysis.versions import replay

__all__ = ["ConsistencyReport", "Violation", "consistency_report"]
@dataclass(frozen=True)
class Violation:
    """A stale read, a read-your-writes violation or a monotonic-read violation."""

    kind: Literal["stale-read", "read-your-writes", "monotonic-read"]
    read_index: int
    sentence: str


def _ms(us: int) -> str:
    return f"{us / 1000:.1f}".rstrip("0").rstrip(".")


def _version(op: Operation) -> int:
    return int(op.etag_returned) if op.status == 200 and op.etag_returned else 0


def _saw(version: int) -> str:
    return f"version {version}" if version else "nothing (the key was missing)"


@dataclass
class ConsistencyReport:
    """Stale reads and session violations, with write latency and staleness figures."""

    reads: int
    stale_reads: list[Violation]
    ryw_violations: list[Violation]
    monotonic_violations: list[Violation]
    write_latency_p50_ms: float
    write_latency_p99_ms: float
    read_latency_p50_ms: float
    max_versions_behind: int
    max_ms_behind: float
    failed_writes: int

    @property
    def violations(self) -> list[Violation]:
        return sorted(self.stale_reads + self.ryw_violations + self.monotonic_violations,
                      key=lambda v: (v.read_index, v.kind))

    def lines(self) -> list[str]:
        rows = [
            f"stale reads: {len(self.stale_reads)} of {self.reads} reads"
            + (f" (up to {self.max_versions_behind} version(s), {self.max_ms_behind:.1f} ms "
               "behind)" if self.stale_reads else ""),
            f"read-your-writes violations: {len(self.ryw_violations)}",
            f"monotonic-read violations: {len(self.monotonic_violations)}",
            f"write latency p50 {self.write_latency_p50_ms:.1f} ms, p99 "
            f"{self.write_latency_p99_ms:.1f} ms; read latency p50 "
            f"{self.read_latency_p50_ms:.1f} ms",
        ]
        if self.failed_writes:
            rows.append(f"failed writes: {self.failed_writes}")
        return rows + [v.sentence for v in self.violations]

    def text(self) -> str:
        return "\n".join(self.lines())


def consistency_report(history: History) -> ConsistencyReport:
    """Check a replication history (versions are the primary's ETags)."""
    ops = list(history)
    writes = [op for op in ops if op.kind == "write"]
    story = replay(history)
    # The acknowledged writes and the versions they made, in the order they were acknowledged.
    made = {op.index: story.facts[op.index].made for op in writes} if story.store_order else {}
    acked = sorted(((op.complete_us, number, op) for op in writes
                    if op.outcome == "ok" and (number := made.get(op.index)) is not None),
                   key=lambda t: t[0])
    reads = sorted((op for op in ops if op.kind == "read" and op.outcome == "ok"),
                   key=lambda op: op.applied_us or 0)
    stale: list[Violation] = []
    ryw: list[Violation] = []
    monotonic: list[Violation] = []
    max_behind = 0
    max_ms = 0.0
    last_seen: dict[int, tuple[int, Operation]] = {}
    for read in reads:
        when = read.applied_us or read.complete_us
        seen = _version(read)
        newest = None
        for ack_time, number, write in acked:
            if ack_time > when:
                break
            if newest is None or number > newest[1]:
                newest = (ack_time, number, write)
        who = writer_name(read.process)
        node = read.node or "primary"
        if newest is not None and newest[1] > seen:
            behind_ms = (when - newest[0]) / 1000
            max_behind = max(max_behind, newest[1] - seen)
            max_ms = max(max_ms, behind_ms)
            stale.append(Violation("stale-read", read.index,
                                   f"client {who} read {_saw(seen)} from {node} at "
                                   f"t={_ms(when)} ms, {_ms(when - newest[0])} ms after version "
                                   f"{newest[1]} was acknowledged"))
        own = [(t, n) for t, n, w in acked if w.process == read.process and t <= read.invoke_us]
        if own:
            own_time, own_version = max(own, key=lambda pair: pair[1])
            if own_version > seen:
                ryw.append(Violation("read-your-writes", read.index,
                                     f"client {who} wrote version {own_version} (acknowledged at "
                                     f"t={_ms(own_time)} ms) but then read {_saw(seen)} from "
                                     f"{node} at t={_ms(when)} ms"))
        previous = last_seen.get(read.process)
        if previous is not None and previous[0] > seen:
            before = previous[1]
            monotonic.append(Violation(
                "monotonic-read", read.index,
                f"client {who} read version {previous[0]} from {before.node or 'primary'} at "
                f"t={_ms(before.applied_us or before.complete_us)} ms, then went back to "
                f"{_saw(seen)} from {node} at t={_ms(when)} ms"))
        if previous is None or seen >= previous[0]:
            last_seen[read.process] = (seen, read)
    write_latencies = [op.latency_us for op in writes if op.outcome == "ok"]
    read_latencies = [op.latency_us for op in reads]
    return ConsistencyReport(
        reads=len(reads), stale_reads=stale, ryw_violations=ryw, monotonic_violations=monotonic,
        write_latency_p50_ms=percentile_ms(write_latencies, 0.5),
        write_latency_p99_ms=percentile_ms(write_latencies, 0.99),
        read_latency_p50_ms=percentile_ms(read_latencies, 0.5),
        max_versions_behind=max_behind, max_ms_behind=max_ms,
        failed_writes=sum(1 for op in writes if op.outcome != "ok"))
