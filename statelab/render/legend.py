"""The race timeline's legend: one swatch per mark the timeline draws, wrapped to the width.

It is a module of its own because a comparison of several timelines shows one legend above
them all instead of one per picture.
"""

from __future__ import annotations

from html import escape

from statelab.render.palette import CRIMSON, GREEN, GREEN_LIGHT, INK, OUTCOME_COLOURS, SLATE, WHITE
from statelab.render.svg import CHAR_W, FONT, document, num

__all__ = ["LEGEND", "legend_parts", "legend_rows", "legend_svg"]

LEGEND = (("write-ok", "write ok"), ("read-ok", "read ok"), ("conflict", "409 conflict"),
          ("error", "other error"), ("info", "timed out (indeterminate)"),
          ("tick", "store applies"), ("overwrite", "lost update: overwrites"),
          ("lost", "increment lost"), ("lines", "version / value"))
ROW_H = 18


def legend_rows(left: float, width: float) -> list[tuple[int, float, int]]:
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


def _swatch(kind: str, x: float, y: float) -> str:
    box = f'<rect x="{num(x)}" y="{num(y)}" width="18" height="10"'
    read = (f'<rect x="{num(x)}" y="{num(y + 1.5)}" width="18" height="7" '
            f'fill="{GREEN_LIGHT}" stroke="{GREEN}"/>')
    if kind == "write-ok":
        return f'{box} fill="{GREEN}"/>'
    if kind == "read-ok":
        return read
    if kind in OUTCOME_COLOURS:
        return f'{box} fill="{OUTCOME_COLOURS[kind][0]}"/>'
    if kind == "tick":
        return read + f'<path d="M{num(x + 9)} {num(y)}v10" stroke="{INK}" stroke-width="1.5"/>'
    if kind == "overwrite":
        return f'{box} fill="{GREEN}" stroke="{CRIMSON}" stroke-width="2"/>'
    if kind == "lost":
        return (f'{box} fill="{GREEN}"/><path d="M{num(x)} {num(y + 5)}h18" '
                f'stroke="{CRIMSON}" stroke-width="2"/>')
    return (f'<path d="M{num(x)} {num(y + 3)}h18" stroke="{SLATE}" '  # the two lines
            f'stroke-width="1.5"/><path d="M{num(x)} {num(y + 8)}h18" '
            f'stroke="{GREEN}" stroke-width="1.5"/>')


def legend_parts(rows: list[tuple[int, float, int]], top: float) -> list[str]:
    """The legend's SVG elements, its first row at *top*."""
    out = [f'<g font-size="10.5" fill="{INK}">']
    for row, x, number in rows:
        kind, text = LEGEND[number]
        y = top + row * ROW_H + 3
        out.append(_swatch(kind, x, y))
        out.append(f'<text x="{num(x + 22)}" y="{num(y + 9)}">{escape(text)}</text>')
    out.append("</g>")
    return out


def legend_svg(width: int = 960, left: float = 70.0) -> str:
    """The timeline legend alone (for views that put several timelines under one legend)."""
    rows = legend_rows(left, width)
    height = ROW_H * (max((row for row, _, _ in rows), default=0) + 1) + 4
    return (document(width, height, ("font-family", FONT), ("font-size", "11"),
                     ("style", "display:block"), ("role", "img"), ("aria-label", "legend"))
            + f'<rect width="{width}" height="{height}" fill="{WHITE}"/>'
            + "".join(legend_parts(rows, 2)) + "</svg>")
