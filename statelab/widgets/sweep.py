"""A sweep over the number of writers: what contention costs, mode by mode.

Each point is one simulated race; the chart (:mod:`statelab.render.sweep`) shows retries per
success, throughput (acknowledged and kept) and the share of increments lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

import ipywidgets as widgets

from statelab.analysis.races import analyse
from statelab.render.sweep import SweepPoint, render_sweep
from statelab.sim.race import Race
from statelab.widgets.player import StaticRepr
from statelab.widgets.race_controls import DEFAULT_RACE

__all__ = ["SweepChart", "SweepPoint"]


def _point(race: Race) -> SweepPoint:
    history = race.run()
    report = analyse(history)
    lost = 100.0 * report.lost / report.expected if report.expected else 0.0
    return SweepPoint(
        mode=race.mode, writers=race.writers, increments=race.increments,
        operations=len(history), retries_per_success=report.retries_per_success,
        throughput_per_s=report.throughput_per_s,
        kept_per_s=(report.final_total / (report.duration_ms / 1000)
                    if report.duration_ms else 0.0),
        lost_percent=lost, final=report.final_total, expected=report.expected)


class SweepChart(StaticRepr, widgets.HTML):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Retries per success, throughput and lost increments as the number of writers grows.

    Each point is one simulated race with the parameters of *race* (seed included) and that
    many writers. To keep the sweep fast, every point runs at most *budget* increments in
    total: ``increments = max(1, min(race.increments, budget // writers))`` (the caption says
    so). *modes* defaults to the race's own mode.
    """

    def __init__(self, race: Race | None = None,
                 writers: Iterable[int] = (1, 2, 4, 8, 16, 32, 64, 128), *,
                 modes: Sequence[str] | None = None, budget: int = 160,
                 width: int = 960) -> None:
        race = race or DEFAULT_RACE.with_(mode="first-write")
        self.race = race
        self.writers = tuple(sorted(set(int(n) for n in writers)))
        if not self.writers or self.writers[0] < 1:
            raise ValueError("writers must be positive numbers")
        self.modes = tuple(modes or (race.mode,))
        self.budget = budget
        self.chart_width = width
        self.points: list[SweepPoint] = [
            _point(race.with_(mode=mode, writers=n,
                              increments=max(1, min(race.increments, budget // n))))
            for mode in self.modes for n in self.writers]
        super().__init__(self.summary_html())

    def caption(self) -> str:
        race = self.race
        reduced = [p for p in self.points if p.increments < race.increments]
        text = (f"Simulated: {race.store} store, {race.retry.describe()}, latency "
                f"{race.latency.describe()}, seed {race.seed}; {race.increments} increment(s) "
                f"per writer")
        if reduced:
            first = min(p.writers for p in reduced)
            text += (f" up to {max([n for n in self.writers if n < first], default=0)} "
                     f"writers, then {self.budget} / writers (at least 1) from {first} writers "
                     "on, so that each point stays fast")
        return text + "."

    def svg(self) -> str:
        return render_sweep(self.points, self.writers, self.modes, self.chart_width)

    def summary_text(self) -> str:
        lines = [f"SweepChart: {self.caption()}",
                 f"{'mode':<21}{'writers':>8}{'incr.':>7}{'ops':>7}{'retries/ok':>12}"
                 f"{'acked/s':>9}{'kept/s':>8}{'lost %':>8}"]
        for p in self.points:
            lines.append(f"{p.mode:<21}{p.writers:>8}{p.increments:>7}{p.operations:>7}"
                         f"{p.retries_per_success:>12.2f}{p.throughput_per_s:>9.0f}"
                         f"{p.kept_per_s:>8.0f}{p.lost_percent:>8.1f}")
        return "\n".join(lines)

    def summary_html(self) -> str:
        return (f'<div class="statelab-sweep">{self.svg()}'
                f'<p style="font-size:12px">{escape(self.caption())}</p></div>')
