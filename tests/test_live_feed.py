"""Live mode's feed: throttled redraws of a copied history, never blocking on another thread."""

from __future__ import annotations

from statelab.analysis.history import History
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
