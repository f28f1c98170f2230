"""The one palette of statelab's pictures: every colour a drawing or a board uses is named here.

Colours are named for what they look like; the modules that draw give them their role (a
lost update is :data:`CRIMSON`, the cursor :data:`BLUE`). One palette keeps the meaning of a
colour the same from picture to picture: green always succeeded, orange always a conflict or
a failed write, red always an error or a stale read.
"""

from __future__ import annotations

from typing import Final

__all__ = ["AMBER", "BAND", "BAND_DARK", "BLUE", "CRIMSON", "GREEN", "GREEN_LIGHT", "GREY",
           "GRID", "INK", "LANE", "MUTED", "ORANGE", "ORANGE_LIGHT", "OUTCOME_COLOURS", "PINK",
           "PURPLE", "RED", "SLATE", "VIOLET", "WHITE"]

INK: Final = "#1f1f1f"  # text and marks
MUTED: Final = "#6b6b6b"  # axes and secondary text
GREY: Final = "#8d8d8d"  # timed out (indeterminate); replication arrows
GRID: Final = "#e6e6e6"  # grid lines; the light fill of a timed-out read
WHITE: Final = "#ffffff"
GREEN: Final = "#2e8b57"  # succeeded; the value line; fresh reads
GREEN_LIGHT: Final = "#d3ecdd"
ORANGE: Final = "#ef9a1a"  # 409 conflict; a failed replicated write
ORANGE_LIGHT: Final = "#fbe2bb"
AMBER: Final = "#b35c00"  # warning text (orange is too light to read on white)
RED: Final = "#d03b2f"  # another error; a stale read; the last-write series
PINK: Final = "#f7d3d0"  # light red: a failed read's fill, lost versions, the lost gap
CRIMSON: Final = "#c00018"  # lost updates: outlines, strikes and sentences
BLUE: Final = "#1f4fd1"  # the race cursor; replicated writes; the first-write series
PURPLE: Final = "#8e44ad"  # the etag-with-last-write series
VIOLET: Final = "#6b2fbf"  # the replica cursor (blue means a write in that picture)
SLATE: Final = "#3b4a5e"  # the version line
BAND: Final = "#eef1f5"  # store lane: even versions
BAND_DARK: Final = "#dfe5ed"  # store lane: odd versions
LANE: Final = "#f5f6f8"  # the background of every other lane

# outcome -> (solid fill for writes, light fill for reads, text colour on the solid fill)
OUTCOME_COLOURS: Final = {
    "ok": (GREEN, GREEN_LIGHT, WHITE),
    "conflict": (ORANGE, ORANGE_LIGHT, INK),
    "error": (RED, PINK, WHITE),
    "info": (GREY, GRID, WHITE),
}
