"""Draw a sweep: retries, throughput and lost increments as the number of writers grows.

Three panels side by side, one series per mode, the writers on a categorical axis (1, 2, 4,
... are evenly spaced, as the sweep doubles them). Every point carries its numbers as a
tooltip, so the chart can be read precisely without a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from statelab.render.palette import BLUE, GRID, INK, MUTED, PURPLE, RED, WHITE
from statelab.render.svg import CHAR_W, FONT, document, nice_step, num, ticks

__all__ = ["SERIES_COLOURS", "SweepPoint", "render_sweep"]

SERIES_COLOURS = {"first-write": BLUE, "last-write": RED, "etag-with-last-write": PURPLE}
PANELS = (("retries per success", ("retries_per_success",), "{:.1f}", False),
          ("increments per second (log scale)", ("throughput_per_s", "kept_per_s"),
           "{:.0f}", True),
          ("increments lost (%)", ("lost_percent",), "{:.0f}", False))
WHAT = {"throughput_per_s": "acknowledged increments/s",
        "kept_per_s": "increments/s kept in the final value"}
HEIGHT = 250
TOP, BOTTOM = 36.0, HEIGHT - 52.0

Scale = tuple[Callable[[float], float], list[tuple[float, str]]]


@dataclass(frozen=True)
class SweepPoint:
    """One simulated race of a sweep."""

    mode: str
    writers: int
    increments: int
    operations: int
    retries_per_success: float
    throughput_per_s: float
    kept_per_s: float
    lost_percent: float
    final: int
    expected: int


def render_sweep(points: Sequence[SweepPoint], writers: Sequence[int], modes: Sequence[str],
                 width: int = 960) -> str:
    """The three panels of a sweep over *writers*, one series per mode, as one SVG."""
    out = [document(width, HEIGHT, ("font-family", FONT), ("font-size", "10"),
                    ("style", "display:block"), ("role", "img"),
                    ("aria-label", "sweep over the number of writers")),
           f'<rect width="{width}" height="{HEIGHT}" fill="{WHITE}"/>']
    panel_w = (width - 20) / 3
    for number, (title, attrs, fmt, log) in enumerate(PANELS):
        left = 10 + number * panel_w + 46
        right = 10 + (number + 1) * panel_w - 12
        panel = _Panel(left, right, writers, _scale(
            [getattr(p, attr) for p in points for attr in attrs], log))
        out.extend(panel.frame(title))
        for mode in modes:
            series = [p for p in points if p.mode == mode]
            for attr in attrs:
                out.extend(panel.series(mode, series, attr, fmt))
    out.extend(_legend(modes))
    out.append("</svg>")
    return "".join(out)


class _Panel:
    """One panel: a value axis from *scale*, the writers evenly spaced on the other."""

    def __init__(self, left: float, right: float, writers: Sequence[int], scale: Scale) -> None:
        self.left, self.right = left, right
        self.writers = list(writers)
        self.fraction, self.ticks = scale

    def y_of(self, value: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * self.fraction(value)

    def x_of(self, n: int) -> float:
        i = self.writers.index(n)
        return self.left + (self.right - self.left) * (i + 0.5) / len(self.writers)

    def frame(self, title: str) -> list[str]:
        left, right = self.left, self.right
        out = [f'<text x="{num(left)}" y="18" font-size="11.5" font-weight="bold" '
               f'fill="{INK}">{escape(title)}</text>']
        grid, labels = [], []
        for level, text in self.ticks:
            y = self.y_of(level)
            grid.append(f"M{num(left)} {num(y)}H{num(right)}")
            labels.append(f'<text x="{num(left - 4)}" y="{num(y + 3.5)}" text-anchor="end">'
                          f"{text}</text>")
        out.append(f'<path d="{"".join(grid)}" stroke="{GRID}"/>')
        out.append(f'<g fill="{MUTED}">{"".join(labels)}</g>')
        out.append(f'<g fill="{MUTED}" text-anchor="middle">' + "".join(
            f'<text x="{num(self.x_of(n))}" y="{num(BOTTOM + 14)}">{n}</text>'
            for n in self.writers) + "</g>")
        out.append(f'<text x="{num((left + right) / 2)}" y="{num(BOTTOM + 28)}" '
                   f'text-anchor="middle" fill="{MUTED}">writers</text>')
        out.append(f'<path d="M{num(left)} {num(BOTTOM)}H{num(right)}" stroke="{MUTED}"/>')
        return out

    def series(self, mode: str, series: list[SweepPoint], attr: str, fmt: str) -> list[str]:
        """A line with a marker per point (dashed, square markers: kept increments)."""
        colour = SERIES_COLOURS.get(mode, INK)
        dashed = attr == "kept_per_s"
        pts = [(self.x_of(p.writers), self.y_of(getattr(p, attr))) for p in series]
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out = [f'<path d="M{"L".join(f"{num(x)} {num(y)}" for x, y in pts)}" '
               f'fill="none" stroke="{colour}" stroke-width="2"{dash}/>']
        for p, (x, y) in zip(series, pts, strict=True):
            tip = (f"{mode}, {p.writers} writers x {p.increments} increments: "
                   f"{fmt.format(getattr(p, attr))} {WHAT.get(attr, '')}".rstrip())
            shape = (f'<rect x="{num(x - 2.5)}" y="{num(y - 2.5)}" width="5" '
                     f'height="5" fill="{WHITE}" stroke="{colour}" '
                     f'stroke-width="1.5">' if dashed else
                     f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{colour}">')
            out.append(f'{shape}<title>{escape(tip)}</title>'
                       f'{"</rect>" if dashed else "</circle>"}')
        return out


def _legend(modes: Sequence[str]) -> list[str]:
    out = []
    x = 56.0
    for mode in modes:
        colour = SERIES_COLOURS.get(mode, INK)
        out.append(f'<path d="M{num(x)} {HEIGHT - 10}h18" stroke="{colour}" '
                   f'stroke-width="2"/><text x="{num(x + 22)}" y="{HEIGHT - 6}" '
                   f'font-size="11" fill="{INK}">{escape(mode)}</text>')
        x += 40 + len(mode) * 11 * CHAR_W
    out.append(f'<path d="M{num(x + 10)} {HEIGHT - 10}h18" stroke="{MUTED}" stroke-width="2"/>'
               f'<text x="{num(x + 32)}" y="{HEIGHT - 6}" font-size="11" fill="{INK}">'
               f'acknowledged</text>'
               f'<path d="M{num(x + 140)} {HEIGHT - 10}h18" stroke="{MUTED}" stroke-width="2" '
               f'stroke-dasharray="5 3"/><text x="{num(x + 162)}" y="{HEIGHT - 6}" '
               f'font-size="11" fill="{INK}">kept in the final value</text>')
    return out


def _scale(values: list[float], log: bool) -> Scale:
    """A (value -> 0..1) function and the (value, label) ticks of one chart axis."""
    if log:
        return _log_scale(values)
    peak = max(values + [0.0])
    if peak < 1e-6:  # nothing to show (say, no increment lost): a 0..1 axis
        peak = 1.0
    step = nice_step(peak / 4, (1, 2, 2.5, 5))
    top = step * math.ceil(peak / step)

    def fraction(value: float) -> float:
        return value / top

    return fraction, [(level, _tick(level, step)) for level in ticks(0.0, top, step)]


def _log_scale(values: list[float]) -> Scale:
    positive = [v for v in values if v > 0] or [1.0]
    low = 10 ** math.floor(math.log10(min(positive)))
    high = 10 ** math.ceil(math.log10(max(positive)))
    high = high if high > low else low * 10
    span = math.log10(high) - math.log10(low)

    def fraction(value: float) -> float:
        return (math.log10(max(value, low)) - math.log10(low)) / span

    marks = []
    decade = low
    while decade <= high * 1.0001:
        for mult in ((1, 2, 5) if span <= 2 else (1,)):
            level = decade * mult
            if level <= high * 1.0001:
                marks.append((level, f"{level:g}"))
        decade *= 10
    return fraction, marks


def _tick(value: float, step: float) -> str:
    if step >= 1:
        return f"{value:.0f}"
    decimals = min(3, max(1, -int(math.floor(math.log10(step)))))
    return f"{value:.{decimals}f}"
