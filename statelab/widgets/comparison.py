"""The same race under several modes, side by side on one time scale.

Same seed, same writers, same latencies: only the mode differs, so any difference in the
pictures (lost updates under last-write, retried 409s under first-write) is the mode's doing.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import ipywidgets as widgets

from statelab.analysis.races import analyse
from statelab.render.legend import legend_svg
from statelab.render.timeline import Timeline
from statelab.sim.race import MODE_HELP, MODES, Race
from statelab.widgets.player import StaticRepr
from statelab.widgets.race_controls import DEFAULT_RACE
from statelab.widgets.race_summary import report_lines, stats_html

__all__ = ["ComparisonView"]


class ComparisonView(StaticRepr, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """The same race (same seed) under several modes, side by side on one time scale."""

    def __init__(self, race: Race | None = None,
                 modes: Sequence[str] = ("last-write", "first-write"), *,
                 width: int | None = None) -> None:
        race = race or DEFAULT_RACE
        for mode in modes:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        self.race = race
        self.modes = tuple(modes)
        self.histories = {mode: race.with_(mode=mode).run() for mode in self.modes}
        self.reports = {mode: analyse(h) for mode, h in self.histories.items()}
        column = width or (960 if len(self.modes) == 1 else max(380, 960 // len(self.modes)))
        end = max((h.duration_us for h in self.histories.values()), default=1)
        self._scale = (0, max(1, end))
        self._column = column
        self.timelines = {mode: self._timeline(mode, None) for mode in self.modes}
        self._static: dict[str, str] = {}
        self.cursors = {mode: self.reports[mode].first_anomaly_index for mode in self.modes}
        columns = []
        for mode in self.modes:
            header = widgets.HTML(f'<b>{escape(mode)}</b>: {escape(MODE_HELP[mode])}',
                                  layout=widgets.Layout(width=f"{column}px", height="48px"))
            picture = widgets.HTML(self.timelines[mode].svg(self.cursors[mode], fade=False))
            stats = widgets.HTML(stats_html(self.reports[mode], limit=3),
                                 layout=widgets.Layout(width=f"{column}px"))
            columns.append(widgets.VBox([header, picture, stats]))
        caption = widgets.HTML(f'<span style="font-size:12px">{escape(self._caption())}</span>')
        legend = widgets.HTML(legend_svg(min(960, column * len(self.modes))))
        super().__init__([caption, legend, widgets.HBox(columns)])

    def _timeline(self, mode: str, tooltips: bool | None) -> Timeline:
        return Timeline(self.histories[mode], self.reports[mode], title=f"{mode}",
                        width=self._column, time_range_us=self._scale, legend=False,
                        tooltips=tooltips)

    def _caption(self) -> str:
        race = self.race
        return (f"{race.writers} writers x {race.increments} increments, {race.store} store, "
                f"{race.retry.describe()}, latency {race.latency.describe()}, seed {race.seed}: "
                "the same seed in every mode, drawn on one time scale; the highlighted "
                "operation is the first lost update")

    def _static_svg(self, mode: str) -> str:
        """The same drawing without tooltips: a stored notebook output stays small."""
        if mode not in self._static:
            timeline = self._timeline(mode, tooltips=False)
            self._static[mode] = timeline.svg(self.cursors[mode], fade=False)
        return self._static[mode]

    def summary_text(self) -> str:
        lines = [f"ComparisonView: {self._caption()}"]
        for mode in self.modes:
            lines.append(f"[{mode}]")
            lines.extend("  " + line for line in report_lines(self.reports[mode], limit=1))
        return "\n".join(lines)

    def summary_html(self) -> str:
        cells = "".join(
            f'<td style="vertical-align:top;padding-right:8px">'
            f"<p><b>{escape(mode)}</b>: {escape(MODE_HELP[mode])}</p>{self._static_svg(mode)}"
            f'<pre style="font-size:12px">'
            f'{escape(chr(10).join(report_lines(self.reports[mode], limit=1)))}</pre></td>'
            for mode in self.modes)
        return (f'<div class="statelab-comparison"><p>{escape(self._caption())}</p>'
                f"{legend_svg(min(960, self.timelines[self.modes[0]].width * len(self.modes)))}"
                f"<table><tr>{cells}</tr></table></div>")
