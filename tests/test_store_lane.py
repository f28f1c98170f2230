"""A key's store lane: version bands, version against value, apply ticks."""

from __future__ import annotations

from statelab.analysis.versions import replay
from statelab.render.lost_marks import LostMarks
from statelab.render.palette import CRIMSON, PINK
from statelab.render.store_lane import store_lane
from statelab.render.timeline_layout import TimelineLayout
from statelab.sim.race import Race


def lane(mode: str) -> str:
    history = Race(writers=3, increments=2, mode=mode, seed=1).run()
    story = replay(history)
    layout = TimelineLayout(history, story.versions, title=False, caption=False, width=960,
                            time_range_us=None, window_us=None, writers=None, legend=False,
                            tooltips=None)
    return "".join(store_lane(layout, "counter-0", story.versions["counter-0"],
                              LostMarks.of(history)))


def test_lost_updates_open_a_red_gap() -> None:
    svg = lane("last-write")
    assert ">store</text>" in svg and ">counter-0</text>" in svg
    assert f'fill="{PINK}"' in svg  # lost versions and the gap between the two lines
    assert f'stroke="{CRIMSON}" stroke-width="1.5"' in svg  # the overwrites' apply ticks
    assert "v1=1" in svg


def test_without_lost_updates_the_lines_coincide() -> None:
    svg = lane("first-write")
    assert CRIMSON not in svg
    assert "v6 · value 6" in svg
