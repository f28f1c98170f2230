"""Where everything goes in a race timeline: the time scale, the lanes, the vertical layout.

Computed once per history and window, before anything is drawn, so the base drawing and every
cursor overlay agree on coordinates (the overlay redraws a bar exactly on top of its base).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from statelab.analysis.history import History, Operation
from statelab.render.legend import ROW_H, legend_rows
from statelab.render.svg import num

__all__ = ["MAX_STORE_LANES", "TOOLTIP_LIMIT", "TimelineLayout", "natural"]

MAX_STORE_LANES = 8
TOOLTIP_LIMIT = 800  # bars in view; above it, tooltips are left out unless asked for


def natural(text: str) -> tuple[Any, ...]:
    """Sort "counter-2" before "counter-10"."""
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", text))


class TimelineLayout:
    """Coordinates of a timeline of *history* whose store lanes show *keys*.

    Lane height shrinks from 28 px (up to 12 writers) to 5 px (68 and more); store lanes are
    taller when there are at most two keys; the height follows from what is drawn.
    """

    def __init__(self, history: History, keys: Iterable[str], *, title: bool, caption: bool,
                 width: int, time_range_us: tuple[int, int] | None,
                 window_us: tuple[int, int] | None, writers: int | None, legend: bool,
                 tooltips: bool | None) -> None:
        ops = history.operations
        self.width = max(320, int(width))
        # -- time scale --------------------------------------------------------------------
        start = min((op.invoke_us for op in ops), default=0)
        end = max([op.complete_us for op in ops]
                  + [op.applied_us for op in ops if op.applied_us is not None] + [start + 1])
        if time_range_us is not None:
            start, end = time_range_us[0], max(time_range_us[1], time_range_us[0] + 1)
        self.full_range = (start, end)
        if window_us is not None:
            start, end = window_us[0], max(window_us[1], window_us[0] + 1)
        self.t0, self.t1 = start, end
        self.left, self.right = 70.0, float(self.width - 14)
        # -- lanes -------------------------------------------------------------------------
        processes = sorted({op.process for op in ops})
        count = max([writers or 0, (processes[-1] + 1) if processes else 0,
                     int(history.meta.get("race", {}).get("writers", 0) or 0)])
        self.processes = list(range(count))
        ordered = sorted(keys, key=natural)
        self.keys = ordered[:MAX_STORE_LANES]
        self.hidden_keys = len(ordered) - len(self.keys)
        self.lane_h = max(5.0, min(28.0, 340.0 / max(1, count)))
        self.bar_h = self.lane_h - max(1.0, round(self.lane_h * 0.16, 1))
        self.label_size = min(11.0, self.bar_h - 3)
        two_keys = len(self.keys) <= 2
        self.band_h = 14.0 if two_keys else 12.0
        self.chart_h = 30.0 if two_keys else 16.0
        self.store_h = self.band_h + self.chart_h + 6
        # -- vertical layout ---------------------------------------------------------------
        y = 8.0
        self.title_y = y + 12 if title else None
        y += 20 if title else 0
        self.caption_y = y + 11 if caption else None
        y += 18 if caption else 0
        self.legend_top = y
        self.legend_rows = legend_rows(self.left, self.width) if legend else []
        y += ROW_H * (max((row for row, _, _ in self.legend_rows), default=-1) + 1)
        self.info_y = y + 2
        y += 34
        self.store_top = y
        y += self.store_h * len(self.keys) + (14 if self.hidden_keys else 0)
        y += 8
        self.lanes_top = y
        y += self.lane_h * len(self.processes)
        self.lanes_bottom = y
        in_view = sum(1 for op in ops if self.visible(op))
        self.tips = tooltips if tooltips is not None else in_view <= TOOLTIP_LIMIT
        self.tips_note = tooltips is None and not self.tips
        self.height = int(math.ceil(y + (42 if self.tips_note else 30)))

    def x(self, time_us: float) -> float:
        """The x coordinate of a virtual time (outside the window for times outside it)."""
        span = self.t1 - self.t0
        return self.left + (time_us - self.t0) * (self.right - self.left) / span

    def xc(self, time_us: float) -> float:
        """:meth:`x`, clamped to the drawing area."""
        return min(self.right, max(self.left, self.x(time_us)))

    def lane_y(self, process: int) -> float:
        """The top of a writer's lane."""
        return self.lanes_top + process * self.lane_h

    def store_y(self, key: str) -> float:
        """The top of a key's store lane (the key must be one of :attr:`keys`)."""
        return self.store_top + self.keys.index(key) * self.store_h

    def visible(self, op: Operation) -> bool:
        """Whether any part of the request (its bar or its apply tick) is in the window."""
        end = op.complete_us
        if op.applied_us is not None:
            end = max(end, op.applied_us)
        return end >= self.t0 and op.invoke_us <= self.t1

    def lost_stroke_width(self) -> str:
        """The width of lost-update strikes and outlines (thicker on taller bars)."""
        return num(max(1.0, min(2.0, self.bar_h / 6)))
