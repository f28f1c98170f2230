"""Draw a race history as a self-contained, deterministic SVG timeline.

The picture follows Jepsen's timeline and Porcupine (one lane per client, a bar per request
from invoke to complete, coloured by outcome) and adds what a Dapr learner needs to see:

* a **store lane** per key (up to :data:`MAX_STORE_LANES`) with the version the key is at over
  time, each version labelled ``v3=2`` (version 3 holds the value 2) when there is room, and a
  step chart of *version* against *value*: without lost updates the two lines coincide; every
  lost update opens a (red) gap between them;
* a **writer lane** per writer (A, B, ...): writes are solid bars, reads are light bars with a
  coloured outline; green succeeded, orange a 409 conflict, red another error, grey timed out
  (indeterminate); a dark tick marks the moment the store applied the request. Reads are
  labelled with the version they saw (``v3``), writes with ``expects v3 → v4`` (or
  ``no etag → v4``) when the bar is wide enough;
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

Legibility rules: lane height shrinks from 28 px (up to 12 writers) to 5 px (68 and more); bar
labels are drawn only inside their bar, in a monospaced font whose width is known, trying a long
form, then a short form, then nothing, so labels never overlap; lane names thin out when lanes
are too low for every name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from statelab.analysis.history import History, Operation, writer_name
from statelab.analysis.races import RaceReport, lost_updates
from statelab.analysis.versions import OpFacts, replay

__all__ = ["MAX_STORE_LANES", "Timeline", "default_title", "describe", "legend_svg",
           "outcome_class", "render_timeline"]

MAX_STORE_LANES = 8
FONT = "ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace"
CHAR_W = 0.62  # advance of one monospaced glyph, per unit of font size (DejaVu Sans Mono: 0.602)

# (solid fill for writes, light fill for reads, text colour on the solid fill)
PALETTE = {
    "ok": ("#2e8b57", "#d3ecdd", "#ffffff"),
    "conflict": ("#ef9a1a", "#fbe2bb", "#1f1f1f"),
    "error": ("#d03b2f", "#f6cbc7", "#ffffff"),
    "info": ("#8d8d8d", "#e2e2e2", "#ffffff"),
}
OUTCOME_NAMES = {"ok": "succeeded", "conflict": "409 conflict", "error": "other error",
                 "info": "timed out (indeterminate)"}
LOST = "#c00018"
CURSOR = "#1f4fd1"
INK = "#1f1f1f"
MUTED = "#6b6b6b"
GRID = "#e6e6e6"
VERSION_LINE = "#3b4a5e"
VALUE_LINE = "#2e8b57"
READ_HEIGHT = 0.7  # reads are thinner bars than writes (a cue that survives fading and greyscale)
TOOLTIP_LIMIT = 800  # bars in view; above it, tooltips are left out unless asked for
TICKS_MIN_WIDTH = 5.0  # below this median bar width, lanes skip the apply ticks (only clutter)


def _f(value: float) -> str:
    """A coordinate rounded to 0.1, formatted the same everywhere ("12", "12.5", never "-0")."""
    text = f"{value:.1f}"
    if text[-2:] == ".0":
        text = text[:-2]
    return "0" if text == "-0" else text


def _ms(us: float) -> str:
    """Virtual time for people: 12.345 ms, 1.2 s past 10 s."""
    ms = us / 1000
    if abs(ms) >= 10000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.3f} ms"


def _fits(text: str, width: float, size: float) -> bool:
    return len(text) * size * CHAR_W <= width - 3


def _clip(text: str, width: float, size: float) -> str:
    room = int(width / (size * CHAR_W))
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)] + "…"


def _value_text(value: Any) -> str:
    if type(value) is int:
        return str(value)
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 16 else text[:13] + "..."


def outcome_class(op: Operation) -> str:
    """``ok``, ``conflict`` (a 409), ``error`` (any other failure) or ``info`` (timed out)."""
    if op.outcome == "ok":
        return "ok"
    if op.outcome == "info":
        return "info"
    return "conflict" if op.status == 409 else "error"


def describe(op: Operation, facts: OpFacts) -> str:
    """One plain sentence about a request, in version numbers (used by tooltips and cursor)."""
    who = op.writer
    attempt = f" (attempt {op.attempt})" if op.attempt > 1 else ""
    if op.kind == "read":
        head = f"{who} reads {op.key}{attempt}"
        if op.outcome == "info":
            return f"{head}: timed out after {_ms(op.latency_us)}"
        if op.outcome == "ok" and op.status == 200:
            where = f" at v{facts.seen}" if facts.seen is not None else ""
            return f"{head}: value {_value_text(op.value)}{where}"
        if op.outcome == "ok":
            return f"{head}: empty ({op.status})"
        return f"{head}: {op.status} {op.error_code or ''}".rstrip()
    verb = "deletes" if op.kind == "delete" else f"writes {_value_text(op.value)} to"
    head = f"{who} {verb} {op.key}"
    if op.etag_sent is not None:
        head += f" with the ETag of v{_v(facts.expects)}"
    elif op.kind == "write":
        head += " without an ETag"
        if facts.based:
            head += f" (computed from v{facts.based})"
    head += attempt
    if op.outcome == "info":
        tail = f"timed out after {_ms(op.latency_us)}, indeterminate"
        if facts.made is not None:
            tail += f"; the store did apply it, as v{facts.made}"
        elif facts.applied:
            tail += "; the store rejected it"
        return f"{head}: {tail}"
    if op.outcome == "ok":
        return f"{head}: {op.status}" + (f", now v{facts.made}" if facts.made is not None
                                         else "")
    tail = f"{op.status} {op.error_code or ''}".rstrip()
    if op.status == 409 and facts.store_at is not None:
        tail += f" (the key is at v{facts.store_at})"
    return f"{head}: {tail}"


def _v(number: int | None) -> str:
    return "?" if number is None else str(number)


def _labels(op: Operation, facts: OpFacts) -> tuple[str, ...]:
    """Bar labels, longest first; the renderer picks the first that fits."""
    if op.kind == "read":
        if op.outcome == "info":
            return ("timeout", "?")
        if op.outcome != "ok":
            return (str(op.status),)
        if op.status == 200:
            return (f"saw v{_v(facts.seen)}", f"v{_v(facts.seen)}")
        return ("empty", "v0")
    cls = outcome_class(op)
    result = {"ok": f"v{_v(facts.made)}", "conflict": "409", "info": "timeout",
              "error": str(op.status)}[cls]
    if op.kind == "delete":
        return (f"delete → {result}", result)
    if op.etag_sent is not None:
        return (f"expects v{_v(facts.expects)} → {result}",
                f"v{_v(facts.expects)}→{result}", result)
    if facts.based:
        return (f"from v{facts.based}, no etag → {result}", f"no etag → {result}",
                f"→{result}", result)
    return (f"no etag → {result}", f"→{result}", result)


def _nice_step(span: float, target: int) -> float:
    raw = span / max(1, target)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


@dataclass
class _Bar:
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


class Timeline:
    """A history laid out once; :meth:`svg` draws it with any cursor, reusing the layout.

    *report* (optional) adds a caption line; *title* a heading. *time_range_us* fixes the time
    axis (to compare two runs on one scale); *window_us* draws only that stretch of time
    (zoom). *writers* forces the number of writer lanes (for a live history that is still
    growing). *width* is in pixels; the height follows from the number of lanes.
    *tooltips* (a ``<title>`` per bar) default to on when at most :data:`TOOLTIP_LIMIT` bars
    are in view: beyond that they double the size for bars too thin to hover (zoom in instead).
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
        self.width = max(320, int(width))
        self.legend = legend
        self.tooltips = tooltips
        ops = history.operations
        self.n = len(ops)
        self.story = replay(history)
        self._anomaly_of: dict[int, str] = {}
        self._lost_by: dict[int, str] = {}
        for anomaly, sentence in lost_updates(history):
            self._anomaly_of[anomaly.write_index] = sentence
            for lost in anomaly.lost_indexes:
                self._lost_by.setdefault(lost, sentence)
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
        keys = sorted(self.story.versions, key=_natural)
        self.keys = keys[:MAX_STORE_LANES]
        self.hidden_keys = len(keys) - len(self.keys)
        lanes = max(1, count)
        self.lane_h = max(5.0, min(28.0, 340.0 / lanes))
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
        self.caption_y = y + 11 if report is not None else None
        y += 18 if report is not None else 0
        self.legend_top = y
        self.legend_rows = _legend_rows(self.left, self.width) if legend else []
        y += 18 * (max((row for row, _, _ in self.legend_rows), default=-1) + 1)
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
        self._bars: dict[int, _Bar] = {}
        self._base: str | None = None

    # -- geometry ----------------------------------------------------------------------------

    def x(self, time_us: float) -> float:
        span = self.t1 - self.t0
        return self.left + (time_us - self.t0) * (self.right - self.left) / span

    def _xc(self, time_us: float) -> float:
        return min(self.right, max(self.left, self.x(time_us)))

    def lane_y(self, process: int) -> float:
        return self.lanes_top + process * self.lane_h

    def visible(self, op: Operation) -> bool:
        end = op.complete_us
        if op.applied_us is not None:
            end = max(end, op.applied_us)
        return end >= self.t0 and op.invoke_us <= self.t1

    def cursor_time(self, cursor: int | None) -> int | None:
        if cursor is None or not self.n:
            return None
        return self.history.operations[max(0, min(self.n - 1, cursor))].invoke_us

    # -- the base drawing --------------------------------------------------------------------

    def _open(self, overlay: bool = False) -> str:
        label = (f"Race timeline: {len(self.processes)} writer(s), {self.n} operation(s), "
                 f"{len(self.story.versions)} key(s)")
        style = ' style="display:block;pointer-events:none"' if overlay else \
            ' style="display:block"'
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
                f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
                f'font-family="{FONT}" font-size="11" role="img" '
                f'aria-label="{escape(label)}"{style}>')

    def base(self) -> str:
        """The SVG elements that do not depend on the cursor (cached)."""
        if self._base is None:
            self._base = "".join(self._draw_base())
        return self._base

    def _draw_base(self) -> list[str]:
        out: list[str] = [f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>']
        if self.title_y is not None and self.title:
            out.append(f'<text x="{_f(self.left)}" y="{_f(self.title_y)}" font-size="13" '
                       f'font-weight="bold" fill="{INK}">'
                       f'{escape(_clip(self.title, self.right - self.left, 13))}</text>')
        if self.caption_y is not None and self.report is not None:
            out.append(f'<text x="{_f(self.left)}" y="{_f(self.caption_y)}" font-size="11" '
                       f'fill="{INK}">{escape(_clip(self._caption(), self.right - self.left, 11))}'
                       f'</text>')
        if self.legend:
            out.extend(_legend_parts(self.legend_rows, self.legend_top))
        out.extend(self._grid_and_axis())
        out.extend(self._store_lanes())
        out.extend(self._writer_lanes())
        if not self.n:
            out.append(f'<text x="{_f((self.left + self.right) / 2)}" '
                       f'y="{_f(self.lanes_top + 14)}" text-anchor="middle" fill="{MUTED}">'
                       f'no operations yet</text>')
        return out

    def _caption(self) -> str:
        report = self.report
        assert report is not None
        parts = [f"final value {report.final_total}, expected {report.expected}",
                 f"lost updates {len(report.anomalies)}",
                 f"409 conflicts {report.conflicts}",
                 f"retries per success {report.retries_per_success:.2f}",
                 f"{report.throughput_per_s:.0f} increments/s"]
        return " · ".join(parts)

    def _grid_and_axis(self) -> list[str]:
        span_ms = (self.t1 - self.t0) / 1000
        step = _nice_step(span_ms, max(2, int((self.right - self.left) / 90)))
        first = math.ceil(self.t0 / 1000 / step) * step
        ticks = []
        value = first
        while value <= self.t1 / 1000 + 1e-9:
            ticks.append(value)
            value = round(value + step, 9)
        top, bottom = self.store_top - 4, self.lanes_bottom
        decimals = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
        grid = "".join(f"M{_f(self.x(t * 1000))} {_f(top)}V{_f(bottom + 4)}" for t in ticks)
        out = [f'<path d="{grid}" stroke="{GRID}" stroke-width="1"/>' if grid else "",
               f'<path d="M{_f(self.left)} {_f(bottom + 4)}H{_f(self.right)}" '
               f'stroke="{MUTED}" stroke-width="1"/>',
               f'<g font-size="10" fill="{MUTED}" text-anchor="middle">']
        for t in ticks:
            out.append(f'<text x="{_f(self.x(t * 1000))}" y="{_f(bottom + 16)}">'
                       f'{t:.{decimals}f}</text>')
        out.append("</g>")
        out.append(f'<text x="{_f(self.left - 6)}" y="{_f(bottom + 16)}" font-size="10" '
                   f'fill="{MUTED}" text-anchor="end">ms</text>')
        if self.tips_note:
            out.append(f'<text x="{_f(self.right)}" y="{_f(bottom + 34)}" font-size="9.5" '
                       f'fill="{MUTED}" text-anchor="end">no tooltips with more than '
                       f'{TOOLTIP_LIMIT} bars in view: zoom in to hover</text>')
        return out

    def _store_lanes(self) -> list[str]:
        out: list[str] = []
        for number, key in enumerate(self.keys):
            out.extend(self._store_lane(key, self.store_top + number * self.store_h))
        if self.hidden_keys:
            y = self.store_top + len(self.keys) * self.store_h + 10
            out.append(f'<text x="{_f(self.left)}" y="{_f(y)}" font-size="10" fill="{MUTED}">'
                       f'+ {self.hidden_keys} more key(s) not drawn</text>')
        return out

    def _store_lane(self, key: str, top: float) -> list[str]:
        versions = self.story.versions[key]
        out = [f'<g font-size="10" fill="{INK}" text-anchor="end">'
               f'<text x="{_f(self.left - 6)}" y="{_f(top + 11)}" font-weight="bold">store</text>'
               f'<text x="{_f(self.left - 6)}" y="{_f(top + 23)}" font-size="9" fill="{MUTED}">'
               f'{escape(_clip(key, self.left - 8, 9))}</text></g>']
        band_top, band_h = top, self.band_h
        lost_versions = {v.number for v in versions if v.index in self._lost_by}
        overwriting = {v.number for v in versions if v.index in self._anomaly_of}
        fills: dict[str, list[str]] = {"#eef1f5": [], "#dfe5ed": [], "#f7d3d0": []}
        labels: list[tuple[float, str, bool]] = []
        for i, version in enumerate(versions):
            start = version.time_us
            stop = versions[i + 1].time_us if i + 1 < len(versions) else self.t1
            if stop < self.t0 or start > self.t1:
                continue
            x1, x2 = self._xc(start), self._xc(stop)
            if version.number in lost_versions:
                colour = "#f7d3d0"
            else:
                colour = "#eef1f5" if version.number % 2 == 0 else "#dfe5ed"
            fills[colour].append(f"M{_f(x1)} {_f(band_top)}h{_f(max(0.0, x2 - x1))}"
                                 f"v{_f(band_h)}h{_f(-max(0.0, x2 - x1))}z")
            text = ("empty" if version.number == 0 and version.index is None
                    else f"v{version.number}={_value_text(version.value)}")
            if _fits(text, x2 - x1, 9.5):
                labels.append(((x1 + x2) / 2, text, version.number in overwriting))
            elif _fits(f"v{version.number}", x2 - x1, 9.5):
                labels.append(((x1 + x2) / 2, f"v{version.number}",
                               version.number in overwriting))
        for colour, parts in fills.items():
            if parts:
                out.append(f'<path d="{"".join(parts)}" fill="{colour}"/>')
        if labels:
            out.append(f'<g font-size="9.5" text-anchor="middle" fill="{INK}">')
            for x, text, red in labels:
                fill = f' fill="{LOST}"' if red else ""
                out.append(f'<text x="{_f(x)}" y="{_f(band_top + band_h - 3.5)}"{fill}>'
                           f'{escape(text)}</text>')
            out.append("</g>")
        # version against value: two step lines that part when increments are lost
        chart_top = band_top + band_h + 3
        chart_h = self.chart_h
        values = [v.value if isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
                  else 0 for v in versions]
        # scaled to what is visible, so a zoomed window still shows the lines part
        shown = [i for i, v in enumerate(versions)
                 if v.time_us <= self.t1 and (i + 1 == len(versions)
                                               or versions[i + 1].time_us >= self.t0)]
        amounts = [versions[i].number for i in shown] + [int(values[i]) for i in shown]
        low = min(amounts, default=0) if self.t0 > self.full_range[0] else 0
        high = max(amounts + [low + 1])

        def y_of(amount: float) -> float:
            return chart_top + chart_h - chart_h * (amount - low) / (high - low)

        version_pts: list[tuple[float, float]] = []
        value_pts: list[tuple[float, float]] = []
        for i, version in enumerate(versions):
            x = self._xc(max(version.time_us, self.t0))
            if version.time_us > self.t1:
                break
            if version_pts:
                version_pts.append((x, version_pts[-1][1]))
                value_pts.append((x, value_pts[-1][1]))
            version_pts.append((x, y_of(version.number)))
            value_pts.append((x, y_of(values[i])))
        if version_pts:
            version_pts.append((self.right, version_pts[-1][1]))
            value_pts.append((self.right, value_pts[-1][1]))
            version_pts = _thin(version_pts)
            value_pts = _thin(value_pts)
            gap = version_pts + value_pts[::-1]
            out.append(f'<path d="M{_points(gap)}z" fill="#f7d3d0"/>')
            out.append(f'<path d="M{_points(version_pts)}" fill="none" stroke="{VERSION_LINE}" '
                       f'stroke-width="1.5"/>')
            out.append(f'<path d="M{_points(value_pts)}" fill="none" stroke="{VALUE_LINE}" '
                       f'stroke-width="1.5"/>')
        last = [v for v in versions if v.time_us <= self.t1]
        if last:
            final = last[-1]
            value = values[len(last) - 1]
            shown = final.value if final.index is not None else 0
            text = f"v{final.number} · value {_value_text(shown)}"
            colour = LOST if final.number != value else INK
            box = len(text) * 10 * CHAR_W + 6
            out.append(f'<rect x="{_f(self.right - box)}" y="{_f(chart_top)}" width="{_f(box)}" '
                       f'height="12" fill="#ffffff" fill-opacity="0.85"/>'
                       f'<text x="{_f(self.right - 3)}" y="{_f(chart_top + 9.5)}" font-size="10" '
                       f'text-anchor="end" fill="{colour}">{escape(text)}</text>')
        # the store's apply ticks for every write
        ticks, red = [], []
        for version in versions:
            if version.index is None or not (self.t0 <= version.time_us <= self.t1):
                continue
            path = f"M{_f(self.x(version.time_us))} {_f(band_top + band_h)}v3"
            (red if version.index in self._anomaly_of else ticks).append(path)
        if ticks:
            out.append(f'<path d="{"".join(ticks)}" stroke="{INK}" stroke-width="1"/>')
        if red:
            out.append(f'<path d="{"".join(red)}" stroke="{LOST}" stroke-width="1.5"/>')
        return out

    def _writer_lanes(self) -> list[str]:
        out: list[str] = []
        bands = "".join(f"M{_f(self.left)} {_f(self.lane_y(p))}H{_f(self.right)}"
                        f"v{_f(self.lane_h)}H{_f(self.left)}z"
                        for p in self.processes if p % 2 == 1)
        if bands:
            out.append(f'<path d="{bands}" fill="#f5f6f8"/>')
        name_size = min(12.0, max(6.0, self.lane_h * 0.8))
        every = max(1, math.ceil(9 / self.lane_h)) if self.lane_h < 9 else 1
        out.append(f'<g font-size="{_f(name_size)}" fill="{INK}" text-anchor="end">')
        for p in self.processes:
            if p % every == 0:
                out.append(f'<text x="{_f(self.left - 6)}" '
                           f'y="{_f(self.lane_y(p) + self.lane_h / 2 + name_size * 0.35)}">'
                           f'{writer_name(p)}</text>')
        out.append("</g>")
        groups: dict[tuple[str, str | None], list[str]] = {}
        texts: dict[str, list[str]] = {}
        ticks: list[str] = []
        late: list[str] = []
        strikes: list[str] = []
        outlines: list[str] = []
        pairs = [(op, self._bar(op, position)) for position, op
                 in enumerate(self.history.operations) if self.visible(op)]
        widths = sorted(bar.x2 - bar.x1 for _, bar in pairs)
        show_ticks = bool(widths) and widths[len(widths) // 2] >= TICKS_MIN_WIDTH
        for op, bar in pairs:
            self._bars[op.index] = bar
            width = bar.x2 - bar.x1
            attrs = f'x="{_f(bar.x1)}" y="{_f(bar.y)}" width="{_f(width)}" height="{_f(bar.h)}"'
            title = f"<title>{escape(bar.title)}</title>" if self.tips else ""
            groups.setdefault((bar.fill, bar.stroke), []).append(f"<rect {attrs}>{title}</rect>"
                                                                 if title else f"<rect {attrs}/>")
            if bar.label:
                texts.setdefault(bar.text_fill, []).append(
                    f'<text x="{_f((bar.x1 + bar.x2) / 2)}" '
                    f'y="{_f(bar.y + bar.h / 2 + self.label_size * 0.36)}">'
                    f'{escape(bar.label)}</text>')
            if show_ticks and op.applied_us is not None and self.t0 <= op.applied_us <= self.t1:
                ax = self.x(op.applied_us)
                if bar.label and bar.x1 < ax < bar.x2:  # stubs above and below the label
                    stub = bar.h * 0.22
                    ticks.append(f"M{_f(ax)} {_f(bar.y)}v{_f(stub)}"
                                 f"M{_f(ax)} {_f(bar.y + bar.h - stub)}v{_f(stub)}")
                else:
                    ticks.append(f"M{_f(ax)} {_f(bar.y)}v{_f(bar.h)}")
                if op.applied_us > op.complete_us:  # applied after the client gave up
                    late.append(f"M{_f(bar.x2)} {_f(bar.y + bar.h / 2)}H{_f(ax)}")
            if op.index in self._lost_by:
                strikes.append(f"M{_f(bar.x1)} {_f(bar.y + bar.h / 2)}H{_f(bar.x2)}")
            if op.index in self._anomaly_of:
                tip = (f"<title>{escape('lost update: ' + self._anomaly_of[op.index])}</title>"
                       if self.tips else "")
                outlines.append(f"<rect {attrs}>{tip}</rect>")
        for (fill, stroke), rects in groups.items():
            extra = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
            out.append(f'<g fill="{fill}"{extra}>{"".join(rects)}</g>')
        if late:
            out.append(f'<path d="{"".join(late)}" stroke="{PALETTE["info"][0]}" '
                       f'stroke-width="1" stroke-dasharray="2 2"/>')
        if ticks:
            width = "1" if self.lane_h >= 9 else "0.8"
            out.append(f'<path d="{"".join(ticks)}" stroke="{INK}" stroke-width="{width}" '
                       f'stroke-opacity="0.75"/>')
        if strikes:
            out.append(f'<path d="{"".join(strikes)}" stroke="{LOST}" '
                       f'stroke-width="{_f(max(1.0, min(2.0, self.bar_h / 6)))}"/>')
        if outlines:
            out.append(f'<g fill="none" stroke="{LOST}" '
                       f'stroke-width="{_f(max(1.0, min(2.0, self.bar_h / 6)))}">'
                       f'{"".join(outlines)}</g>')
        for fill, parts in texts.items():
            out.append(f'<g font-size="{_f(self.label_size)}" fill="{fill}" '
                       f'text-anchor="middle">{"".join(parts)}</g>')
        return out

    def _bar(self, op: Operation, position: int) -> _Bar:
        facts = self.story.facts.get(op.index, OpFacts())
        cls = outcome_class(op)
        solid, light, on_solid = PALETTE[cls]
        is_read = op.kind == "read"
        x1, x2 = self._xc(op.invoke_us), self._xc(op.complete_us)
        if x2 - x1 < 1.0:  # keep every request visible
            x2 = min(self.right, x1 + 1.0)
            x1 = min(x1, x2 - 1.0)
        height = self.bar_h * READ_HEIGHT if is_read else self.bar_h
        y = self.lane_y(op.process) + (self.lane_h - height) / 2
        label = None
        if self.label_size >= 7 and height >= self.label_size + 2:
            candidates = _labels(op, facts)
            if len(self.story.versions) > 1:
                candidates = (f"{op.key}: {candidates[0]}",) + candidates
            for candidate in candidates:
                if _fits(candidate, x2 - x1, self.label_size):
                    label = candidate
                    break
        title = f"operation {position + 1}: {describe(op, facts)}\n" \
                f"invoke {_ms(op.invoke_us - self.full_range[0])}, " \
                f"complete {_ms(op.complete_us - self.full_range[0])}"
        if op.applied_us is not None:
            title += f", applied {_ms(op.applied_us - self.full_range[0])}"
        if op.index in self._anomaly_of:
            title += f"\nlost update: {self._anomaly_of[op.index]}"
        if op.index in self._lost_by:
            title += f"\nthis increment is lost: {self._lost_by[op.index]}"
        return _Bar(index=op.index, x1=x1, x2=x2, y=y, h=height,
                    fill=light if is_read else solid, stroke=solid if is_read else None,
                    text_fill=INK if is_read else on_solid, label=label, title=title,
                    is_read=is_read, key=op.key)

    # -- the cursor overlay ------------------------------------------------------------------

    def overlay(self, cursor: int | None = None, cursor_us: int | None = None,
                fade: bool = True) -> str:
        """The SVG elements for a cursor: an operation index and/or a virtual time."""
        if cursor is not None and self.n:
            cursor = max(0, min(self.n - 1, cursor))
        else:
            cursor = None
        if cursor_us is None:
            cursor_us = self.cursor_time(cursor)
        out: list[str] = []
        if cursor_us is not None and self.t0 <= cursor_us <= self.t1:
            x = self.x(cursor_us)
            top, bottom = self.store_top - 4, self.lanes_bottom + 4
            if fade and x < self.right:
                out.append(f'<rect x="{_f(x)}" y="{_f(top)}" width="{_f(self.right - x + 1)}" '
                           f'height="{_f(bottom - top)}" fill="#ffffff" fill-opacity="0.55"/>')
            out.append(f'<path d="M{_f(x)} {_f(top)}V{_f(bottom)}" stroke="{CURSOR}" '
                       f'stroke-width="1.5"/>')
            text = f"{(cursor_us - self.full_range[0]) / 1000:.3f} ms"
            tx = min(self.right - len(text) * 10 * CHAR_W / 2,
                     max(self.left + len(text) * 10 * CHAR_W / 2, x))
            out.append(f'<text x="{_f(tx)}" y="{_f(bottom + 24)}" font-size="10" '
                       f'text-anchor="middle" fill="{CURSOR}" stroke="#ffffff" '
                       f'stroke-width="3" paint-order="stroke">{text}</text>')
        if cursor is not None:
            op = self.history.operations[cursor]
            facts = self.story.facts.get(op.index, OpFacts())
            self.base()  # the bars' geometry is computed with the base
            bar = self._bars.get(op.index)
            if bar is not None:
                attrs = (f'x="{_f(bar.x1)}" y="{_f(bar.y)}" width="{_f(bar.x2 - bar.x1)}" '
                         f'height="{_f(bar.h)}"')
                stroke = f' stroke="{bar.stroke}"' if bar.stroke else ""
                out.append(f'<rect {attrs} fill="{bar.fill}"{stroke}/>')
                thick = _f(max(1.0, min(2.0, self.bar_h / 6)))
                if op.index in self._lost_by:
                    out.append(f'<path d="M{_f(bar.x1)} {_f(bar.y + bar.h / 2)}H{_f(bar.x2)}" '
                               f'stroke="{LOST}" stroke-width="{thick}"/>')
                if op.index in self._anomaly_of:
                    out.append(f'<rect {attrs} fill="none" stroke="{LOST}" '
                               f'stroke-width="{thick}"/>')
                out.append(f'<rect x="{_f(bar.x1 - 2)}" y="{_f(bar.y - 2)}" '
                           f'width="{_f(bar.x2 - bar.x1 + 4)}" height="{_f(bar.h + 4)}" '
                           f'fill="none" stroke="{CURSOR}" stroke-width="2.5"/>')
                if bar.label:
                    out.append(f'<text x="{_f((bar.x1 + bar.x2) / 2)}" '
                               f'y="{_f(bar.y + bar.h / 2 + self.label_size * 0.36)}" '
                               f'font-size="{_f(self.label_size)}" fill="{bar.text_fill}" '
                               f'text-anchor="middle">{escape(bar.label)}</text>')
                if op.applied_us is not None and bar.key in self.keys \
                        and self.t0 <= op.applied_us <= self.t1:
                    lane = self.store_top + self.keys.index(bar.key) * self.store_h
                    ax = self.x(op.applied_us)
                    out.append(f'<path d="M{_f(ax - 4)} {_f(lane - 3)}h8l-4 6z" '
                               f'fill="{CURSOR}"/>')
            width = self.right - self.left
            line = (f"operation {cursor + 1} of {self.n} at "
                    f"{(op.invoke_us - self.full_range[0]) / 1000:.3f} ms: {describe(op, facts)}")
            out.append(f'<text x="{_f(self.left)}" y="{_f(self.info_y + 11)}" font-size="11" '
                       f'fill="{CURSOR}">{escape(_clip(line, width, 11))}</text>')
            note = None
            if op.index in self._anomaly_of:
                note = "lost update: " + self._anomaly_of[op.index]
            elif op.index in self._lost_by:
                note = "this increment is lost: " + self._lost_by[op.index]
            if note:
                out.append(f'<text x="{_f(self.left)}" y="{_f(self.info_y + 26)}" '
                           f'font-size="11" fill="{LOST}">{escape(_clip(note, width, 11))}</text>')
        return "".join(out)

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
        self.base()  # the overlay reuses the bars' geometry
        return self._open(overlay=True) + self.overlay(cursor, cursor_us, fade) + "</svg>"

    def op_bar(self, index: int) -> tuple[float, float, float, float] | None:
        """(x, y, width, height) of an operation's bar, or None if it is not drawn."""
        self.base()
        bar = self._bars.get(index)
        return None if bar is None else (round(bar.x1, 1), round(bar.y, 1),
                                          round(bar.x2 - bar.x1, 1), round(bar.h, 1))


LEGEND = (("write-ok", "write ok"), ("read-ok", "read ok"), ("conflict", "409 conflict"),
          ("error", "other error"), ("info", "timed out (indeterminate)"),
          ("tick", "store applies"), ("overwrite", "lost update: overwrites"),
          ("lost", "increment lost"), ("lines", "version / value"))


def _legend_rows(left: float, width: float) -> list[tuple[int, float, int]]:
    """(row, x, item number) for each legend item, wrapping within the width."""
    placed = []
    row, x = 0, left
    for number, (_, text) in enumerate(LEGEND):
        room = 22 + len(text) * 10.5 * CHAR_W + 14
        if x + room > width - 8 and x > left:
            row, x = row + 1, left
        placed.append((row, x, number))
        x += room
    return placed


def _legend_parts(rows: list[tuple[int, float, int]], top: float) -> list[str]:
    out = [f'<g font-size="10.5" fill="{INK}">']
    for row, x, number in rows:
        kind, text = LEGEND[number]
        y = top + row * 18 + 3
        box = f'<rect x="{_f(x)}" y="{_f(y)}" width="18" height="10"'
        if kind == "write-ok":
            out.append(f'{box} fill="{PALETTE["ok"][0]}"/>')
        elif kind == "read-ok":
            out.append(f'<rect x="{_f(x)}" y="{_f(y + 1.5)}" width="18" height="7" '
                       f'fill="{PALETTE["ok"][1]}" stroke="{PALETTE["ok"][0]}"/>')
        elif kind in PALETTE:
            out.append(f'{box} fill="{PALETTE[kind][0]}"/>')
        elif kind == "tick":
            out.append(f'<rect x="{_f(x)}" y="{_f(y + 1.5)}" width="18" height="7" '
                       f'fill="{PALETTE["ok"][1]}" stroke="{PALETTE["ok"][0]}"/>'
                       f'<path d="M{_f(x + 9)} {_f(y)}v10" stroke="{INK}" stroke-width="1.5"/>')
        elif kind == "overwrite":
            out.append(f'{box} fill="{PALETTE["ok"][0]}" stroke="{LOST}" stroke-width="2"/>')
        elif kind == "lost":
            out.append(f'{box} fill="{PALETTE["ok"][0]}"/><path d="M{_f(x)} {_f(y + 5)}h18" '
                       f'stroke="{LOST}" stroke-width="2"/>')
        elif kind == "lines":
            out.append(f'<path d="M{_f(x)} {_f(y + 3)}h18" stroke="{VERSION_LINE}" '
                       f'stroke-width="1.5"/><path d="M{_f(x)} {_f(y + 8)}h18" '
                       f'stroke="{VALUE_LINE}" stroke-width="1.5"/>')
        out.append(f'<text x="{_f(x + 22)}" y="{_f(y + 9)}">{escape(text)}</text>')
    out.append("</g>")
    return out


def legend_svg(width: int = 960, left: float = 70.0) -> str:
    """The timeline legend alone (for views that put several timelines under one legend)."""
    rows = _legend_rows(left, width)
    height = 18 * (max((row for row, _, _ in rows), default=0) + 1) + 4
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11" '
            f'style="display:block" role="img" aria-label="legend">'
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            + "".join(_legend_parts(rows, 2)) + "</svg>")


def _natural(text: str) -> tuple[Any, ...]:
    """Sort "counter-2" before "counter-10"."""
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", text))


def _points(points: Sequence[tuple[float, float]]) -> str:
    return "L".join(f"{_f(x)} {_f(y)}" for x, y in points)


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop points that repeat their predecessor once rounded (dense step lines)."""
    kept: list[tuple[float, float]] = []
    for x, y in points:
        point = (round(x, 1), round(y, 1))
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and kept[-1][0] == point[0] == kept[-2][0]:
            kept[-1] = point  # a vertical run: keep its end only
            continue
        kept.append(point)
    return kept


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

