"""Consistency scenarios: clients writing and reading through a primary and lagging replicas.

A :class:`ReplicaScenario` runs on the simulator's virtual-time engine against the
``state.replicated`` store (:mod:`statelab.stores.replicated`). Writers save increasing
values of one key and, if asked, read it right back (read-your-writes); readers read it again
and again. Every client uses the chosen ``consistency`` for its reads and writes. Replica faults
(pause, partition, resume) happen at given virtual times. Same seed and parameters, same
history, byte for byte.

:func:`consistency_report` finds stale reads, read-your-writes violations and monotonic-read
violations, each explained in one sentence, and compares write latency and staleness.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from statelab.analysis.history import History, Operation, writer_name
from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.sim.race import STORE_NAME, Latency, WriterGen, _Engine, _Get, _Save, _Sleep
from statelab.stores.replicated import LagModel, ReplicatedStore

__all__ = [
    "ConsistencyReport",
    "Fault",
    "ReplicaScenario",
    "Violation",
    "consistency_report",
]

KEY = "profile"


@dataclass(frozen=True)
class Fault:
    """At *at_ms* of virtual time, *action* (pause, partition or resume) the named replica."""

    at_ms: float
    action: Literal["pause", "partition", "resume"]
    replica: str

    def __post_init__(self) -> None:
        if self.action not in ("pause", "partition", "resume"):
            raise ValueError(f"unknown fault {self.action!r}: use pause, partition or resume")


@dataclass(frozen=True)
class ReplicaScenario:
    """Writers and readers on a replicated store; see the module documentation."""

    replicas: int = 2
    lag: LagModel = field(default_factory=lambda: LagModel("uniform", 5.0, 50.0))
    write_quorum: int | None = None
    consistency: Literal["eventual", "strong"] = "eventual"
    writers: int = 1
    readers: int = 2
    writes: int = 5
    reads: int = 10
    read_your_writes: bool = True
    interval: Latency = field(default_factory=lambda: Latency("uniform", 5.0, 15.0))
    latency: Latency = field(default_factory=lambda: Latency("uniform", 1.0, 3.0))
    faults: tuple[Fault, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.consistency not in ("eventual", "strong"):
            raise ValueError("consistency must be 'eventual' or 'strong'")
        if self.writers < 0 or self.readers < 0 or self.writers + self.readers == 0:
            raise ValueError("a scenario needs at least one client")
        if self.replicas < 0:
            raise ValueError("replicas must be 0 or more")

    def with_(self, **changes: Any) -> ReplicaScenario:
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = [asdict(f) for f in self.faults]
        return data

    def describe(self) -> str:
        quorum = "all" if self.write_quorum is None else str(self.write_quorum)
        return (f"{self.writers} writer(s) x {self.writes} writes, {self.readers} reader(s) x "
                f"{self.reads} reads, {self.replicas} replicas (write quorum {quorum}), "
                f"replication lag {self.lag.kind} {self.lag.low_ms:g}-{self.lag.high_ms:g} ms, "
                f"{self.consistency} consistency, seed {self.seed}")

    def build(self, engine_clock: Callable[[], int]) -> tuple[StateAPI, ReplicatedStore]:
        store = ReplicatedStore(replicas=self.replicas, lag=self.lag,
                                write_quorum=self.write_quorum, seed=self.seed,
                                clock_us=engine_clock, wait="report")
        component = Component(name=STORE_NAME, type="state.replicated", version="v1",
                              metadata={}, source="(sim)")
        component.store = store
        return StateAPI([component], app_id="myapp"), store

    def run(self, on_complete: Callable[[Operation, ReplicatedStore], None] | None = None
            ) -> History:
        """Run the scenario. *on_complete* sees each operation as its client receives it."""
        holder: dict[str, Any] = {}
        rng = random.Random(self.seed)
        engine = _Engine(None, self.latency, None, rng)  # type: ignore[arg-type]
        api, store = self.build(lambda: engine.now)
        store.record_deliveries = True
        engine.api = api
        engine.delay_source = store
        if on_complete is not None:
            engine.on_complete = lambda op: on_complete(op, store)
        holder["store"] = store
        for fault in self.faults:
            action = getattr(store, fault.action)
            store.replica(fault.replica)  # fail early on an unknown name
            engine.at(round(fault.at_ms * 1000), lambda a=action, n=fault.replica: a(n))
        clients: list[WriterGen] = []
        for _ in range(self.writers):
            clients.append(self._writer(rng))
        for _ in range(self.readers):
            clients.append(self._reader(rng))
        meta: dict[str, Any] = {"scenario": self.params(), "seed": self.seed,
                                "statelab_sim": 1, "writers": self.writers,
                                "replicas": [r.name for r in store.replicas]}
        history = engine.run(clients, meta)
        # Replication messages: which version reached which replica, and when (None: never).
        history.meta["deliveries"] = [dict(d) for d in store.deliveries]
        return history

    def _writer(self, rng: random.Random) -> WriterGen:
        for number in range(1, self.writes + 1):
            yield _Sleep(self.interval.draw_us(rng))
            yield _Save(KEY, number, None, "", None, number, 1, self.consistency)
            if self.read_your_writes:
                yield _Get(KEY, 1, self.consistency)

    def _reader(self, rng: random.Random) -> WriterGen:
        for _ in range(self.reads):
            yield _Sleep(self.interval.draw_us(rng))
            yield _Get(KEY, 1, self.consistency)


# -- checks ----------------------------------------------------------------------------------

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
            f"{self.write_latency_p99_ms:.1f} ms; read latency p50 {self.read_latency_p50_ms:.1f} ms",
        ]
        if self.failed_writes:
            rows.append(f"failed writes: {self.failed_writes}")
        return rows + [v.sentence for v in self.violations]

    def text(self) -> str:
        return "\n".join(self.lines())


def _percentile(values: list[int], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] / 1000


def consistency_report(history: History) -> ConsistencyReport:
    """Check a replication history (versions are the primary's ETags)."""
    ops = list(history)
    writes = [op for op in ops if op.kind == "write"]
    # Versions in the order the primary applied the successful writes.
    applied = sorted((op for op in writes if op.applied_status == 204),
                     key=lambda op: op.applied_order)  # type: ignore[arg-type, return-value]
    version_of = {op.index: number for number, op in enumerate(applied, start=1)}
    acked = sorted(((op.complete_us, version_of[op.index], op) for op in writes
                    if op.outcome == "ok" and op.index in version_of), key=lambda t: t[0])
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
        write_latency_p50_ms=_percentile(write_latencies, 0.5),
        write_latency_p99_ms=_percentile(write_latencies, 0.99),
        read_latency_p50_ms=_percentile(read_latencies, 0.5),
        max_versions_behind=max_behind, max_ms_behind=max_ms,
        failed_writes=sum(1 for op in writes if op.outcome != "ok"))
