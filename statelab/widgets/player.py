"""What every board shares: play, step and scrub through a history, and a static repr.

One convention for the step index, everywhere: the slider counts operations from 1, as the
pictures say "operation 5 of 320"; the Python API (``cursor``, ``seek``, ``step``) counts
positions from 0, as lists do. Playback is ``ipywidgets.Play`` ``jslink``-ed to the slider:
the front end ticks the slider, the kernel answers by redrawing the cursor only.

Each board also answers ``_repr_mimebundle_`` with a deterministic ``text/plain`` and
``text/html`` next to the widget view that ipywidgets puts there, so GitHub, nbviewer and
nbval (which compares ``text/plain`` and ``text/html``, and skips the widget view) see
something meaningful, and identical parameters always give identical bytes: no model ids,
addresses or clock readings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

__all__ = ["Playback", "StaticRepr"]


class StaticRepr:
    """Adds deterministic ``text/plain`` and ``text/html`` to an ipywidgets mimebundle."""

    def summary_text(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def summary_html(self) -> str:  # pragma: no cover - every widget overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.summary_text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # ipywidgets 8 answers {"text/plain": repr cut at 110 characters,
        # "application/vnd.jupyter.widget-view+json": {...model_id...}}: keep its widget view,
        # replace the cut repr and add a static snapshot.
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}  # type: ignore[misc]  # the widget class after this mixin has it; mypy sees object
        data["text/plain"] = self.summary_text()
        data["text/html"] = self.summary_html()
        return data


class Playback:
    """A play button and an operation slider over a history of :attr:`length` operations.

    *on_move* is called when the slider moves (a click, a drag, the play button, or
    :meth:`seek`), but not while :meth:`reset` adapts the slider to a new history: the board
    redraws once after a reset instead. *play* and *slider* are extra arguments of the two
    widgets (each board keeps its own look: interval, repeat button, width).
    """

    def __init__(self, on_move: Callable[[], None], *, play: dict[str, Any],
                 slider: dict[str, Any]) -> None:
        self.play = widgets.Play(value=1, min=1, max=1, step=1, description="play", **play)
        self.slider = widgets.IntSlider(1, min=1, max=1, description="operation",
                                        continuous_update=True, **slider)
        self.link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.length = 0
        self._quiet = False
        self._on_move = on_move
        self.slider.observe(self._moved, names="value")

    @property
    def cursor(self) -> int | None:
        """The position (from 0) of the highlighted operation, or None if there is none."""
        return int(self.slider.value) - 1 if self.length else None

    @property
    def at_end(self) -> bool:
        """Whether the cursor is on the last operation (live histories follow their end)."""
        return bool(self.slider.value >= self.slider.max)

    def seek(self, index: int) -> int | None:
        """Put the cursor on position *index* (clamped); returns the new cursor."""
        if not self.length:
            return None
        self.slider.value = max(1, min(self.length, int(index) + 1))
        return self.cursor

    def step(self, n: int = 1) -> int | None:
        """Move the cursor by *n* operations (negative goes back); returns the new cursor."""
        cursor = self.cursor
        return None if cursor is None else self.seek(cursor + n)

    def reset(self, length: int, *, to_end: bool) -> None:
        """Adapt to a history of *length* operations (cursor on the last one if *to_end*)."""
        self._quiet = True
        try:
            self.length = length
            last = max(1, length)
            self.slider.max = last
            self.play.max = last
            if to_end:
                self.slider.value = last
        finally:
            self._quiet = False

    def _moved(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._on_move()
