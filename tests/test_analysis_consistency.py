"""Consistency checks (analysis/consistency.py): stale reads, read-your-writes, monotonic reads."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from statelab.analysis.consistency import consistency_report
from statelab.analysis.history import History, Operation
from statelab.sim.replication import ReplicaScenario
from statelab.stores.replicated import LagModel

SCENARIOS = st.builds(
    ReplicaScenario,
    replicas=st.integers(1, 4),
    lag=st.builds(LagModel, kind=st.just("uniform"), low_ms=st.floats(0, 10),
                  high_ms=st.floats(10, 60)),
    writers=st.integers(1, 2), readers=st.integers(0, 3), writes=st.integers(1, 6),
    reads=st.integers(1, 8), seed=st.integers(0, 2**32))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(scenario=SCENARIOS)
def test_strong_reads_are_never_stale(scenario: ReplicaScenario) -> None:
    report = consistency_report(scenario.with_(consistency="strong").run())
    assert report.stale_reads == [] and report.ryw_violations == []
    assert report.monotonic_violations == []


def brute_force_stale_reads(history: History) -> set[int]:
    """Independent definition: a read is stale if, when the store served it, some write of a
    newer version had already been acknowledged to its client."""
    writes = sorted((op for op in history if op.kind == "write" and op.applied_status == 204),
                    key=lambda op: op.applied_order or 0)
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


def test_report_text() -> None:
    text = consistency_report(ReplicaScenario(seed=3).run()).text()
    assert text.splitlines()[0].startswith("stale reads: 17 of 25 reads")


def test_a_live_history_has_no_known_versions() -> None:
    """Without the store's order, no write has a version, so no read can be proven stale."""
    write = Operation(index=0, process=0, kind="write", key="profile", invoke_us=0,
                      complete_us=10, outcome="ok", status=204, value=1)
    read = Operation(index=1, process=1, kind="read", key="profile", invoke_us=20,
                     complete_us=30, outcome="ok", status=204)
    report = consistency_report(History([write, read]))
    assert report.reads == 1 and report.violations == []
