"""The writer lanes: one bar per request, labels that fit, lost updates marked."""

from __future__ import annotations

from statelab.analysis.versions import replay
from statelab.render.lost_marks import LostMarks
from statelab.render.palette import CRIMSON, OUTCOME_COLOURS
from statelab.render.svg import CHAR_W
from statelab.render.timeline_layout import TimelineLayout
from statelab.render.writer_lanes import READ_HEIGHT, writer_lanes
from statelab.sim.race import Race


def lanes(mode: str, writers: int = 3, increments: int = 2) -> tuple[str, dict[int, object]]:
    history = Race(writers=writers, increments=increments, mode=mode, seed=1).run()
    story = replay(history)
    layout = TimelineLayout(history, story.versions, title=False, caption=False, width=960,
                            time_range_us=None, window_us=None, writers=None, legend=False,
                            tooltips=None)
    parts, bars = writer_lanes(layout, history, story.facts, LostMarks.of(history), False)
    for bar in bars.values():
        assert layout.left - 0.05 <= bar.x1 < bar.x2 <= layout.right + 0.05
        if bar.label:
            assert len(bar.label) * layout.label_size * CHAR_W <= bar.x2 - bar.x1 - 3
    assert len(bars) == len(history)  # every request is drawn
    return "".join(parts), dict(bars)


def test_bars_by_outcome_and_kind() -> None:
    svg, bars = lanes("first-write")
    assert f'<g fill="{OUTCOME_COLOURS["conflict"][0]}">' in svg
    heights = {round(bar.h, 1) for bar in bars.values()}  # type: ignore[attr-defined]
    assert len(heights) == 2 and min(heights) == round(max(heights) * READ_HEIGHT, 1)
    assert CRIMSON not in svg


def test_lost_updates_are_outlined_and_struck() -> None:
    svg, _ = lanes("last-write")
    assert f'<g fill="none" stroke="{CRIMSON}"' in svg
    assert f'stroke="{CRIMSON}" stroke-width=' in svg
    assert "<title>" in svg and "this increment is lost" in svg
