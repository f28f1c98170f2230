"""The race board's settings: one control per race parameter, and the race they describe.

The controls only describe a race; the board decides when to run it (the Run button) and
says when the settings no longer match what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.render.palette import MUTED
from statelab.sim.race import MODE_HELP, MODES, Latency, Race, RetryPolicy

__all__ = ["DEFAULT_RACE", "RETRY_KINDS", "RaceControls", "race_from_meta"]

DEFAULT_RACE = Race(writers=8, increments=20, mode="last-write", seed=0)
RETRY_KINDS = (("retry at once", "immediate"), ("no retry", "none"),
               ("retry after a fixed delay", "fixed"), ("backoff with jitter", "backoff"))


def race_from_meta(meta: dict[str, Any]) -> Race | None:
    """The race a simulated history came from (``history.meta["race"]``), if it says."""
    params = meta.get("race")
    if not isinstance(params, dict):
        return None
    data = dict(params)
    try:
        for name, kind in (("retry", RetryPolicy), ("latency", Latency), ("think", Latency)):
            if isinstance(data.get(name), dict):
                data[name] = kind(**data[name])
        return Race(**data)
    except (TypeError, ValueError):
        return None


def _mode_help(mode: str) -> str:
    return f'<span style="color:{MUTED};font-size:12px">{escape(MODE_HELP[mode])}</span>'


class RaceControls:
    """Sliders, boxes and menus for every parameter of a :class:`Race`, in three rows."""

    def __init__(self, race: Race) -> None:
        small = widgets.Layout(width="230px")
        self.writers = widgets.IntSlider(race.writers, min=1, max=max(32, race.writers),
                                         description="writers", layout=small)
        self.increments = widgets.IntSlider(race.increments, min=0,
                                            max=max(50, race.increments),
                                            description="increments", layout=small)
        self.seed = widgets.IntText(race.seed, description="seed",
                                    layout=widgets.Layout(width="160px"))
        self.mode = widgets.Dropdown(options=list(MODES), value=race.mode, description="mode",
                                     tooltip=MODE_HELP[race.mode],
                                     layout=widgets.Layout(width="260px"))
        self.mode_help = widgets.HTML(_mode_help(race.mode))
        self.store = widgets.Dropdown(options=[("Redis", "redis"), ("in-memory", "memory")],
                                      value=race.store, description="store",
                                      layout=widgets.Layout(width="200px"))
        self.retry = widgets.Dropdown(options=list(RETRY_KINDS), value=race.retry.kind,
                                      description="on failure",
                                      layout=widgets.Layout(width="280px"))
        self.reread = widgets.Checkbox(race.retry.reread, description="re-read before retrying",
                                       indent=False, layout=widgets.Layout(width="200px"))
        self.latency = widgets.FloatRangeSlider(
            value=(race.latency.low_ms, race.latency.high_ms), min=0.0,
            max=max(20.0, race.latency.high_ms), step=0.5, description="latency ms",
            readout_format=".1f", layout=widgets.Layout(width="330px"))
        self.mode.observe(self._on_mode, names="value")
        self.rows = [widgets.HBox([self.writers, self.increments, self.seed]),
                     widgets.HBox([self.mode, self.store, self.mode_help]),
                     widgets.HBox([self.retry, self.reread, self.latency])]

    @property
    def all(self) -> tuple[Any, ...]:
        """Every control whose value is a race parameter."""
        return (self.writers, self.increments, self.seed, self.mode, self.store, self.retry,
                self.reread, self.latency)

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call *callback* whenever a parameter changes."""
        for control in self.all:
            control.observe(lambda _change: callback(), names="value")

    def race(self, base: Race) -> Race:
        """*base* with the parameters the controls show (raises ValueError if invalid)."""
        retry = replace(base.retry, kind=self.retry.value, reread=self.reread.value)
        low, high = self.latency.value
        latency = replace(base.latency, low_ms=float(low), high_ms=float(high))
        return base.with_(writers=self.writers.value, increments=self.increments.value,
                          seed=int(self.seed.value), mode=self.mode.value,
                          store=self.store.value, retry=retry, latency=latency)

    def show(self, race: Race) -> None:
        """Put *race*'s parameters into the controls (widening ranges where needed)."""
        self.writers.max = max(self.writers.max, race.writers)
        self.increments.max = max(self.increments.max, race.increments)
        self.latency.max = max(self.latency.max, race.latency.high_ms)
        self.writers.value, self.increments.value = race.writers, race.increments
        self.seed.value, self.mode.value, self.store.value = race.seed, race.mode, race.store
        self.retry.value, self.reread.value = race.retry.kind, race.retry.reread
        self.latency.value = (race.latency.low_ms, race.latency.high_ms)

    def _on_mode(self, change: dict[str, Any]) -> None:
        self.mode_help.value = _mode_help(change["new"])
        self.mode.tooltip = MODE_HELP[change["new"]]
