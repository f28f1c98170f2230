"""Replica scenarios: clients writing and reading through a primary and lagging replicas.

A :class:`ReplicaScenario` runs on the simulator's virtual-time engine against the
``state.replicated`` store (:mod:`statelab.stores.replicated`). Writers save increasing
values of one key and, if asked, read it right back (read-your-writes); readers read it again
and again. Every client uses the chosen ``consistency`` for its reads and writes. Replica faults
(pause, partition, resume) happen at given virtual times. Same seed and parameters, same
history, byte for byte.

:func:`statelab.analysis.consistency.consistency_report` finds what the clients saw go wrong
(stale reads, read-your-writes and monotonic-read violations).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any, Literal

from statelab.analysis.history import History, Operation
from statelab.dapr.service import StateService
from statelab.latency import Latency
from statelab.sim.engine import Engine, single_store_service
from statelab.sim.writer import Get, Save, Sleep, WriterGen
from statelab.stores.replicated import LagModel, ReplicatedStore

__all__ = ["Fault", "ReplicaScenario"]

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

    def build(self, engine_clock: Callable[[], int]) -> tuple[StateService, ReplicatedStore]:
        store = ReplicatedStore(replicas=self.replicas, lag=self.lag,
                                write_quorum=self.write_quorum, seed=self.seed,
                                clock_us=engine_clock, wait="report")
        return single_store_service(store), store

    def run(self, on_complete: Callable[[Operation, ReplicatedStore], None] | None = None
            ) -> History:
        """Run the scenario. *on_complete* sees each operation as its client receives it."""
        rng = random.Random(self.seed)
        engine: Engine
        service, store = self.build(lambda: engine.now)  # the store's clock is the engine's
        store.record_deliveries = True
        seen: Callable[[Operation], None] | None = None
        if on_complete is not None:
            def seen(op: Operation) -> None:
                on_complete(op, store)
        engine = Engine(service, self.latency, None, rng, routed=store, on_complete=seen)
        for fault in self.faults:
            action = getattr(store, fault.action)
            store.replica(fault.replica)  # fail early on an unknown name
            engine.at(round(fault.at_ms * 1000), partial(action, fault.replica))
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
            yield Sleep(self.interval.draw_us(rng))
            yield Save(KEY, number, None, "", None, number, 1, self.consistency)
            if self.read_your_writes:
                yield Get(KEY, 1, self.consistency)

    def _reader(self, rng: random.Random) -> WriterGen:
        for _ in range(self.reads):
            yield Sleep(self.interval.draw_us(rng))
            yield Get(KEY, 1, self.consistency)
