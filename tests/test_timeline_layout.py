"""Where a timeline puts things: lanes that shrink with writers, the time scale, store lanes."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from statelab.analysis.history import History
from statelab.render.timeline_layout import MAX_STORE_LANES, TimelineLayout, natural
from statelab.sim.race import Race


@cache
def run(writers: int, increments: int = 1) -> History:
    return Race(writers=writers, increments=increments, mode="last-write", seed=0).run()


def layout(history: History, keys: tuple[str, ...] = ("counter-0",),
           **options: Any) -> TimelineLayout:
    settings: dict[str, Any] = dict(title=False, caption=False, width=960, time_range_us=None,
                                    window_us=None, writers=None, legend=True, tooltips=None)
    settings.update(options)
    return TimelineLayout(history, keys, **settings)


def test_lanes_scale_with_the_number_of_writers() -> None:
    heights = {}
    for writers in (1, 8, 32, 64):
        lanes = layout(run(writers))
        heights[writers] = lanes.height
        assert 5 <= lanes.lane_h <= 28
        assert lanes.lanes_bottom - lanes.lanes_top == pytest.approx(lanes.lane_h * writers)
    assert heights[1] < heights[8] < heights[32] <= heights[64] < 760


def test_time_range_fixes_the_scale() -> None:
    history = run(3, 2)
    wide = layout(history, time_range_us=(0, 4 * history.duration_us))
    assert wide.x(history.duration_us) == pytest.approx(wide.left + (wide.right - wide.left) / 4)
    assert wide.xc(10 * history.duration_us) == wide.right


def test_store_lanes_are_capped_and_naturally_sorted() -> None:
    keys = tuple(f"counter-{i}" for i in range(12))
    lanes = layout(run(2), keys=keys)
    assert len(lanes.keys) == MAX_STORE_LANES and lanes.hidden_keys == 4
    assert lanes.keys[-1] == "counter-7"
    assert sorted(["k-10", "k-2"], key=natural) == ["k-2", "k-10"]
    assert lanes.store_y("counter-1") == lanes.store_top + lanes.store_h


def test_title_caption_and_legend_take_room() -> None:
    bare = layout(run(2), legend=False)
    full = layout(run(2), title=True, caption=True)
    assert bare.title_y is None and bare.caption_y is None and not bare.legend_rows
    assert full.lanes_top > bare.lanes_top and full.height > bare.height
    assert layout(run(2), writers=5).processes == [0, 1, 2, 3, 4]
