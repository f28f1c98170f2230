"""Live mode's feed: throttled redraws of a copied history, never blocking on another thread."""

from __future__ import annotations

import pytest

from statelab.analysis.history import History
from statelab.dapr.http import StateAPI
from statelab.server.sidecar import serve
from statelab.sim.race import Race
from statelab.widgets.live_feed import LiveFeed


class Shown:
    def __init__(self) -> None:
        self.calls: list[tuple[History, int | None]] = []

    def __call__(self, history: History, writers: int | None) -> None:
        self.calls.append((history, writers))


def test_updates_are_throttled_except_the_final_one() -> None:
    history = Race(writers=2, increments=2, seed=1).run()
    shown = Shown()
    feed = LiveFeed(shown, interval_s=3600)
    assert feed.update(history, writers=2)
    assert not feed.update(history)  # too soon
    assert feed.update(history, final=True)
    assert len(shown.calls) == 2 and shown.calls[0][1] == 2


def test_the_board_gets_a_copy() -> None:
    history = Race(writers=2, increments=2, seed=1).run()
    shown = Shown()
    LiveFeed(shown, interval_s=0).update(history)
    copy = shown.calls[0][0]
    assert copy is not history and copy.operations == history.operations
    assert copy.operations is not history.operations


def test_in_a_browser_the_race_runs_in_turns_and_the_final_redraw_follows_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from statelab.sim import live

    monkeypatch.setattr(live, "in_browser", lambda: True)
    shown = Shown()
    with serve(StateAPI(), grpc=False) as sidecar:
        running = LiveFeed(shown, interval_s=3600).run(
            Race(writers=2, increments=3, seed=1), sidecar.url, store="statestore",
            api_token=None)
        assert not running.threads and running.done.is_set()
    final, writers = shown.calls[-1]
    assert writers == 2 and len(final.operations) == len(running.history().operations) > 0
