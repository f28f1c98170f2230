"""A key's store lane: the version the key is at over time, and version against value.

The band shows each version (``v3=2``: version 3 holds the value 2); under it, two step lines
draw the version number and the stored value. Without lost updates they coincide; every lost
update opens a red gap between them, which is the picture of "increments went missing".
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from statelab.analysis.versions import Version
from statelab.render.describe import value_text
from statelab.render.lost_marks import LostMarks
from statelab.render.palette import BAND, BAND_DARK, CRIMSON, GREEN, INK, MUTED, PINK, SLATE, WHITE
from statelab.render.svg import CHAR_W, Point, clip, fits, num, polyline, thin
from statelab.render.timeline_layout import TimelineLayout

__all__ = ["store_lane"]

VERSION_LINE = SLATE
VALUE_LINE = GREEN


def store_lane(layout: TimelineLayout, key: str, versions: Sequence[Version],
               marks: LostMarks) -> list[str]:
    """The SVG elements of *key*'s store lane, drawn in *layout*'s window."""
    top = layout.store_y(key)
    out = [f'<g font-size="10" fill="{INK}" text-anchor="end">'
           f'<text x="{num(layout.left - 6)}" y="{num(top + 11)}" font-weight="bold">store</text>'
           f'<text x="{num(layout.left - 6)}" y="{num(top + 23)}" font-size="9" fill="{MUTED}">'
           f'{escape(clip(key, layout.left - 8, 9))}</text></g>']
    out.extend(_bands(layout, top, versions, marks))
    values = [v.value if isinstance(v.value, (int, float)) and not isinstance(v.value, bool)
              else 0 for v in versions]
    chart_top = top + layout.band_h + 3
    out.extend(_chart(layout, chart_top, versions, values))
    out.extend(_final(layout, chart_top, versions, values))
    out.extend(_apply_ticks(layout, top + layout.band_h, versions, marks))
    return out


def _bands(layout: TimelineLayout, top: float, versions: Sequence[Version],
           marks: LostMarks) -> list[str]:
    """A band per version, alternating shades (red: a lost version), labelled if room."""
    lost_versions = {v.number for v in versions if v.index in marks.erased}
    overwriting = {v.number for v in versions if v.index in marks.overwrites}
    fills: dict[str, list[str]] = {BAND: [], BAND_DARK: [], PINK: []}
    labels: list[tuple[float, str, bool]] = []
    for i, version in enumerate(versions):
        start = version.time_us
        stop = versions[i + 1].time_us if i + 1 < len(versions) else layout.t1
        if stop < layout.t0 or start > layout.t1:
            continue
        x1, x2 = layout.xc(start), layout.xc(stop)
        if version.number in lost_versions:
            colour = PINK
        else:
            colour = BAND if version.number % 2 == 0 else BAND_DARK
        fills[colour].append(f"M{num(x1)} {num(top)}h{num(max(0.0, x2 - x1))}"
                             f"v{num(layout.band_h)}h{num(-max(0.0, x2 - x1))}z")
        text = ("empty" if version.number == 0 and version.index is None
                else f"v{version.number}={value_text(version.value)}")
        for candidate in (text, f"v{version.number}"):
            if fits(candidate, x2 - x1, 9.5):
                labels.append(((x1 + x2) / 2, candidate, version.number in overwriting))
                break
    out = [f'<path d="{"".join(parts)}" fill="{colour}"/>'
           for colour, parts in fills.items() if parts]
    if labels:
        out.append(f'<g font-size="9.5" text-anchor="middle" fill="{INK}">')
        for x, text, red in labels:
            fill = f' fill="{CRIMSON}"' if red else ""
            out.append(f'<text x="{num(x)}" y="{num(top + layout.band_h - 3.5)}"{fill}>'
                       f'{escape(text)}</text>')
        out.append("</g>")
    return out


def _chart(layout: TimelineLayout, chart_top: float, versions: Sequence[Version],
           values: list[float]) -> list[str]:
    """Version and value as two step lines, the gap between them filled red."""
    chart_h = layout.chart_h
    # scaled to what is visible, so a zoomed window still shows the lines part
    shown = [i for i, v in enumerate(versions)
             if v.time_us <= layout.t1 and (i + 1 == len(versions)
                                            or versions[i + 1].time_us >= layout.t0)]
    amounts = [versions[i].number for i in shown] + [int(values[i]) for i in shown]
    low = min(amounts, default=0) if layout.t0 > layout.full_range[0] else 0
    high = max(amounts + [low + 1])

    def y_of(amount: float) -> float:
        return chart_top + chart_h - chart_h * (amount - low) / (high - low)

    version_pts: list[Point] = []
    value_pts: list[Point] = []
    for i, version in enumerate(versions):
        x = layout.xc(max(version.time_us, layout.t0))
        if version.time_us > layout.t1:
            break
        if version_pts:
            version_pts.append((x, version_pts[-1][1]))
            value_pts.append((x, value_pts[-1][1]))
        version_pts.append((x, y_of(version.number)))
        value_pts.append((x, y_of(values[i])))
    if not version_pts:
        return []
    version_pts.append((layout.right, version_pts[-1][1]))
    value_pts.append((layout.right, value_pts[-1][1]))
    version_pts = thin(version_pts)
    value_pts = thin(value_pts)
    gap = version_pts + value_pts[::-1]
    return [f'<path d="M{polyline(gap)}z" fill="{PINK}"/>',
            f'<path d="M{polyline(version_pts)}" fill="none" stroke="{VERSION_LINE}" '
            f'stroke-width="1.5"/>',
            f'<path d="M{polyline(value_pts)}" fill="none" stroke="{VALUE_LINE}" '
            f'stroke-width="1.5"/>']


def _final(layout: TimelineLayout, chart_top: float, versions: Sequence[Version],
           values: list[float]) -> list[str]:
    """The version and value at the window's end, red when they differ."""
    last = [v for v in versions if v.time_us <= layout.t1]
    if not last:
        return []
    final = last[-1]
    value = values[len(last) - 1]
    shown = final.value if final.index is not None else 0
    text = f"v{final.number} · value {value_text(shown)}"
    colour = CRIMSON if final.number != value else INK
    box = len(text) * 10 * CHAR_W + 6
    return [f'<rect x="{num(layout.right - box)}" y="{num(chart_top)}" width="{num(box)}" '
            f'height="12" fill="{WHITE}" fill-opacity="0.85"/>'
            f'<text x="{num(layout.right - 3)}" y="{num(chart_top + 9.5)}" font-size="10" '
            f'text-anchor="end" fill="{colour}">{escape(text)}</text>']


def _apply_ticks(layout: TimelineLayout, y: float, versions: Sequence[Version],
                 marks: LostMarks) -> list[str]:
    """A tick under the band where the store applied each write (red: an overwrite)."""
    ticks: list[str] = []
    red: list[str] = []
    for version in versions:
        if version.index is None or not (layout.t0 <= version.time_us <= layout.t1):
            continue
        path = f"M{num(layout.x(version.time_us))} {num(y)}v3"
        (red if version.index in marks.overwrites else ticks).append(path)
    out = []
    if ticks:
        out.append(f'<path d="{"".join(ticks)}" stroke="{INK}" stroke-width="1"/>')
    if red:
        out.append(f'<path d="{"".join(red)}" stroke="{CRIMSON}" stroke-width="1.5"/>')
    return out
