"""Consistency scenarios and their checks (issue: replicas and consistency)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statelab.analysis.history import History, Operation
from statelab.sim.replication import Fault, ReplicaScenario, consistency_report
from statelab.sim.race import Latency
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
@given(scenario=SCENARIOS)
def test_strong_reads_are_never_stale(scenario: ReplicaScenario) -> None:
    report = consistency_report(scenario.with_(consistency="strong").run())
    assert report.stale_reads == [] and report.ryw_violations == []
    assert report.monotonic_violations == []


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


def brute_force_stale_reads(history: History) -> set[int]:
    """Independent definition: a read is stale if, when the store served it, some write of a
    newer version had already been acknowledged to its client."""
    writes = sorted((op for op in history if op.kind == "write" and op.applied_status == 204),
                    key=lambda op: op.applied_order)  # type: ignore[arg-type, return-value]
    version = {op.index: n for n, op in enumerate(writes, start=1)}
    stale = set()
    for read in history:
        if read.kind != "read" or read.outcome != "ok":
            continue
        seen = int(read.etag_returned) if read.status == 200 else 0
        if any(w.outcome == "ok" and w.complete_us <= read.applied_us and version[w.index] > seen
               for w in writes):
            stale.add(read.index)
    return stale


@settings(max_examples=40, deadline=None, derandomize=True)
@given(scenario=SCENARIOS)
def test_the_checker_finds_every_stale_read(scenario: ReplicaScenario) -> None:
    history = scenario.run()
    report = consistency_report(history)
    assert {v.read_index for v in report.stale_reads} == brute_force_stale_reads(history)


def test_eventual_reads_can_be_stale() -> None:
    report = consistency_report(ReplicaScenario(seed=3).run())
    assert report.stale_reads and report.ryw_violations and report.monotonic_violations
    assert report.stale_reads[0].sentence == (
        "client B read nothing (the key was missing) from replica-2 at t=13.1 ms, 1.3 ms after "
        "version 1 was acknowledged")


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
        Fault(1, "explode", "replica-1")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no replica named"):
        ReplicaScenario(faults=(Fault(1, "pause", "replica-7"),)).run()


def test_report_text_and_description() -> None:
    scenario = ReplicaScenario(seed=3)
    assert scenario.describe().startswith("1 writer(s) x 5 writes, 2 reader(s) x 10 reads")
    text = consistency_report(scenario.run()).text()
    assert text.splitlines()[0].startswith("stale reads: 17 of 25 reads")
