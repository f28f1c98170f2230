"""The writer lanes: a bar per request from invoke to complete, coloured by outcome.

Writes are solid bars, reads thinner light bars with a coloured outline (a cue that survives
fading and greyscale); a dark tick marks the moment the store applied the request; lost
updates are outlined (the overwrite) or struck through (the erased increment) in red. Labels
are drawn only inside their bar, trying a long form, then a short form, then nothing, so they
never overlap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from statelab.analysis.history import History, Operation, writer_name
from statelab.analysis.versions import OpFacts
from statelab.render.describe import bar_labels, describe, format_ms, outcome_class
from statelab.render.lost_marks import LostMarks
from statelab.render.palette import CRIMSON, GREY, INK, LANE, OUTCOME_COLOURS
from statelab.render.svg import fits, num
from statelab.render.timeline_layout import TimelineLayout

__all__ = ["Bar", "READ_HEIGHT", "TICKS_MIN_WIDTH", "make_bar", "writer_lanes"]

READ_HEIGHT = 0.7  # reads are thinner bars than writes
TICKS_MIN_WIDTH = 5.0  # below this median bar width, lanes skip the apply ticks (only clutter)


@dataclass
class Bar:
    """Where and how one request is drawn (the cursor overlay redraws it from this)."""

    index: int
    x1: float
    x2: float
    y: float
    h: float
    fill: str
    stroke: str | None
    text_fill: str
    label: str | None
    title: str
    is_read: bool
    key: str

    def attrs(self) -> str:
        """The rectangle's geometry attributes."""
        return (f'x="{num(self.x1)}" y="{num(self.y)}" width="{num(self.x2 - self.x1)}" '
                f'height="{num(self.h)}"')

    def label_svg(self, size: float, extra: str = "") -> str:
        """A ``<text>`` centred in the bar (*extra*: attributes before the closing ``>``)."""
        return (f'<text x="{num((self.x1 + self.x2) / 2)}" '
                f'y="{num(self.y + self.h / 2 + size * 0.36)}"{extra}>'
                f'{escape(self.label or "")}</text>')

    def strike(self) -> str:
        """Path data of the red line through an erased increment."""
        return f"M{num(self.x1)} {num(self.y + self.h / 2)}H{num(self.x2)}"


def _label(layout: TimelineLayout, op: Operation, facts: OpFacts, width: float,
           height: float, many_keys: bool) -> str | None:
    if layout.label_size < 7 or height < layout.label_size + 2:
        return None
    candidates = bar_labels(op, facts)
    if many_keys:
        candidates = (f"{op.key}: {candidates[0]}",) + candidates
    return next((c for c in candidates if fits(c, width, layout.label_size)), None)


def make_bar(layout: TimelineLayout, op: Operation, position: int, facts: OpFacts,
             marks: LostMarks, many_keys: bool) -> Bar:
    """The bar of *op*, the *position*-th request of the history."""
    solid, light, on_solid = OUTCOME_COLOURS[outcome_class(op)]
    is_read = op.kind == "read"
    x1, x2 = layout.xc(op.invoke_us), layout.xc(op.complete_us)
    if x2 - x1 < 1.0:  # keep every request visible
        x2 = min(layout.right, x1 + 1.0)
        x1 = min(x1, x2 - 1.0)
    height = layout.bar_h * READ_HEIGHT if is_read else layout.bar_h
    y = layout.lane_y(op.process) + (layout.lane_h - height) / 2
    start = layout.full_range[0]
    title = f"operation {position + 1}: {describe(op, facts)}\n" \
            f"invoke {format_ms(op.invoke_us - start)}, " \
            f"complete {format_ms(op.complete_us - start)}"
    if op.applied_us is not None:
        title += f", applied {format_ms(op.applied_us - start)}"
    if op.index in marks.overwrites:
        title += f"\nlost update: {marks.overwrites[op.index]}"
    if op.index in marks.erased:
        title += f"\nthis increment is lost: {marks.erased[op.index]}"
    return Bar(index=op.index, x1=x1, x2=x2, y=y, h=height,
               fill=light if is_read else solid, stroke=solid if is_read else None,
               text_fill=INK if is_read else on_solid,
               label=_label(layout, op, facts, x2 - x1, height, many_keys), title=title,
               is_read=is_read, key=op.key)


def _lane_names(layout: TimelineLayout) -> list[str]:
    """Every other lane shaded; names thinned out when lanes are too low for every name."""
    out: list[str] = []
    bands = "".join(f"M{num(layout.left)} {num(layout.lane_y(p))}H{num(layout.right)}"
                    f"v{num(layout.lane_h)}H{num(layout.left)}z"
                    for p in layout.processes if p % 2 == 1)
    if bands:
        out.append(f'<path d="{bands}" fill="{LANE}"/>')
    name_size = min(12.0, max(6.0, layout.lane_h * 0.8))
    every = max(1, math.ceil(9 / layout.lane_h)) if layout.lane_h < 9 else 1
    out.append(f'<g font-size="{num(name_size)}" fill="{INK}" text-anchor="end">')
    for p in layout.processes:
        if p % every == 0:
            out.append(f'<text x="{num(layout.left - 6)}" '
                       f'y="{num(layout.lane_y(p) + layout.lane_h / 2 + name_size * 0.35)}">'
                       f'{writer_name(p)}</text>')
    out.append("</g>")
    return out


class _Marks:
    """The writer lanes' elements, grouped by style so a big run stays a small document."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str | None], list[str]] = {}
        self.texts: dict[str, list[str]] = {}
        self.ticks: list[str] = []
        self.late: list[str] = []
        self.strikes: list[str] = []
        self.outlines: list[str] = []

    def apply_tick(self, layout: TimelineLayout, op: Operation, bar: Bar) -> None:
        if op.applied_us is None or not layout.t0 <= op.applied_us <= layout.t1:
            return
        ax = layout.x(op.applied_us)
        if bar.label and bar.x1 < ax < bar.x2:  # stubs above and below the label
            stub = bar.h * 0.22
            self.ticks.append(f"M{num(ax)} {num(bar.y)}v{num(stub)}"
                              f"M{num(ax)} {num(bar.y + bar.h - stub)}v{num(stub)}")
        else:
            self.ticks.append(f"M{num(ax)} {num(bar.y)}v{num(bar.h)}")
        if op.applied_us > op.complete_us:  # applied after the client gave up
            self.late.append(f"M{num(bar.x2)} {num(bar.y + bar.h / 2)}H{num(ax)}")

    def svg(self, layout: TimelineLayout) -> list[str]:
        out = []
        for (fill, stroke), rects in self.groups.items():
            extra = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
            out.append(f'<g fill="{fill}"{extra}>{"".join(rects)}</g>')
        if self.late:
            out.append(f'<path d="{"".join(self.late)}" stroke="{GREY}" '
                       f'stroke-width="1" stroke-dasharray="2 2"/>')
        if self.ticks:
            width = "1" if layout.lane_h >= 9 else "0.8"
            out.append(f'<path d="{"".join(self.ticks)}" stroke="{INK}" stroke-width="{width}" '
                       f'stroke-opacity="0.75"/>')
        thick = layout.lost_stroke_width()
        if self.strikes:
            out.append(f'<path d="{"".join(self.strikes)}" stroke="{CRIMSON}" '
                       f'stroke-width="{thick}"/>')
        if self.outlines:
            out.append(f'<g fill="none" stroke="{CRIMSON}" stroke-width="{thick}">'
                       f'{"".join(self.outlines)}</g>')
        for fill, parts in self.texts.items():
            out.append(f'<g font-size="{num(layout.label_size)}" fill="{fill}" '
                       f'text-anchor="middle">{"".join(parts)}</g>')
        return out


def writer_lanes(layout: TimelineLayout, history: History, facts: Mapping[int, OpFacts],
                 marks: LostMarks, many_keys: bool) -> tuple[list[str], dict[int, Bar]]:
    """The lanes' SVG elements and the bar of every request in view (by operation index)."""
    pairs = [(op, make_bar(layout, op, position, facts.get(op.index, OpFacts()), marks,
                           many_keys))
             for position, op in enumerate(history.operations) if layout.visible(op)]
    widths = sorted(bar.x2 - bar.x1 for _, bar in pairs)
    show_ticks = bool(widths) and widths[len(widths) // 2] >= TICKS_MIN_WIDTH
    drawn = _Marks()
    bars: dict[int, Bar] = {}
    for op, bar in pairs:
        bars[op.index] = bar
        title = f"<title>{escape(bar.title)}</title>" if layout.tips else ""
        drawn.groups.setdefault((bar.fill, bar.stroke), []).append(
            f"<rect {bar.attrs()}>{title}</rect>" if title else f"<rect {bar.attrs()}/>")
        if bar.label:
            drawn.texts.setdefault(bar.text_fill, []).append(bar.label_svg(layout.label_size))
        if show_ticks:
            drawn.apply_tick(layout, op, bar)
        if op.index in marks.erased:
            drawn.strikes.append(bar.strike())
        if op.index in marks.overwrites:
            tip = (f"<title>{escape('lost update: ' + marks.overwrites[op.index])}</title>"
                   if layout.tips else "")
            drawn.outlines.append(f"<rect {bar.attrs()}>{tip}</rect>")
    return _lane_names(layout) + drawn.svg(layout), bars

