"""The replica board, tested from Python without a browser (issue: replicas and consistency)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from statelab.widgets.replica_board import ReplicaBoard, render_replica_timeline
from statelab.sim.replication import Fault, ReplicaScenario


def test_default_board_runs_and_has_deterministic_reprs() -> None:
    first, second = ReplicaBoard(), ReplicaBoard()
    assert repr(first) == repr(second)
    bundle = first._repr_mimebundle_()
    assert bundle["text/plain"] == second._repr_mimebundle_()["text/plain"]
    assert bundle["text/html"] == second._repr_mimebundle_()["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert " at 0x" not in bundle["text/plain"]
    assert bundle["text/plain"].startswith("ReplicaBoard: 1 writer(s) x 5 writes")


def test_switching_consistency_makes_stale_reads_disappear() -> None:
    board = ReplicaBoard()
    assert board.report.stale_reads and board.first_stale_read() is not None
    assert 'fill="#c62828"' in board.svg()  # stale reads are drawn red
    board.consistency.value = "strong"   # the switch re-runs the scenario
    assert board.report.stale_reads == [] and board.first_stale_read() is None
    assert board.reports["strong"].write_latency_p50_ms > board.reports["eventual"] \
        .write_latency_p50_ms


def test_sliders_and_run() -> None:
    board = ReplicaBoard()
    board.replicas.value = 4
    board.lag.value = (0.0, 0.0)
    board.run_button.click()
    assert board.scenario.replicas == 4 and board.scenario.lag.kind == "fixed"
    assert board.report.stale_reads == []  # no lag, nothing stale
    assert board.svg().count(">replica-") == 4


def test_step_and_scrub_move_the_highlight() -> None:
    board = ReplicaBoard()
    board.seek(0)
    first = board.svg()
    board.step()
    assert board.cursor == 1 and board.svg() != first
    board.scrubber.value = 5
    assert board.cursor == 5
    assert board.seek(10_000) == len(board.history) - 1


def test_svg_is_well_formed_with_faults_and_lagging_replicas() -> None:
    scenario = ReplicaScenario(seed=2, faults=(Fault(10, "partition", "replica-2"),))
    svg = render_replica_timeline(scenario.run(), cursor=3)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "never</title>" in svg  # deliveries to a replica that never came back
