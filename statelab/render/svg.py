"""What every statelab picture is made of: numbers, documents, text that fits, axis ticks.

Pictures are SVG strings built in Python (one renderer for the live widget, the stored notebook
output and the tests), so everything here is about producing the same bytes for the same
input: one number format, no ids, no clocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["CHAR_W", "FONT", "Point", "SVG_NS", "clip", "document", "fits", "nice_step", "num",
           "polyline", "thin", "ticks"]

FONT = "ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono','Liberation Mono',monospace"
CHAR_W = 0.62  # advance of one monospaced glyph, per unit of font size (DejaVu Sans Mono: 0.602)
SVG_NS = "http://www.w3.org/2000/svg"

Point = tuple[float, float]


def num(value: float) -> str:
    """A coordinate rounded to 0.1, formatted the same everywhere ("12", "12.5", never "-0")."""
    text = f"{value:.1f}"
    if text[-2:] == ".0":
        text = text[:-2]
    return "0" if text == "-0" else text


def document(width: float, height: float, *attributes: tuple[str, str]) -> str:
    """The opening ``<svg>`` tag; *attributes* (already escaped) follow in the order given."""
    w, h = num(width), num(height)
    extra = "".join(f' {name}="{value}"' for name, value in attributes)
    return f'<svg xmlns="{SVG_NS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}"{extra}>'


def fits(text: str, width: float, size: float) -> bool:
    """Whether *text* in the monospaced font fits in *width* with a little margin."""
    return len(text) * size * CHAR_W <= width - 3


def clip(text: str, width: float, size: float) -> str:
    """*text* cut with an ellipsis to fit in *width*."""
    room = int(width / (size * CHAR_W))
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)] + "…"


def nice_step(raw: float, mults: Sequence[float] = (1, 2, 5)) -> float:
    """The smallest round step (a *mult* times a power of ten) at least *raw*."""
    if raw <= 0:
        return 1.0
    power: float = 10 ** math.floor(math.log10(raw))
    for mult in mults:
        if raw <= mult * power:
            return mult * power
    return 10 * power


def ticks(first: float, last: float, step: float, *, slack: float = 1e-9) -> list[float]:
    """*first*, *first* + *step*, ... up to *last* (rounded, so steps never drift)."""
    out: list[float] = []
    value = first
    while value <= last + slack:
        out.append(value)
        value = round(value + step, 9)
    return out


def polyline(points: Sequence[Point]) -> str:
    """Path data (without the leading ``M``) through *points*."""
    return "L".join(f"{num(x)} {num(y)}" for x, y in points)


def thin(points: Sequence[Point]) -> list[Point]:
    """Drop points that repeat their predecessor once rounded (dense step lines)."""
    kept: list[Point] = []
    for x, y in points:
        point = (round(x, 1), round(y, 1))
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and kept[-1][0] == point[0] == kept[-2][0]:
            kept[-1] = point  # a vertical run: keep its end only
            continue
        kept.append(point)
    return kept
