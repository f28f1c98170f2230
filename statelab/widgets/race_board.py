"""The race board: run a race, watch it as a timeline, step through it, read what went wrong.

Design decision: core ipywidgets only, with Python drawing the pictures
--------------------------------------------------------------------------
Every picture is an SVG string made by :mod:`statelab.render` in the kernel and shown in an
``ipywidgets.HTML``; playback is the shared :class:`~statelab.widgets.player.Playback`. Why:

* **One renderer everywhere.** The same Python function draws the live widget, the static
  ``text/html`` snapshot that GitHub, nbviewer and the docs show, the file that the export
  writes, and what the tests and nbval check. A JavaScript view would need a second renderer
  for the static output and could not be tested from pytest.
* **No front-end build.** ipywidgets 8 ships with JupyterLab, Notebook 7, VS Code and Binder
  images. ``anywidget`` was considered and rejected: it is one more dependency and an ES module
  to maintain, and its view is JavaScript, so it would break the "one renderer" rule above for
  little gain (our pictures change per click, not per animation frame).
* **Cheap cursor moves.** The timeline is drawn as two stacked ``HTML`` widgets in one grid
  cell: the base (bars, labels, store lane; re-sent only after a run or a zoom jump) and a
  transparent overlay (cursor, highlight, the current operation in words; a few hundred
  bytes). Stepping or playing through thousands of operations never re-sends the base.

Live mode: :meth:`RaceBoard.update_from` redraws from a history that real writer threads are
still filling. It copies the operation list, computes outside any lock, and only assigns
widget values, so it can be called from any thread without blocking the kernel.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.analysis.history import History
from statelab.analysis.races import RaceReport, analyse
from statelab.render.palette import AMBER
from statelab.render.timeline import Timeline, default_title
from statelab.sim.race import Race
from statelab.widgets.live_feed import LiveFeed
from statelab.widgets.player import Playback, StaticRepr
from statelab.widgets.race_controls import DEFAULT_RACE, RaceControls, race_from_meta
from statelab.widgets.race_summary import report_lines, stats_html

__all__ = ["OVERLAY_CSS", "RaceBoard", "SPEEDS", "ZOOMS"]

ZOOMS = (("whole run", 0), ("100 ms around the cursor", 100), ("25 ms around the cursor", 25),
         ("5 ms around the cursor", 5))
SPEEDS = (("1 op per tick", 1), ("5 ops per tick", 5), ("25 ops per tick", 25))
OVERLAY_CSS = "<style>.statelab-overlay{pointer-events:none}</style>"
CACHED_WINDOWS = 16  # zoom windows whose timelines a run keeps


@dataclass
class _Shown:
    """What the board shows; replaced as a whole, so readers on other threads see one run."""

    history: History
    report: RaceReport
    race: Race | None  # None: not a simulated race (live writers, or a file without parameters)
    source: str  # "race", "live" or "loaded"
    writers: int | None  # lanes to draw (live histories may not have met every writer)
    positions: dict[int, int] = field(default_factory=dict)  # operation index -> position
    timelines: dict[tuple[int, int] | None, Timeline] = field(default_factory=dict)

    def head(self) -> str:
        if self.race is None:
            return f"RaceBoard: {self.source} history, {len(self.history.processes)} writer(s)"
        return f"RaceBoard: {self.race.describe()}"

    def title(self) -> str:
        race = self.race
        return default_title(self.history) if race is None else (
            f"{race.mode} · {race.writers} writers × {race.increments} increments · "
            f"{race.store} store · seed {race.seed}")

    def window(self, span_ms: int, position: int) -> tuple[int, int] | None:
        """The zoom window around the operation at *position*, moved in half-window jumps
        (so that a few windows, cached, serve a whole playback); None: the whole run."""
        ops = self.history.operations
        if not span_ms or not ops:
            return None
        span = span_ms * 1000
        start = min(op.invoke_us for op in ops)
        at = ops[position].invoke_us - start
        half = span // 2
        left = start + max(0, (at // half) * half - span // 4)
        return (left, left + span)

    def timeline(self, width: int, window: tuple[int, int] | None,
                 tooltips: bool | None = None) -> Timeline:
        """The timeline of *window* (cached, unless *tooltips* asks for a one-off drawing)."""
        if tooltips is not None:
            return Timeline(self.history, self.report, width=width, title=self.title(),
                            window_us=window, writers=self.writers, tooltips=tooltips)
        timeline = self.timelines.get(window)
        if timeline is None:
            if len(self.timelines) > CACHED_WINDOWS:
                self.timelines.clear()
            timeline = Timeline(self.history, self.report, width=width, title=self.title(),
                                window_us=window, writers=self.writers)
            self.timelines[window] = timeline
        return timeline


class RaceBoard(StaticRepr, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Run a race, watch it as a timeline, step through it, read what went wrong.

    ``RaceBoard()`` runs :data:`DEFAULT_RACE` (8 writers x 20 increments, last-write);
    ``RaceBoard(race)`` or ``RaceBoard(writers=4, mode="first-write")`` start elsewhere.
    From Python: :meth:`run`, :meth:`step`, :meth:`seek`, :meth:`jump_to_first_anomaly`,
    :attr:`history`, :attr:`report`, :attr:`cursor`, :meth:`svg`, :meth:`to_json`,
    :meth:`download_link`, :meth:`to_html`, :meth:`load` (a finished or exported history),
    :meth:`update_from` (live mode); the settings are in :attr:`controls`. :attr:`cursor` and
    :meth:`seek` count from 0; the slider and the picture count from 1 ("operation 5 of 320").
    """

    def __init__(self, race: Race | None = None, *, width: int = 960, autorun: bool = True,
                 live_interval_s: float = 0.2, **params: Any) -> None:
        race = (race or DEFAULT_RACE).with_(**params) if params else (race or DEFAULT_RACE)
        self.width = width
        self._race = race
        self._shown: _Shown | None = None
        self._lock = threading.RLock()  # guards what is shown; held only to assign values
        self._drawn: Timeline | None = None
        self._live = LiveFeed(self._show_live, live_interval_s)

        self.controls = RaceControls(race)
        self.run_button = widgets.Button(description="Run", button_style="primary",
                                         icon="play", tooltip="run the race with these settings")
        self.status = widgets.HTML()
        # -- the timeline: base and cursor overlay stacked in one grid cell ----------------
        self.base_view = widgets.HTML(layout=widgets.Layout(grid_area="timeline"))
        self.overlay_view = widgets.HTML(layout=widgets.Layout(grid_area="timeline"))
        self.overlay_view.add_class("statelab-overlay")
        self.timeline_view = widgets.GridBox(
            [self.base_view, self.overlay_view],
            layout=widgets.Layout(grid_template_areas='"timeline"',
                                  grid_template_columns="max-content", overflow="auto",
                                  width="100%"))
        # -- playback ----------------------------------------------------------------------
        self.playback = Playback(self._draw_if_shown,
                                 play={"interval": 150, "show_repeat": False},
                                 slider={"layout": widgets.Layout(width="420px")})
        self.play, self.slider = self.playback.play, self.playback.slider
        self.back_button = widgets.Button(description="step", icon="step-backward",
                                          tooltip="previous operation",
                                          layout=widgets.Layout(width="80px"))
        self.forward_button = widgets.Button(description="step", icon="step-forward",
                                             tooltip="next operation",
                                             layout=widgets.Layout(width="80px"))
        self.speed = widgets.Dropdown(options=list(SPEEDS), value=1, description="speed",
                                      layout=widgets.Layout(width="230px"))
        self.anomaly_button = widgets.Button(description="jump to first lost update",
                                             icon="crosshairs",
                                             layout=widgets.Layout(width="220px"))
        self.zoom = widgets.Dropdown(options=list(ZOOMS), value=0, description="view",
                                     layout=widgets.Layout(width="290px"))
        self.export_button = widgets.Button(description="export JSON", icon="download",
                                            layout=widgets.Layout(width="130px"))
        self.download = widgets.HTML()
        self.stats = widgets.HTML()

        self.run_button.on_click(lambda _: self.run())
        self.back_button.on_click(lambda _: self.step(-1))
        self.forward_button.on_click(lambda _: self.step(1))
        self.anomaly_button.on_click(lambda _: self.jump_to_first_anomaly())
        self.export_button.on_click(lambda _: self._show_download())
        self.zoom.observe(lambda _: self._draw_if_shown(), names="value")
        self.speed.observe(lambda change: setattr(self.play, "step", change["new"]),
                           names="value")
        self.controls.on_change(self._update_status)

        super().__init__([
            *self.controls.rows,
            widgets.HBox([self.run_button, self.status]),
            self.timeline_view,
            widgets.HBox([self.play, self.back_button, self.forward_button, self.slider,
                          self.speed]),
            widgets.HBox([self.anomaly_button, self.zoom, self.export_button, self.download]),
            self.stats,
        ])
        if autorun:
            self.run()
        else:
            self._load(History(meta={"race": race.params(), "seed": race.seed}), race)

    # -- Python API -------------------------------------------------------------------------

    @property
    def race(self) -> Race:
        """The race of the shown run (the controls may have moved on since)."""
        return self._race

    @property
    def history(self) -> History:
        assert self._shown is not None
        return self._shown.history

    @property
    def report(self) -> RaceReport:
        assert self._shown is not None
        return self._shown.report

    @property
    def cursor(self) -> int | None:
        """The position (from 0) of the highlighted operation in :attr:`history`, or None.

        The slider shows it counted from 1, like the timeline's "operation 5 of 320".
        """
        return self.playback.cursor

    def race_from_controls(self) -> Race:
        """The race the controls describe (what :meth:`run` will run)."""
        return self.controls.race(self._race)

    def run(self) -> History:
        """Run the race the controls describe and show it, cursor on the last operation."""
        race = self.race_from_controls()
        history = race.run()
        self._race = race
        self._load(history, race)
        return history

    def step(self, n: int = 1) -> int | None:
        """Move the cursor by *n* operations (negative goes back); returns the new cursor."""
        return self.playback.step(n)

    def seek(self, index: int) -> int | None:
        """Put the cursor on the operation at position *index* (clamped to the history)."""
        return self.playback.seek(index)

    def jump_to_first_anomaly(self) -> int | None:
        """Put the cursor on the first lost update's write; None (cursor unchanged) if none."""
        shown = self._shown
        if shown is None or shown.report.first_anomaly_index is None:
            return None
        return self.seek(shown.positions[shown.report.first_anomaly_index])

    def svg(self) -> str:
        """The timeline as one SVG document, as shown now (zoom and cursor included)."""
        return self.timeline().svg(self.cursor)

    def to_json(self) -> str:
        """The shown history as canonical JSON (:meth:`History.from_json` reads it back)."""
        return self.history.to_json()

    def download_name(self) -> str:
        race = self._race
        if self._shown is not None and self._shown.race is None:
            return f"statelab-{self._shown.source}-history.json"
        return f"statelab-race-{race.mode}-{race.writers}x{race.increments}-seed{race.seed}.json"

    def download_link(self) -> str:
        """An HTML link that downloads :meth:`to_json` (a data: URI, the same for the same run)."""
        data = self.to_json().encode("utf-8")
        payload = base64.b64encode(data).decode("ascii")
        name = self.download_name()
        return (f'<a download="{escape(name)}" href="data:application/json;base64,{payload}">'
                f"download {escape(name)} ({len(data) / 1024:.0f} KiB)</a>")

    def to_html(self) -> str:
        """A self-contained HTML page: the summary, the timeline with tooltips, the JSON."""
        body = self._summary_block(tooltips=True)
        data = escape(self.to_json().strip(), quote=False)
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{escape(self.download_name())}</title></head><body>"
                f'{body}<script type="application/json" id="statelab-history">{data}</script>'
                "</body></html>\n")

    def load(self, history: History) -> None:
        """Show a finished history, for example one exported with :meth:`to_json` and read
        back with :meth:`History.from_json`. Its race parameters, if it has them, go back
        into the controls, so Run replays it."""
        race = race_from_meta(history.meta)
        if race is not None:
            self._race = race
            self.controls.show(race)
        self._load(history, race, source="race" if race is not None else "loaded")

    def update_from(self, history: History, *, final: bool = False,
                    writers: int | None = None) -> bool:
        """Show a history that is still growing (live writers); safe from any thread.

        Redraws at most every ``live_interval_s`` seconds (returns False when it skipped);
        pass ``final=True`` for the last call, which always redraws. If the cursor was on the
        last operation it follows the new end.
        """
        return self._live.update(history, final=final, writers=writers)

    def run_live(self, url: str, *, store: str = "statestore",
                 api_token: str | None = None) -> Any:
        """Run the race the controls describe for real: threads over HTTP against *url*.

        Returns at once with the :class:`~statelab.sim.live.LiveRace` (``.wait()`` blocks until
        it is done); the board redraws as operations complete, without blocking the kernel,
        and once more, completely, when the last writer finishes.
        """
        return self._live.run(self.race_from_controls(), url, store=store, api_token=api_token)

    def timeline(self) -> Timeline:
        """The shown run's timeline in the current zoom window (cached per window)."""
        assert self._shown is not None
        return self._timeline(self._shown)

    # -- internals --------------------------------------------------------------------------

    def _load(self, history: History, race: Race | None, *, follow: bool = False,
              writers: int | None = None, source: str = "race") -> None:
        # the slow part (checks, the whole-run drawing) outside the lock...
        report = analyse(history)
        shown = _Shown(history=history, report=report, race=race, source=source,
                       writers=writers,
                       positions={op.index: i for i, op in enumerate(history.operations)})
        if not self.zoom.value:
            self._timeline(shown).base()
        # ...then short assignments under it
        with self._lock:
            at_end = self._shown is not None and self.playback.at_end
            self._shown = shown  # one assignment: readers see the old run or the new one
            self.playback.reset(len(history), to_end=not follow or at_end or race is not None)
            for control in (self.slider, self.play, self.back_button, self.forward_button):
                control.disabled = len(history) == 0
            found = report.first_anomaly_index is not None
            self.anomaly_button.disabled = not found
            self.anomaly_button.description = ("jump to first lost update" if found
                                               else "no lost update")
            self.download.value = ""
            self.stats.value = stats_html(report)
            self._update_status()
            self._draw()

    def _timeline(self, shown: _Shown, tooltips: bool | None = None) -> Timeline:
        position = max(0, min(len(shown.history) - 1, self.slider.value - 1))
        return shown.timeline(self.width, shown.window(self.zoom.value, position), tooltips)

    def _draw(self) -> None:
        with self._lock:
            timeline = self.timeline()
            if timeline is not self._drawn:  # the base only changes with the run or the window
                self.base_view.value = timeline.base_svg()
                self._drawn = timeline
            self.overlay_view.value = OVERLAY_CSS + timeline.overlay_svg(self.cursor)

    def _draw_if_shown(self) -> None:
        if self._shown is not None:
            self._draw()

    def _update_status(self) -> None:
        shown = self._shown
        if shown is not None and shown.race is None:
            text = (f"{shown.source} history: {len(shown.history)} operations from "
                    f"{len(shown.history.processes)} writer(s); Run replaces it")
        else:
            text = escape(self._race.describe())
            try:
                changed = self.race_from_controls() != self._race
            except ValueError as error:  # e.g. a latency range the simulator refuses
                changed, text = True, f"{text}<br>cannot run: {escape(str(error))}"
            if changed:
                text += (f'<br><b style="color:{AMBER}">settings changed: press Run to run '
                         "the new race</b>")
        self.status.value = f'<span style="font-size:12px">{text}</span>'

    def _show_live(self, history: History, writers: int | None) -> None:
        self._load(history, None, follow=True, writers=writers, source="live")

    def _show_download(self) -> None:
        self.download.value = self.download_link()

    # -- static representations -------------------------------------------------------------

    def summary_text(self) -> str:
        shown = self._shown
        if shown is None:
            return "RaceBoard (not run)"
        n = len(shown.history)
        where = (f"cursor on operation {self.cursor + 1} of {n}" if self.cursor is not None
                 else "no operations")
        return "\n".join([shown.head(), f"{n} operations; {where}"]
                         + report_lines(shown.report))

    def _summary_block(self, tooltips: bool) -> str:
        shown = self._shown
        assert shown is not None
        lines = "\n".join(report_lines(shown.report))
        timeline = self.timeline()
        if tooltips != timeline.tips or timeline.tips_note:
            timeline = self._timeline(shown, tooltips=tooltips)
        return (f'<div class="statelab-raceboard"><p style="font-family:sans-serif">'
                f"<b>{escape(shown.head())}</b></p>"
                f'<pre style="font-size:12px">{escape(lines)}</pre>'
                f"{timeline.svg(self.cursor)}</div>")

    def summary_html(self) -> str:
        if self._shown is None:
            return "<p>RaceBoard (not run)</p>"
        return self._summary_block(tooltips=False)
