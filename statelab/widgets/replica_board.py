"""The replica board: consistency made visible, eventual against strong, with playback.

Like the race board it is built from core ipywidgets, with the picture drawn in Python
(:mod:`statelab.render.replica_timeline`): one renderer for the live widget, the static HTML
that GitHub, nbviewer and nbval see, and the tests. The statistics table runs the same
scenario under both consistency levels, so the price of strong (write latency) sits next to
what it buys (no stale read).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.analysis.consistency import ConsistencyReport, consistency_report
from statelab.analysis.history import History
from statelab.render.replica_timeline import render_replica_timeline
from statelab.sim.replication import ReplicaScenario
from statelab.stores.replicated import LagModel
from statelab.widgets.player import Playback, StaticRepr

__all__ = ["ReplicaBoard"]

STATS: tuple[tuple[str, Callable[[ConsistencyReport], str]], ...] = (
    ("write latency p50 / p99",
     lambda r: f"{r.write_latency_p50_ms:.1f} / {r.write_latency_p99_ms:.1f} ms"),
    ("read latency p50", lambda r: f"{r.read_latency_p50_ms:.1f} ms"),
    ("stale reads", lambda r: f"{len(r.stale_reads)} of {r.reads}"),
    ("read-your-writes violations", lambda r: str(len(r.ryw_violations))),
    ("monotonic-read violations", lambda r: str(len(r.monotonic_violations))),
    ("failed writes", lambda r: str(r.failed_writes)))


def _stats_table(reports: dict[str, ConsistencyReport]) -> str:
    head = "".join(f"<th style='padding:2px 10px'>{escape(mode)}</th>" for mode in reports)
    body = "".join(
        f"<tr><td style='padding:2px 10px'>{escape(name)}</td>"
        + "".join(f"<td style='padding:2px 10px;text-align:right'>{escape(fn(r))}</td>"
                  for r in reports.values()) + "</tr>"
        for name, fn in STATS)
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


class ReplicaBoard(StaticRepr, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Controls, the replica timeline, and eventual-vs-strong statistics side by side.

    :attr:`cursor` and :meth:`seek` count from 0; the slider counts from 1, as every board's.
    """

    def __init__(self, scenario: ReplicaScenario | None = None, **params: Any) -> None:
        scenario = scenario or ReplicaScenario(writers=1, readers=2, writes=5, reads=8, seed=1)
        if params:
            scenario = scenario.with_(**params)
        self.scenario = scenario
        style = {"description_width": "120px"}
        self.consistency = widgets.ToggleButtons(options=["eventual", "strong"],
                                                 value=scenario.consistency,
                                                 description="consistency", style=style)
        # ipywidgets 8 puts a ToggleButtons' description on a line of its own; the sliders'
        # class lays it out like theirs (one row, label right-aligned in its 120 px)
        self.consistency.add_class("widget-inline-hbox")
        self.replicas = widgets.IntSlider(value=scenario.replicas, min=0, max=5,
                                          description="replicas", style=style)
        self.lag = widgets.FloatRangeSlider(value=(scenario.lag.low_ms, scenario.lag.high_ms),
                                            min=0, max=200, step=1, readout_format=".0f",
                                            description="lag (ms)", style=style)
        self.seed = widgets.IntText(value=scenario.seed, description="seed", style=style)
        self.run_button = widgets.Button(description="Run", button_style="primary")
        self.playback = Playback(self._render, play={"interval": 400}, slider={"style": style})
        self.play, self.scrubber = self.playback.play, self.playback.slider
        self.step_button = widgets.Button(description="Step")
        self.picture = widgets.HTML()
        self.stats = widgets.HTML()
        self.caption = widgets.HTML()
        self.run_button.on_click(lambda _: self.run())
        self.step_button.on_click(lambda _: self.step())
        self.consistency.observe(lambda _: self.run(), names="value")
        controls = widgets.VBox([self.consistency, self.replicas, self.lag,
                                 widgets.HBox([self.seed, self.run_button])])
        super().__init__([controls, widgets.HBox([self.play, self.scrubber, self.step_button]),
                          self.caption, self.picture, self.stats])
        self.history: History = History()
        self.report: ConsistencyReport = consistency_report(History())
        self.reports: dict[str, ConsistencyReport] = {}
        self.run()

    @property
    def cursor(self) -> int | None:
        """The position (from 0) of the highlighted operation, or None."""
        return self.playback.cursor

    def scenario_from_controls(self) -> ReplicaScenario:
        low, high = self.lag.value
        lag = LagModel("fixed", float(low), float(high)) if low == high else \
            LagModel("uniform", float(low), float(high))
        return self.scenario.with_(consistency=self.consistency.value,
                                   replicas=self.replicas.value, lag=lag,
                                   seed=int(self.seed.value),
                                   faults=tuple(f for f in self.scenario.faults
                                                if int(f.replica.rsplit("-", 1)[-1])
                                                <= self.replicas.value))

    def run(self) -> History:
        """Run the scenario the controls describe (and its twin under the other level)."""
        self.scenario = self.scenario_from_controls()
        self.reports = {mode: consistency_report(self.scenario.with_(consistency=mode).run())
                        for mode in ("eventual", "strong")}
        self.history = self.scenario.run()
        self.report = consistency_report(self.history)
        self.playback.reset(len(self.history), to_end=True)
        self.caption.value = f"<b>{escape(self.scenario.describe())}</b>"
        self.stats.value = _stats_table(self.reports) + "<ul>" + "".join(
            f"<li>{escape(v.sentence)}</li>" for v in self.report.violations[:5]) + "</ul>"
        self._render()
        return self.history

    def seek(self, index: int) -> int | None:
        """Put the cursor on position *index* (clamped); returns the new cursor."""
        return self.playback.seek(index)

    def step(self, n: int = 1) -> int | None:
        """Move the cursor by *n* operations; returns the new cursor."""
        return self.playback.step(n)

    def first_stale_read(self) -> int | None:
        return self.report.stale_reads[0].read_index if self.report.stale_reads else None

    def svg(self) -> str:
        return render_replica_timeline(self.history, self.report, self.cursor)

    def _render(self) -> None:
        self.picture.value = self.svg()

    # -- static representations ------------------------------------------------------------

    def summary_text(self) -> str:
        lines = [f"ReplicaBoard: {self.scenario.describe()}",
                 f"{len(self.history)} operations; cursor on operation "
                 f"{(self.cursor or 0) + 1} of {len(self.history)}"]
        for mode, report in self.reports.items():
            lines.append(f"[{mode}]")
            lines.extend("  " + line for line in report.lines()[:4])
        lines.extend(v.sentence for v in self.report.violations[:3])
        return "\n".join(lines)

    def summary_html(self) -> str:
        return (f"<div><p><b>{escape(self.scenario.describe())}</b></p>"
                f"{_stats_table(self.reports)}{self.svg()}</div>")
