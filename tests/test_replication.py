"""Replica scenarios on virtual time (issue: replicas and consistency)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given, settings, strategies as st

from statelab.analysis.consistency import consistency_report
from statelab.analysis.history import History, Operation
from statelab.latency import Latency
from statelab.sim.replication import Fault, ReplicaScenario
from statelab.stores.replicated import LagModel, ReplicatedStore

SCENARIOS = st.builds(
    ReplicaScenario,
    replicas=st.integers(1, 4),
    lag=st.builds(LagModel, kind=st.just("uniform"), low_ms=st.floats(0, 10),
                  high_ms=st.floats(10, 60)),
    writers=st.integers(1, 2), readers=st.integers(0, 3), writes=st.integers(1, 6),
    reads=st.integers(1, 8), seed=st.integers(0, 2**32))


def test_deterministic() -> None:
    scenario = ReplicaScenario(seed=5, faults=(Fault(30, "partition", "replica-1"),
                                               Fault(90, "resume", "replica-1")))
    assert scenario.run().to_json() == scenario.run().to_json()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(scenario=SCENARIOS, quorum=st.integers(0, 4))
def test_strong_writes_are_on_the_quorum_when_acknowledged(scenario: ReplicaScenario,
                                                           quorum: int) -> None:
    # One writer, so its n-th write creates version n (its value).
    scenario = scenario.with_(writers=1, consistency="strong",
                              write_quorum=min(quorum, scenario.replicas))
    holding_counts: list[int] = []

    def observe(op: Operation, store: ReplicatedStore) -> None:
        if op.kind != "write" or op.outcome != "ok":
            return
        holding = 0
        for replica in store.replicas:
            replica.catch_up(op.complete_us)  # the store's clock is the engine's: now
            entry = replica.data.get("myapp||profile")
            if entry is not None and entry[1] >= op.value:
                holding += 1
        holding_counts.append(holding)

    scenario.run(on_complete=observe)
    assert len(holding_counts) == scenario.writes
    assert all(count >= (scenario.write_quorum or 0) for count in holding_counts)


def observable(history: History) -> list[dict]:
    """Everything a client can see, without which node served it or the requested mode."""
    rows = []
    for op in history:
        row = asdict(op)
        row.pop("node")
        row.pop("consistency")
        rows.append(row)
    return rows


@settings(max_examples=25, deadline=None, derandomize=True)
@given(scenario=SCENARIOS)
def test_with_zero_lag_both_modes_give_identical_histories(scenario: ReplicaScenario) -> None:
    zero = scenario.with_(lag=LagModel("fixed", 0.0))
    assert observable(zero.run()) == observable(zero.with_(consistency="strong").run())


def test_strong_writes_cost_the_replication_lag() -> None:
    base = ReplicaScenario(seed=2, lag=LagModel("fixed", 30.0), latency=Latency("fixed", 1.0))
    eventual = consistency_report(base.run())
    strong = consistency_report(base.with_(consistency="strong").run())
    assert eventual.write_latency_p50_ms == 2.0
    assert strong.write_latency_p50_ms == 32.0


def test_partition_then_resume_catches_up() -> None:
    scenario = ReplicaScenario(replicas=1, writers=1, readers=1, writes=3, reads=12, seed=1,
                               lag=LagModel("fixed", 1.0),
                               faults=(Fault(0, "partition", "replica-1"),
                                       Fault(60, "resume", "replica-1")))
    history = scenario.run()
    reads = [op for op in history if op.kind == "read" and op.process == 1]
    before = [op for op in reads if op.applied_us < 60_000]
    after = [op for op in reads if op.applied_us > 61_000]
    assert before and all(op.status == 204 for op in before)  # cut off: nothing arrives
    assert after and all(op.etag_returned == "3" for op in after)  # caught up after resume


def test_unknown_fault_and_replica() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Fault(1, "explode", "replica-1")  # type: ignore[arg-type]  # a wrong action on purpose
    with pytest.raises(KeyError, match="no replica named"):
        ReplicaScenario(faults=(Fault(1, "pause", "replica-7"),)).run()


def test_scenario_description() -> None:
    assert ReplicaScenario(seed=3).describe().startswith(
        "1 writer(s) x 5 writes, 2 reader(s) x 10 reads")
