"""The replica board, tested from Python without a browser (issue: replicas and consistency)."""

from __future__ import annotations

from statelab.render.replica_timeline import COLOURS
from statelab.widgets.replica_board import ReplicaBoard


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
    assert f'fill="{COLOURS["stale"]}"' in board.svg()  # stale reads are drawn red
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
    board.scrubber.value = 5  # the slider counts from 1, as on every board
    assert board.cursor == 4
    assert board.scrubber.max == len(board.history)
    assert board.seek(10_000) == len(board.history) - 1
