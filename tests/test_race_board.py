"""The race board, driven from Python as a learner's clicks would drive them (no browser)."""

from __future__ import annotations

import base64
import importlib
import json
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import ipywidgets
import pytest

import statelab
from statelab import widgets
from statelab.analysis.history import History
from statelab.analysis.races import analyse
from statelab.render.svg import num
from statelab.sim.race import MODE_HELP, Latency, Race, RetryPolicy
from statelab.widgets import race_board as sw
from statelab.widgets.race_board import RaceBoard
from statelab.widgets.race_controls import DEFAULT_RACE
from statelab.widgets.race_summary import MAX_SENTENCES

SMALL = Race(writers=3, increments=2, mode="last-write", seed=1)


@pytest.fixture(scope="module")
def default_board() -> RaceBoard:
    return RaceBoard()


def overlay_text(board: RaceBoard) -> str:
    return board.overlay_view.value


def test_default_board_runs_eight_writers_by_twenty(default_board: RaceBoard) -> None:
    board = default_board
    assert board.race == DEFAULT_RACE
    assert board.history.meta["race"]["writers"] == 8
    assert board.history.meta["race"]["increments"] == 20
    assert len(board.history) == 320
    assert board.report.expected == 160 and board.report.lost > 0
    assert board.cursor == len(board.history) - 1
    assert board.slider.max == board.play.max == len(board.history)
    assert board.slider.value == len(board.history)  # counted from 1, like the picture
    ET.fromstring(board.base_view.value)
    ET.fromstring(board.overlay_view.value.split("</style>", 1)[1])
    ET.fromstring(board.svg())


def test_playback_is_a_play_widget_jslinked_to_the_slider(default_board: RaceBoard) -> None:
    board = default_board
    assert isinstance(board.play, ipywidgets.Play)
    assert isinstance(board.playback.link, ipywidgets.widgets.widget_link.Link)
    assert board.playback.link.source == (board.play, "value")
    assert board.playback.link.target == (board.slider, "value")
    board.speed.value = 25
    assert board.play.step == 25
    board.speed.value = 1


def test_the_timeline_is_two_stacked_layers(default_board: RaceBoard) -> None:
    board = default_board
    assert board.base_view.layout.grid_area == board.overlay_view.layout.grid_area == "timeline"
    assert "statelab-overlay" in board.overlay_view._dom_classes
    assert board.overlay_view.value.startswith(sw.OVERLAY_CSS)
    assert len(board.overlay_view.value) < 2000 < len(board.base_view.value)


def test_run_button_runs_the_controls() -> None:
    board = RaceBoard(SMALL)
    before = board.history
    board.controls.writers.value = 4
    board.controls.increments.value = 3
    board.controls.mode.value = "first-write"
    board.controls.retry.value = "backoff"
    board.controls.reread.value = True
    board.controls.latency.value = (2.0, 6.0)
    board.controls.seed.value = 7
    assert "settings changed" in board.status.value
    board.run_button.click()
    assert "settings changed" not in board.status.value
    assert board.history is not before
    race = board.history.meta["race"]
    assert (race["writers"], race["increments"], race["mode"], race["seed"]) == \
        (4, 3, "first-write", 7)
    assert race["retry"]["kind"] == "backoff"
    assert race["latency"]["low_ms"] == 2.0 and race["latency"]["high_ms"] == 6.0
    assert board.race == board.race_from_controls()
    assert board.history.to_json() == board.race.run().to_json()
    assert board.report.lost == 0
    assert "seed 7" in board.status.value


def test_controls_keep_what_they_do_not_show() -> None:
    race = Race(writers=2, increments=1, keys=2, mode="first-write", timeout_ms=9.0,
                retry=RetryPolicy("fixed", delay_ms=3.0, max_attempts=4),
                latency=Latency("uniform", 1.0, 4.0), seed=3)
    board = RaceBoard(race)
    assert board.race_from_controls() == race
    board.controls.seed.value = 4
    assert board.race_from_controls() == race.with_(seed=4)


def test_params_are_accepted_as_keywords() -> None:
    board = RaceBoard(writers=2, increments=1, mode="first-write", seed=2)
    assert board.race == DEFAULT_RACE.with_(writers=2, increments=1, mode="first-write",
                                               seed=2)
    assert board.controls.mode_help.value.count("409") == 1  # the help for first-write


def test_mode_help_follows_the_dropdown() -> None:
    board = RaceBoard(SMALL)
    board.controls.mode.value = "etag-with-last-write"
    assert "Redis ignores the ETag" in board.controls.mode_help.value
    assert board.controls.mode.tooltip == MODE_HELP["etag-with-last-write"]


def test_step_seek_and_buttons() -> None:
    board = RaceBoard(SMALL)
    n = len(board.history)
    assert board.seek(0) == 0
    assert board.step() == 1
    assert board.step(3) == 4
    assert board.step(-10) == 0
    board.forward_button.click()
    board.forward_button.click()
    assert board.cursor == 2
    board.back_button.click()
    assert board.cursor == 1
    assert board.seek(10_000) == n - 1
    assert board.step() == n - 1


def test_scrubbing_moves_the_highlight() -> None:
    board = RaceBoard(SMALL)
    history = board.history
    base = board.base_view.value
    seen = set()
    for position in (0, 3, 7):
        board.slider.value = position + 1  # what the Play widget or a drag does
        op = history[position]
        overlay = overlay_text(board)
        assert f"operation {position + 1} of {len(history)}" in overlay
        bar = board.timeline().bars[op.index]
        assert f'<rect x="{num(bar.x1 - 2)}" y="{num(bar.y - 2)}"' in overlay
        assert f"operation {position + 1} of" in board.svg()
        seen.add(overlay)
    assert len(seen) == 3
    assert board.base_view.value == base  # the base is not re-sent for a cursor move


def test_jump_to_first_anomaly_under_last_write() -> None:
    board = RaceBoard(SMALL)
    board.seek(0)
    assert not board.anomaly_button.disabled
    board.anomaly_button.click()
    first = board.report.first_anomaly_index
    assert first is not None
    assert board.cursor == first
    assert "lost update: writer" in overlay_text(board)
    assert board.jump_to_first_anomaly() == first


def test_no_anomaly_under_first_write() -> None:
    board = RaceBoard(SMALL.with_(mode="first-write"))
    board.seek(2)
    assert board.anomaly_button.disabled
    assert board.anomaly_button.description == "no lost update"
    assert board.jump_to_first_anomaly() is None
    assert board.cursor == 2
    assert "no lost update" in board.stats.value


def test_stats_panel(default_board: RaceBoard) -> None:
    report = default_board.report
    stats = default_board.stats.value
    assert f"<b style=\"color:#c00018\">{report.final_total}</b> (expected 160)" in stats
    assert (f"{len(report.anomalies)} write(s) erased {report.erased} increment(s); "
            f"{report.lost} missing from the final value") in stats
    assert report.erased == report.lost == 126  # every missing increment named once
    assert "retries per success" in stats and "increments/s" in stats
    assert stats.count("<li>") == 6  # five sentences and "... and N more"
    assert report.anomalies[0].replace("'", "&#x27;") in stats


def test_export_round_trips() -> None:
    board = RaceBoard(SMALL)
    text = board.to_json()
    again = History.from_json(text)
    assert again.to_json() == text
    assert again.operations == board.history.operations
    assert board.download.value == ""
    board.export_button.click()
    link = board.download.value
    match = re.search(r'download="([^"]+)" href="data:application/json;base64,([^"]+)"', link)
    assert match
    assert match.group(1) == "statelab-race-last-write-3x2-seed1.json"
    assert base64.b64decode(match.group(2)).decode("utf-8") == text
    assert RaceBoard(SMALL).download_link() == link
    page = board.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<title>" in page
    payload = page.split('id="statelab-history">', 1)[1].split("</script>", 1)[0]
    assert json.loads(payload.replace("&lt;", "<").replace("&gt;", ">").replace(
        "&amp;", "&")) == json.loads(text)


def test_load_an_exported_history() -> None:
    source = RaceBoard(SMALL.with_(mode="first-write", seed=9))
    board = RaceBoard(SMALL)
    board.load(History.from_json(source.to_json()))
    assert board.to_json() == source.to_json()
    assert board.race == source.race and board.race_from_controls() == source.race
    assert "settings changed" not in board.status.value
    assert repr(board) == repr(source)
    bare = History.from_json(source.to_json())
    bare.meta = {}
    board.load(bare)
    assert "loaded history" in board.status.value
    assert repr(board).startswith("RaceBoard: loaded history, 3 writer(s)")
    assert board.download_name() == "statelab-loaded-history.json"


def test_reprs_are_deterministic() -> None:
    one, two = RaceBoard(SMALL), RaceBoard(SMALL)
    a, b = one._repr_mimebundle_(), two._repr_mimebundle_()
    assert a["text/plain"] == b["text/plain"] == repr(one) == repr(two)
    assert a["text/html"] == b["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in a  # the live view is still there
    assert a["application/vnd.jupyter.widget-view+json"]["model_id"] == one.model_id
    for text in (a["text/plain"], a["text/html"]):
        assert one.model_id not in text
        assert not re.search(r"0x[0-9a-f]{6,}|object at", text)
    plain = a["text/plain"].splitlines()
    assert plain[0].startswith("RaceBoard: 3 writers x 2 increments") and "seed 1" in plain[0]
    assert plain[1] == f"{len(one.history)} operations; cursor on operation " \
                       f"{len(one.history)} of {len(one.history)}"
    assert plain[2:2 + 7] == one.report.lines()[:7]
    ET.fromstring(a["text/html"].split("</pre>", 1)[1].rsplit("</div>", 1)[0])


def test_repr_follows_the_cursor_and_caps_sentences(default_board: RaceBoard) -> None:
    board = default_board
    board.seek(10)
    text = repr(board)
    assert "cursor on operation 11 of 320" in text
    assert text.count("overwrote version") == MAX_SENTENCES
    assert f"... and {len(board.report.anomalies) - MAX_SENTENCES} more" in text
    assert "operation 11 of 320" in board._repr_mimebundle_()["text/html"]
    board.seek(10_000)


def test_zoom_follows_the_cursor() -> None:
    board = RaceBoard(SMALL.with_(writers=8, increments=20, mode="first-write"))
    whole = board.base_view.value
    board.zoom.value = 25
    zoomed = board.base_view.value
    assert zoomed != whole and len(zoomed) < len(whole) / 5
    board.seek(0)
    early = board.base_view.value
    board.step()
    assert board.base_view.value == early  # same window: cached, not re-sent
    board.seek(len(board.history) // 2)
    assert board.base_view.value != early
    board.zoom.value = 0
    assert board.base_view.value == whole


def test_autorun_false_starts_empty() -> None:
    board = RaceBoard(SMALL, autorun=False)
    assert len(board.history) == 0
    assert board.cursor is None
    assert board.step() is None and board.seek(3) is None
    assert board.slider.disabled and board.forward_button.disabled
    assert "0 operations; no operations" in repr(board)
    ET.fromstring(board.svg())
    board.run()
    assert board.cursor == len(board.history) - 1
    assert not board.slider.disabled


def test_update_from_a_growing_history() -> None:
    full = SMALL.run()
    board = RaceBoard(SMALL, autorun=False, live_interval_s=3600)
    grown = History(meta={"live": True})
    assert board.update_from(grown, writers=3)
    for op in full.operations[:5]:
        grown.operations.append(op)
    assert not board.update_from(grown)  # too soon: skipped
    assert board.update_from(grown, final=True)
    assert len(board.history) == 5 and board.cursor == 4
    assert board.history is not grown  # a snapshot, the writers may keep appending
    grown.operations.extend(full.operations[5:])
    thread = threading.Thread(target=board.update_from, args=(grown,),
                              kwargs={"final": True})
    thread.start()
    thread.join()
    assert len(board.history) == len(full)
    assert board.cursor == len(full) - 1  # it followed the end
    assert board.report.lost == analyse(full).lost
    assert board.status.value.count("live history") == 1
    assert repr(board).startswith("RaceBoard: live history, 3 writer(s)")
    assert board.download_name() == "statelab-live-history.json"


def test_update_from_keeps_a_cursor_that_is_not_at_the_end() -> None:
    full = SMALL.run()
    board = RaceBoard(SMALL, autorun=False, live_interval_s=0)
    board.update_from(History(full.operations[:6]), final=True)
    board.seek(2)
    board.update_from(History(full.operations[:9]), final=True)
    assert board.cursor == 2


@pytest.mark.parametrize("module", sorted(
    f"statelab.{path.parent.name}.{path.stem}"
    for folder in ("render", "widgets")
    for path in (Path(statelab.__file__).parent / folder).glob("*.py")
    if path.stem != "__init__"))
def test_all_is_sorted(module: str) -> None:
    names = importlib.import_module(module).__all__
    assert names == sorted(names)


def test_public_widgets() -> None:
    assert set(widgets.__all__) == {"ComparisonView", "DEFAULT_RACE", "RaceBoard",
                                    "ReplicaBoard", "SweepChart", "SweepPoint"}
    assert widgets.__all__ == sorted(widgets.__all__)


def test_run_live_updates_the_board_from_real_threads() -> None:
    """Live mode over HTTP: the board follows the growing history and ends on the final one."""
    from statelab.server.sidecar import start

    sidecar = start(0, "live-board", quiet=True)
    try:
        board = RaceBoard(writers=3, increments=4, mode="first-write", seed=2)
        live = board.run_live(sidecar.url)
        history = live.wait(timeout=60)
        assert board.update_from(history, final=True)  # what the finisher thread also does
        assert len(board.history) == len(history) > 0
        assert board.report.final_total == board.report.expected == 12
        assert "live" in repr(board) or board.history.meta.get("live") is True
    finally:
        sidecar.stop()
