"""Draw a race history as a self-contained, deterministic SVG timeline.

The picture follows Jepsen's timeline and Porcupine (one lane per client, a bar per request
from invoke to complete, coloured by outcome) and adds what a Dapr learner needs to see:

* a **store lane** per key (up to :data:`MAX_STORE_LANES`) with the version the key is at over
  time and a step chart of *version* against *value* (:mod:`statelab.render.store_lane`);
* a **writer lane** per writer (A, B, ...) with a bar per request, labelled with versions
  (``expects v3 → v4``) when the bar is wide enough (:mod:`statelab.render.writer_lanes`);
* **lost updates**: the overwriting write gets a red outline, each write whose increment it
  erased is struck through in red; the checker's sentence is their ``<title>`` tooltip;
* a **cursor**: an operation index (highlighted, described in words above the lanes, later
  activity faded) or a virtual time (a vertical line);
* a time axis in virtual milliseconds and a legend.

Everything is computed from the history alone, in one pass, so the same history gives the same
bytes: no ids (several SVGs can share a page), no clocks, coordinates rounded to 0.1 px. The
drawing is split in a *base* (everything that does not depend on the cursor; built once and
cached by :class:`Timeline`) and a small *overlay* (the cursor), so moving the cursor over a run
of thousands of operations costs a few hundred bytes, not a re-render.
"""

from __future__ import annotations

import math
from html import escape

from statelab.analysis.history import History
from statelab.analysis.races import RaceReport
from statelab.analysis.versions import OpFacts, replay
from statelab.render.describe import describe, outcome_class
from statelab.render.legend import legend_parts, legend_svg
from statelab.render.lost_marks import LostMarks
from statelab.render.palette import BLUE, CRIMSON, GRID, INK, MUTED, WHITE
from statelab.render.store_lane import store_lane
from statelab.render.svg import CHAR_W, FONT, clip, document, nice_step, num, ticks
from statelab.render.timeline_layout import MAX_STORE_LANES, TOOLTIP_LIMIT, TimelineLayout
from statelab.render.writer_lanes import Bar, writer_lanes

__all__ = ["CHAR_W", "CURSOR", "MAX_STORE_LANES", "Timeline", "default_title", "describe",
           "legend_svg", "outcome_class", "render_timeline"]

CURSOR = BLUE


class Timeline:
    """A history laid out once; :meth:`svg` draws it with any cursor, reusing the layout.

    *report* (optional) adds a caption line; *title* a heading. *time_range_us* fixes the time
    axis (to compare two runs on one scale); *window_us* draws only that stretch of time
    (zoom). *writers* forces the number of writer lanes (for a live history that is still
    growing). *width* is in pixels; the height follows from the number of lanes.
    *tooltips* (a ``<title>`` per bar) default to on when at most
    :data:`~statelab.render.timeline_layout.TOOLTIP_LIMIT` bars are in view: beyond that they
    double the size for bars too thin to hover (zoom in instead).
    """

    def __init__(self, history: History, report: RaceReport | None = None, *,
                 title: str | None = None, width: int = 960,
                 time_range_us: tuple[int, int] | None = None,
                 window_us: tuple[int, int] | None = None,
                 writers: int | None = None, legend: bool = True,
                 tooltips: bool | None = None) -> None:
        self.history = history
        self.report = report
        self.title = title
        self.legend = legend
        self.n = len(history.operations)
        self.story = replay(history)
        self.marks = LostMarks.of(history)
        self.layout = TimelineLayout(
            history, self.story.versions, title=bool(title),
            caption=report is not None, width=width, time_range_us=time_range_us,
            window_us=window_us, writers=writers, legend=legend, tooltips=tooltips)
        self.width = self.layout.width
        self.tips = self.layout.tips
        self.tips_note = self.layout.tips_note
        self._bars: dict[int, Bar] = {}
        self._base: str | None = None

    # -- the base drawing --------------------------------------------------------------------

    def _open(self, overlay: bool = False) -> str:
        layout = self.layout
        label = (f"Race timeline: {len(layout.processes)} writer(s), {self.n} operation(s), "
                 f"{len(self.story.versions)} key(s)")
        style = "display:block;pointer-events:none" if overlay else "display:block"
        return document(layout.width, layout.height, ("font-family", FONT), ("font-size", "11"),
                        ("role", "img"), ("aria-label", escape(label)), ("style", style))

    def base(self) -> str:
        """The SVG elements that do not depend on the cursor (cached)."""
        if self._base is None:
            self._base = "".join(self._base_parts())
        return self._base

    @property
    def bars(self) -> dict[int, Bar]:
        """The bar of every request in view, by operation index."""
        self.base()  # the bars' geometry is computed with the base
        return self._bars

    def _base_parts(self) -> list[str]:
        layout = self.layout
        out = [f'<rect width="{layout.width}" height="{layout.height}" fill="{WHITE}"/>']
        if self.title and layout.title_y is not None:
            out.append(f'<text x="{num(layout.left)}" y="{num(layout.title_y)}" '
                       f'font-size="13" font-weight="bold" fill="{INK}">'
                       f'{escape(clip(self.title, layout.right - layout.left, 13))}</text>')
        if layout.caption_y is not None and self.report is not None:
            out.append(f'<text x="{num(layout.left)}" y="{num(layout.caption_y)}" '
                       f'font-size="11" fill="{INK}">'
                       f'{escape(clip(_caption(self.report), layout.right - layout.left, 11))}'
                       f'</text>')
        if self.legend:
            out.extend(legend_parts(layout.legend_rows, layout.legend_top))
        out.extend(_grid_and_axis(layout))
        for key in layout.keys:
            out.extend(store_lane(layout, key, self.story.versions[key], self.marks))
        if layout.hidden_keys:
            y = layout.store_top + len(layout.keys) * layout.store_h + 10
            out.append(f'<text x="{num(layout.left)}" y="{num(y)}" font-size="10" '
                       f'fill="{MUTED}">+ {layout.hidden_keys} more key(s) not drawn</text>')
        lanes, self._bars = writer_lanes(layout, self.history, self.story.facts, self.marks,
                                         len(self.story.versions) > 1)
        out.extend(lanes)
        if not self.n:
            out.append(f'<text x="{num((layout.left + layout.right) / 2)}" '
                       f'y="{num(layout.lanes_top + 14)}" text-anchor="middle" '
                       f'fill="{MUTED}">no operations yet</text>')
        return out

    # -- the cursor overlay ------------------------------------------------------------------

    def cursor_time(self, cursor: int | None) -> int | None:
        """The invoke time of the operation at position *cursor* (clamped), or None."""
        if cursor is None or not self.n:
            return None
        return self.history.operations[max(0, min(self.n - 1, cursor))].invoke_us

    def overlay(self, cursor: int | None = None, cursor_us: int | None = None,
                fade: bool = True) -> str:
        """The SVG elements for a cursor: an operation index and/or a virtual time."""
        cursor = max(0, min(self.n - 1, cursor)) if cursor is not None and self.n else None
        if cursor_us is None:
            cursor_us = self.cursor_time(cursor)
        out: list[str] = []
        if cursor_us is not None and self.layout.t0 <= cursor_us <= self.layout.t1:
            out.extend(self._time_line(cursor_us, fade))
        if cursor is not None:
            out.extend(self._highlight(cursor))
        return "".join(out)

    def _time_line(self, cursor_us: int, fade: bool) -> list[str]:
        layout = self.layout
        x = layout.x(cursor_us)
        top, bottom = layout.store_top - 4, layout.lanes_bottom + 4
        out = []
        if fade and x < layout.right:
            out.append(f'<rect x="{num(x)}" y="{num(top)}" width="{num(layout.right - x + 1)}" '
                       f'height="{num(bottom - top)}" fill="{WHITE}" fill-opacity="0.55"/>')
        out.append(f'<path d="M{num(x)} {num(top)}V{num(bottom)}" stroke="{CURSOR}" '
                   f'stroke-width="1.5"/>')
        text = f"{(cursor_us - layout.full_range[0]) / 1000:.3f} ms"
        tx = min(layout.right - len(text) * 10 * CHAR_W / 2,
                 max(layout.left + len(text) * 10 * CHAR_W / 2, x))
        out.append(f'<text x="{num(tx)}" y="{num(bottom + 24)}" font-size="10" '
                   f'text-anchor="middle" fill="{CURSOR}" stroke="{WHITE}" '
                   f'stroke-width="3" paint-order="stroke">{text}</text>')
        return out

    def _highlight(self, cursor: int) -> list[str]:
        """The cursor operation's bar redrawn on top, outlined, and described in words."""
        layout = self.layout
        op = self.history.operations[cursor]
        facts = self.story.facts.get(op.index, OpFacts())
        bar = self.bars.get(op.index)
        out = [] if bar is None else self._redraw(bar, op.applied_us)
        width = layout.right - layout.left
        line = (f"operation {cursor + 1} of {self.n} at "
                f"{(op.invoke_us - layout.full_range[0]) / 1000:.3f} ms: {describe(op, facts)}")
        out.append(f'<text x="{num(layout.left)}" y="{num(layout.info_y + 11)}" font-size="11" '
                   f'fill="{CURSOR}">{escape(clip(line, width, 11))}</text>')
        note = None
        if op.index in self.marks.overwrites:
            note = "lost update: " + self.marks.overwrites[op.index]
        elif op.index in self.marks.erased:
            note = "this increment is lost: " + self.marks.erased[op.index]
        if note:
            out.append(f'<text x="{num(layout.left)}" y="{num(layout.info_y + 26)}" '
                       f'font-size="11" fill="{CRIMSON}">{escape(clip(note, width, 11))}</text>')
        return out

    def _redraw(self, bar: Bar, applied_us: int | None) -> list[str]:
        layout = self.layout
        stroke = f' stroke="{bar.stroke}"' if bar.stroke else ""
        out = [f'<rect {bar.attrs()} fill="{bar.fill}"{stroke}/>']
        thick = layout.lost_stroke_width()
        if bar.index in self.marks.erased:
            out.append(f'<path d="{bar.strike()}" stroke="{CRIMSON}" stroke-width="{thick}"/>')
        if bar.index in self.marks.overwrites:
            out.append(f'<rect {bar.attrs()} fill="none" stroke="{CRIMSON}" '
                       f'stroke-width="{thick}"/>')
        out.append(f'<rect x="{num(bar.x1 - 2)}" y="{num(bar.y - 2)}" '
                   f'width="{num(bar.x2 - bar.x1 + 4)}" height="{num(bar.h + 4)}" '
                   f'fill="none" stroke="{CURSOR}" stroke-width="2.5"/>')
        if bar.label:
            size = layout.label_size
            out.append(bar.label_svg(size, f' font-size="{num(size)}" fill="{bar.text_fill}" '
                                           f'text-anchor="middle"'))
        if applied_us is not None and bar.key in layout.keys \
                and layout.t0 <= applied_us <= layout.t1:
            ax, lane = layout.x(applied_us), layout.store_y(bar.key)
            out.append(f'<path d="M{num(ax - 4)} {num(lane - 3)}h8l-4 6z" fill="{CURSOR}"/>')
        return out

    # -- whole documents ---------------------------------------------------------------------

    def svg(self, cursor: int | None = None, cursor_us: int | None = None,
            fade: bool = True) -> str:
        """The complete SVG: base plus cursor overlay."""
        return self._open() + self.base() + self.overlay(cursor, cursor_us, fade) + "</svg>"

    def base_svg(self) -> str:
        """Only the base, as a document (the bottom layer of a stacked display)."""
        return self._open() + self.base() + "</svg>"

    def overlay_svg(self, cursor: int | None = None, cursor_us: int | None = None,
                    fade: bool = True) -> str:
        """Only the cursor, as a transparent document the size of :meth:`base_svg`."""
        return self._open(overlay=True) + self.overlay(cursor, cursor_us, fade) + "</svg>"

    def op_bar(self, index: int) -> tuple[float, float, float, float] | None:
        """(x, y, width, height) of an operation's bar, or None if it is not drawn."""
        bar = self.bars.get(index)
        return None if bar is None else (round(bar.x1, 1), round(bar.y, 1),
                                          round(bar.x2 - bar.x1, 1), round(bar.h, 1))


def _caption(report: RaceReport) -> str:
    parts = [f"final value {report.final_total}, expected {report.expected}",
             f"lost updates {len(report.anomalies)}",
             f"409 conflicts {report.conflicts}",
             f"retries per success {report.retries_per_success:.2f}",
             f"{report.throughput_per_s:.0f} increments/s"]
    return " · ".join(parts)


def _grid_and_axis(layout: TimelineLayout) -> list[str]:
    """Vertical grid lines and the time axis, in virtual milliseconds."""
    step = nice_step((layout.t1 - layout.t0) / 1000
                     / max(2, int((layout.right - layout.left) / 90)))
    marks = ticks(math.ceil(layout.t0 / 1000 / step) * step, layout.t1 / 1000, step)
    top, bottom = layout.store_top - 4, layout.lanes_bottom
    decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    grid = "".join(f"M{num(layout.x(t * 1000))} {num(top)}V{num(bottom + 4)}" for t in marks)
    out = [f'<path d="{grid}" stroke="{GRID}" stroke-width="1"/>' if grid else "",
           f'<path d="M{num(layout.left)} {num(bottom + 4)}H{num(layout.right)}" '
           f'stroke="{MUTED}" stroke-width="1"/>',
           f'<g font-size="10" fill="{MUTED}" text-anchor="middle">']
    for t in marks:
        out.append(f'<text x="{num(layout.x(t * 1000))}" y="{num(bottom + 16)}">'
                   f'{t:.{decimals}f}</text>')
    out.append("</g>")
    out.append(f'<text x="{num(layout.left - 6)}" y="{num(bottom + 16)}" font-size="10" '
               f'fill="{MUTED}" text-anchor="end">ms</text>')
    if layout.tips_note:
        out.append(f'<text x="{num(layout.right)}" y="{num(bottom + 34)}" font-size="9.5" '
                   f'fill="{MUTED}" text-anchor="end">no tooltips with more than '
                   f'{TOOLTIP_LIMIT} bars in view: zoom in to hover</text>')
    return out


def render_timeline(history: History, report: RaceReport | None = None,
                    cursor: int | None = None, *, cursor_us: int | None = None,
                    title: str | None = None, width: int = 960,
                    window_us: tuple[int, int] | None = None,
                    time_range_us: tuple[int, int] | None = None, fade: bool = True,
                    legend: bool = True, tooltips: bool | None = None) -> str:
    """Render *history* as an SVG string (see the module docstring for what is drawn).

    *cursor* is an operation index (highlighted, described in words, with later activity
    faded unless *fade* is False); *cursor_us* a virtual time for the vertical cursor line
    (by default the cursor operation's invoke time). Pass the :class:`RaceReport` to get a
    caption with the outcome (compute it with :func:`statelab.analysis.races.analyse`).
    """
    timeline = Timeline(history, report, title=title, width=width, window_us=window_us,
                        time_range_us=time_range_us, legend=legend, tooltips=tooltips)
    return timeline.svg(cursor, cursor_us, fade)


def default_title(history: History) -> str:
    """A heading from the race parameters stored in ``history.meta``."""
    race = history.meta.get("race") or {}
    if not race:
        return f"{len(history)} operations"
    return (f"{race.get('mode')} · {race.get('writers')} writers × {race.get('increments')} "
            f"increments · {race.get('store')} store · seed {race.get('seed')}")
