"""Widgets that show races: :class:`RaceBoard`, :class:`ComparisonView`, :class:`SweepChart`.

Design decision: core ipywidgets only, with Python drawing the pictures
--------------------------------------------------------------------------
Every picture is an SVG string made by :mod:`statelab.render.timeline` in the kernel and shown in an
``ipywidgets.HTML``. Playback is ``ipywidgets.Play`` ``jslink``-ed to an ``IntSlider``: the
front end ticks the slider, the kernel answers by redrawing only the cursor layer. Why:

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

Each widget also answers ``_repr_mimebundle_`` with a deterministic ``text/plain`` (parameters
with the seed, then the report lines) and ``text/html`` (the same summary plus the SVG) next to
the widget view that ipywidgets puts there, so GitHub, nbviewer and nbval (which compares
``text/plain`` and ``text/html``, and skips the widget view) see something meaningful, and
identical parameters always give identical bytes: no model ids, addresses or clock readings.

Live mode: :meth:`RaceBoard.update_from` redraws from a history that real writer threads are
still filling. It copies the operation list, computes outside any lock, and only assigns
widget values, so it can be called from any thread without blocking the kernel.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.analysis.history import History
from statelab.analysis.races import RaceReport, analyse
from statelab.render.timeline import FONT, INK, MUTED, Timeline, _f, default_title, legend_svg
from statelab.sim.race import MODE_HELP, MODES, Latency, Race, RetryPolicy

__all__ = ["ComparisonView", "DEFAULT_RACE", "RaceBoard", "ReplicaBoard", "SweepChart",
           "SweepPoint"]

DEFAULT_RACE = Race(writers=8, increments=20, mode="last-write", seed=0)
RETRY_KINDS = (("retry at once", "immediate"), ("no retry", "none"),
               ("retry after a fixed delay", "fixed"), ("backoff with jitter", "backoff"))
ZOOMS = (("whole run", 0), ("100 ms around the cursor", 100), ("25 ms around the cursor", 25),
         ("5 ms around the cursor", 5))
SPEEDS = (("1 op per tick", 1), ("5 ops per tick", 5), ("25 ops per tick", 25))
MAX_SENTENCES = 3  # anomaly sentences in the text summaries (the rest are counted)
OVERLAY_CSS = "<style>.statelab-overlay{pointer-events:none}</style>"


class _StaticRepr:
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
        data = super()._repr_mimebundle_(**kwargs) or {}  # type: ignore[misc]
        data["text/plain"] = self.summary_text()
        data["text/html"] = self.summary_html()
        return data


def _race_from_meta(meta: dict[str, Any]) -> Race | None:
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


def _report_lines(report: RaceReport, limit: int = MAX_SENTENCES) -> list[str]:
    lines = report.lines()
    head = lines[: len(lines) - len(report.anomalies)]
    shown = report.anomalies[:limit]
    more = len(report.anomalies) - len(shown)
    return head + shown + ([f"... and {more} more lost update(s)"] if more else [])


def _stats_html(report: RaceReport, limit: int = 5) -> str:
    ok = report.final_total == report.expected
    colour = "#2e8b57" if ok else "#c00018"
    rows = [
        ("final value", f'<b style="color:{colour}">{report.final_total}</b> '
                        f"(expected {report.expected})"),
        ("lost updates", f"{len(report.anomalies)} ({report.lost} increment(s) missing)"),
        ("409 conflicts", f"{report.conflicts} (other errors {report.other_failures}, "
                          f"timed out {report.indeterminate})"),
        ("retries per success", f"{report.retries_per_success:.2f} ({report.retries} retries, "
                                f"{report.given_up} given up)"),
        ("throughput", f"{report.throughput_per_s:.0f} increments/s over "
                       f"{report.duration_ms:.1f} ms of virtual time"),
        ("latency", f"p50 {report.latency_p50_ms:.1f} ms, p99 {report.latency_p99_ms:.1f} ms"),
    ]
    cells = "".join(f'<tr><td style="padding:1px 12px 1px 0;color:{MUTED}">{name}</td>'
                    f'<td style="padding:1px 0">{value}</td></tr>' for name, value in rows)
    parts = [f'<table style="border-collapse:collapse;font-size:13px">{cells}</table>']
    if report.anomalies:
        items = "".join(f"<li>{escape(s)}</li>" for s in report.anomalies[:limit])
        more = len(report.anomalies) - limit
        tail = f"<li>... and {more} more</li>" if more > 0 else ""
        parts.append(f'<ol style="margin:4px 0;color:#c00018;font-size:13px">{items}{tail}</ol>')
    elif report.successes:
        parts.append('<p style="margin:4px 0;color:#2e8b57;font-size:13px">'
                     'no lost update: every acknowledged increment is in the final value</p>')
    return "".join(parts)


def _race_title(race: Race | None, history: History) -> str:
    return default_title(history) if race is None else (
        f"{race.mode} · {race.writers} writers × {race.increments} increments · "
        f"{race.store} store · seed {race.seed}")


# -- RaceBoard ------------------------------------------------------------------------------------

@dataclass
class _Shown:
    """What the board shows; replaced as a whole, so readers on other threads see one run."""

    history: History
    report: RaceReport
    race: Race | None  # None: not a simulated race (live writers, or a file without parameters)
    source: str  # "race", "live" or "loaded"
    writers: int | None  # lanes to draw (live histories may not have met every writer)
    positions: dict[int, int]  # operation index -> position in the history
    timelines: dict[tuple[int, int] | None, Timeline]


class RaceBoard(_StaticRepr, widgets.VBox):
    """Run a race, watch it as a timeline, step through it, read what went wrong.

    ``RaceBoard()`` runs :data:`DEFAULT_RACE` (8 writers x 20 increments, last-write);
    ``RaceBoard(race)`` or ``RaceBoard(writers=4, mode="first-write")`` start elsewhere.
    From Python: :meth:`run`, :meth:`step`, :meth:`seek`, :meth:`jump_to_first_anomaly`,
    :attr:`history`, :attr:`report`, :attr:`cursor`, :meth:`svg`, :meth:`to_json`,
    :meth:`download_link`, :meth:`to_html`, :meth:`load` (a finished or exported history),
    :meth:`update_from` (live mode). :attr:`cursor` and :meth:`seek` count from 0; the slider
    and the picture count from 1 ("operation 5 of 320").
    """

    def __init__(self, race: Race | None = None, *, width: int = 960, autorun: bool = True,
                 live_interval_s: float = 0.2, **params: Any) -> None:
        race = (race or DEFAULT_RACE).with_(**params) if params else (race or DEFAULT_RACE)
        self.width = width
        self.live_interval_s = live_interval_s
        self._race = race
        self._shown: _Shown | None = None
        self._quiet = False
        self._live_lock = threading.Lock()  # one live update at a time
        self._lock = threading.RLock()  # guards what is shown; held only to assign values
        self._drawn: Timeline | None = None
        self._last_live = -math.inf

        # -- controls ----------------------------------------------------------------------
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
        self.mode_help = widgets.HTML(self._mode_help(race.mode))
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
        self.run_button = widgets.Button(description="Run", button_style="primary",
                                         icon="play", tooltip="run the race with these settings")
        self.status = widgets.HTML()
        # -- the timeline: base and cursor overlay stacked in one grid cell ----------------
        cell = widgets.Layout(grid_area="timeline")
        self.base_view = widgets.HTML(layout=cell)
        self.overlay_view = widgets.HTML(layout=widgets.Layout(grid_area="timeline"))
        self.overlay_view.add_class("statelab-overlay")
        self.timeline_view = widgets.GridBox(
            [self.base_view, self.overlay_view],
            layout=widgets.Layout(grid_template_areas='"timeline"',
                                  grid_template_columns="max-content", overflow="auto",
                                  width="100%"))
        # -- playback ----------------------------------------------------------------------
        # the slider counts operations from 1, as the timeline's "operation 5 of 320" does
        self.play = widgets.Play(value=1, min=1, max=1, step=1, interval=150,
                                 description="play", show_repeat=False)
        self.slider = widgets.IntSlider(1, min=1, max=1, description="operation",
                                        continuous_update=True,
                                        layout=widgets.Layout(width="420px"))
        self._link = widgets.jslink((self.play, "value"), (self.slider, "value"))
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
        self.slider.observe(self._on_cursor, names="value")
        self.zoom.observe(self._on_zoom, names="value")
        self.speed.observe(lambda change: setattr(self.play, "step", change["new"]),
                           names="value")
        self.mode.observe(self._on_mode, names="value")
        for control in (self.writers, self.increments, self.seed, self.mode, self.store,
                        self.retry, self.reread, self.latency):
            control.observe(self._on_params, names="value")

        rows = [
            widgets.HBox([self.writers, self.increments, self.seed]),
            widgets.HBox([self.mode, self.store, self.mode_help]),
            widgets.HBox([self.retry, self.reread, self.latency]),
            widgets.HBox([self.run_button, self.status]),
            self.timeline_view,
            widgets.HBox([self.play, self.back_button, self.forward_button, self.slider,
                          self.speed]),
            widgets.HBox([self.anomaly_button, self.zoom, self.export_button, self.download]),
            self.stats,
        ]
        super().__init__(rows)
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
        return self.slider.value - 1 if self._shown and len(self._shown.history) else None

    def race_from_controls(self) -> Race:
        """The race the controls describe (what :meth:`run` will run)."""
        retry = replace(self._race.retry, kind=self.retry.value, reread=self.reread.value)
        low, high = self.latency.value
        latency = replace(self._race.latency, low_ms=float(low), high_ms=float(high))
        return self._race.with_(writers=self.writers.value, increments=self.increments.value,
                                seed=int(self.seed.value), mode=self.mode.value,
                                store=self.store.value, retry=retry, latency=latency)

    def run(self) -> History:
        """Run the race the controls describe and show it, cursor on the last operation."""
        race = self.race_from_controls()
        history = race.run()
        self._race = race
        self._load(history, race)
        return history

    def step(self, n: int = 1) -> int | None:
        """Move the cursor by *n* operations (negative goes back); returns the new cursor."""
        if self.cursor is None:
            return None
        return self.seek(self.slider.value - 1 + n)

    def seek(self, index: int) -> int | None:
        """Put the cursor on the operation at position *index* (clamped to the history)."""
        if self.cursor is None:
            return None
        self.slider.value = max(self.slider.min, min(self.slider.max, int(index) + 1))
        return self.slider.value - 1

    def jump_to_first_anomaly(self) -> int | None:
        """Put the cursor on the first lost update's write; None (cursor unchanged) if none."""
        shown = self._shown
        if shown is None or shown.report.first_anomaly_index is None:
            return None
        return self.seek(shown.positions[shown.report.first_anomaly_index])

    def svg(self) -> str:
        """The timeline as one SVG document, as shown now (zoom and cursor included)."""
        timeline = self._timeline()
        return timeline.svg(self.cursor)

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
        payload = base64.b64encode(self.to_json().encode("utf-8")).decode("ascii")
        size = len(self.to_json().encode("utf-8"))
        name = self.download_name()
        return (f'<a download="{escape(name)}" href="data:application/json;base64,{payload}">'
                f"download {escape(name)} ({size / 1024:.0f} KiB)</a>")

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
        race = _race_from_meta(history.meta)
        if race is not None:
            self._race = race
            self._set_controls(race)
        self._load(history, race, source="race" if race is not None else "loaded")

    def update_from(self, history: History, *, final: bool = False,
                    writers: int | None = None) -> bool:
        """Show a history that is still growing (live writers); safe from any thread.

        Redraws at most every ``live_interval_s`` seconds (returns False when it skipped);
        pass ``final=True`` for the last call, which always redraws. If the cursor was on the
        last operation it follows the new end.
        """
        now = time.monotonic()
        if not final and now - self._last_live < self.live_interval_s:
            return False
        if not self._live_lock.acquire(blocking=final):
            return False  # another thread is drawing; the next call will catch up
        try:
            snapshot = History(operations=list(history.operations), meta=dict(history.meta))
            self._last_live = now
            self._load(snapshot, None, follow=True, writers=writers, source="live")
        finally:
            self._live_lock.release()
        return True

    def run_live(self, url: str, *, store: str = "statestore",
                 api_token: str | None = None) -> Any:
        """Run the race the controls describe for real: threads over HTTP against *url*.

        Returns at once with the :class:`~statelab.sim.live.LiveRace` (``.wait()`` blocks until
        it is done); the board redraws as operations complete, without blocking the kernel,
        and once more, completely, when the last writer finishes.
        """
        from statelab.sim.live import LiveRace

        race = self.race_from_controls()
        holder: dict[str, Any] = {}

        def progress(_count: int) -> None:
            live = holder.get("live")
            if live is not None:
                self.update_from(live.history(), writers=race.writers)

        live = LiveRace(race, url, store=store, api_token=api_token, on_operation=progress)
        holder["live"] = live

        def finish() -> None:
            live.done.wait()
            self.update_from(live.history(), final=True, writers=race.writers)

        live.start()
        threading.Thread(target=finish, name="statelab-live-board", daemon=True).start()
        return live

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _mode_help(mode: str) -> str:
        return f'<span style="color:{MUTED};font-size:12px">{escape(MODE_HELP[mode])}</span>'

    def _set_controls(self, race: Race) -> None:
        self.writers.max = max(self.writers.max, race.writers)
        self.increments.max = max(self.increments.max, race.increments)
        self.latency.max = max(self.latency.max, race.latency.high_ms)
        self.writers.value, self.increments.value = race.writers, race.increments
        self.seed.value, self.mode.value, self.store.value = race.seed, race.mode, race.store
        self.retry.value, self.reread.value = race.retry.kind, race.retry.reread
        self.latency.value = (race.latency.low_ms, race.latency.high_ms)

    def _load(self, history: History, race: Race | None, *, follow: bool = False,
              writers: int | None = None, source: str = "race") -> None:
        # the slow part (checks, the whole-run drawing) outside the lock...
        report = analyse(history)
        shown = _Shown(history=history, report=report, race=race, source=source,
                       writers=writers,
                       positions={op.index: i for i, op in enumerate(history.operations)},
                       timelines={})
        if not self.zoom.value:
            self._timeline(shown).base()
        # ...then short assignments under it
        with self._lock:
            at_end = self._shown is not None and self.slider.value >= self.slider.max
            self._shown = shown  # one assignment: readers see the old run or the new one
            last = max(1, len(history))
            self._quiet = True
            try:
                self.slider.max = last
                self.play.max = last
                if not follow or at_end or race is not None:
                    self.slider.value = last
                empty = len(history) == 0
                for control in (self.slider, self.play, self.back_button, self.forward_button):
                    control.disabled = empty
            finally:
                self._quiet = False
            found = report.first_anomaly_index is not None
            self.anomaly_button.disabled = not found
            self.anomaly_button.description = ("jump to first lost update" if found
                                               else "no lost update")
            self.download.value = ""
            self.stats.value = _stats_html(report)
            self._update_status()
            self._draw()

    def _timeline(self, shown: _Shown | None = None) -> Timeline:
        shown = shown or self._shown
        assert shown is not None
        window = self._window_for(shown)
        timeline = shown.timelines.get(window)
        if timeline is None:
            if len(shown.timelines) > 16:
                shown.timelines.clear()
            timeline = Timeline(shown.history, shown.report, width=self.width,
                                title=_race_title(shown.race, shown.history),
                                window_us=window, writers=shown.writers)
            shown.timelines[window] = timeline
        return timeline

    def _window_for(self, shown: _Shown) -> tuple[int, int] | None:
        """The zoom window around the cursor, moved in half-window jumps (so it is cached)."""
        span_ms = self.zoom.value
        if not span_ms or not len(shown.history):
            return None
        span = span_ms * 1000
        ops = shown.history.operations
        start = min(op.invoke_us for op in ops)
        position = max(0, min(len(ops) - 1, self.slider.value - 1))
        at = ops[position].invoke_us - start
        half = span // 2
        left = start + max(0, (at // half) * half - span // 4)
        return (left, left + span)

    def _draw(self) -> None:
        with self._lock:
            timeline = self._timeline()
            if timeline is not self._drawn:  # the base only changes with the run or the window
                self.base_view.value = timeline.base_svg()
                self._drawn = timeline
            self.overlay_view.value = OVERLAY_CSS + timeline.overlay_svg(self.cursor)

    def _on_cursor(self, change: dict[str, Any]) -> None:
        if not self._quiet and self._shown is not None:
            self._draw()

    def _on_zoom(self, change: dict[str, Any]) -> None:
        if self._shown is not None:
            self._draw()

    def _on_mode(self, change: dict[str, Any]) -> None:
        self.mode_help.value = self._mode_help(change["new"])
        self.mode.tooltip = MODE_HELP[change["new"]]

    def _on_params(self, change: dict[str, Any]) -> None:
        self._update_status()

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
                text += ('<br><b style="color:#b35c00">settings changed: press Run to run '
                         "the new race</b>")
        self.status.value = f'<span style="font-size:12px">{text}</span>'

    def _show_download(self) -> None:
        self.download.value = self.download_link()

    # -- static representations -------------------------------------------------------------

    def _head(self) -> str:
        shown = self._shown
        if shown is None or shown.race is None:
            count = 0 if shown is None else len(shown.history.processes)
            source = "live" if shown is None else shown.source
            return f"RaceBoard: {source} history, {count} writer(s)"
        return f"RaceBoard: {shown.race.describe()}"

    def summary_text(self) -> str:
        shown = self._shown
        if shown is None:
            return "RaceBoard (not run)"
        n = len(shown.history)
        where = (f"cursor on operation {self.cursor + 1} of {n}" if self.cursor is not None
                 else "no operations")
        return "\n".join([self._head(), f"{n} operations; {where}"]
                         + _report_lines(shown.report))

    def _summary_block(self, tooltips: bool) -> str:
        shown = self._shown
        assert shown is not None
        lines = "\n".join(_report_lines(shown.report))
        timeline = self._timeline()
        if tooltips != timeline.tips or timeline.tips_note:
            timeline = Timeline(shown.history, shown.report, width=self.width,
                                title=timeline.title, window_us=self._window_for(shown),
                                writers=shown.writers, tooltips=tooltips)
        return (f'<div class="statelab-raceboard"><p style="font-family:sans-serif">'
                f"<b>{escape(self._head())}</b></p>"
                f'<pre style="font-size:12px">{escape(lines)}</pre>'
                f"{timeline.svg(self.cursor)}</div>")

    def summary_html(self) -> str:
        if self._shown is None:
            return "<p>RaceBoard (not run)</p>"
        return self._summary_block(tooltips=False)


# -- ComparisonView -------------------------------------------------------------------------------

class ComparisonView(_StaticRepr, widgets.VBox):
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
        self.timelines = {
            mode: Timeline(h, self.reports[mode], title=f"{mode}", width=column,
                           time_range_us=self._scale, legend=False)
            for mode, h in self.histories.items()}
        self._static: dict[str, str] = {}
        self.cursors = {mode: self.reports[mode].first_anomaly_index for mode in self.modes}
        columns = []
        for mode in self.modes:
            header = widgets.HTML(f'<b>{escape(mode)}</b>: {escape(MODE_HELP[mode])}',
                                  layout=widgets.Layout(width=f"{column}px", height="48px"))
            picture = widgets.HTML(self._svg(mode))
            stats = widgets.HTML(_stats_html(self.reports[mode], limit=3),
                                 layout=widgets.Layout(width=f"{column}px"))
            columns.append(widgets.VBox([header, picture, stats]))
        caption = widgets.HTML(f'<span style="font-size:12px">{escape(self._caption())}</span>')
        legend = widgets.HTML(legend_svg(min(960, column * len(self.modes))))
        super().__init__([caption, legend, widgets.HBox(columns)])

    def _caption(self) -> str:
        race = self.race
        return (f"{race.writers} writers x {race.increments} increments, {race.store} store, "
                f"{race.retry.describe()}, latency {race.latency.describe()}, seed {race.seed}: "
                "the same seed in every mode, drawn on one time scale; the highlighted "
                "operation is the first lost update")

    def _svg(self, mode: str) -> str:
        return self.timelines[mode].svg(self.cursors[mode], fade=False)

    def _static_svg(self, mode: str) -> str:
        """The same drawing without tooltips: a stored notebook output stays small."""
        if mode not in self._static:
            timeline = Timeline(self.histories[mode], self.reports[mode], title=f"{mode}",
                                width=self._column, time_range_us=self._scale, legend=False,
                                tooltips=False)
            self._static[mode] = timeline.svg(self.cursors[mode], fade=False)
        return self._static[mode]

    def summary_text(self) -> str:
        lines = [f"ComparisonView: {self._caption()}"]
        for mode in self.modes:
            lines.append(f"[{mode}]")
            lines.extend("  " + line for line in _report_lines(self.reports[mode], limit=1))
        return "\n".join(lines)

    def summary_html(self) -> str:
        cells = "".join(
            f'<td style="vertical-align:top;padding-right:8px">'
            f"<p><b>{escape(mode)}</b>: {escape(MODE_HELP[mode])}</p>{self._static_svg(mode)}"
            f'<pre style="font-size:12px">'
            f'{escape(chr(10).join(_report_lines(self.reports[mode], limit=1)))}</pre></td>'
            for mode in self.modes)
        return (f'<div class="statelab-comparison"><p>{escape(self._caption())}</p>'
                f"{legend_svg(min(960, self.timelines[self.modes[0]].width * len(self.modes)))}"
                f"<table><tr>{cells}</tr></table></div>")


# -- SweepChart -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepPoint:
    """One simulated race of a sweep."""

    mode: str
    writers: int
    increments: int
    operations: int
    retries_per_success: float
    throughput_per_s: float
    kept_per_s: float
    lost_percent: float
    final: int
    expected: int


SERIES_COLOURS = {"first-write": "#1f4fd1", "last-write": "#d0452f",
                  "etag-with-last-write": "#8e44ad"}


class SweepChart(_StaticRepr, widgets.HTML):
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
        self.points: list[SweepPoint] = []
        for mode in self.modes:
            for n in self.writers:
                increments = max(1, min(race.increments, budget // n))
                history = race.with_(mode=mode, writers=n, increments=increments).run()
                report = analyse(history)
                lost = 100.0 * report.lost / report.expected if report.expected else 0.0
                self.points.append(SweepPoint(
                    mode=mode, writers=n, increments=increments, operations=len(history),
                    retries_per_success=report.retries_per_success,
                    throughput_per_s=report.throughput_per_s,
                    kept_per_s=(report.final_total / (report.duration_ms / 1000)
                                if report.duration_ms else 0.0),
                    lost_percent=lost,
                    final=report.final_total, expected=report.expected))
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
        width = self.chart_width
        panels = (("retries per success", ("retries_per_success",), "{:.1f}", False),
                  ("increments per second (log scale)", ("throughput_per_s", "kept_per_s"),
                   "{:.0f}", True),
                  ("increments lost (%)", ("lost_percent",), "{:.0f}", False))
        panel_w = (width - 20) / 3
        height = 250
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
               f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="10" '
               f'style="display:block" role="img" aria-label="sweep over the number of writers">'
               f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
        for number, (title, attrs, fmt, log) in enumerate(panels):
            left = 10 + number * panel_w + 46
            right = 10 + (number + 1) * panel_w - 12
            top, bottom = 36.0, height - 52.0
            values = [getattr(p, attr) for p in self.points for attr in attrs]
            fraction, ticks = _scale(values, log)

            def y_of(value: float) -> float:
                return bottom - (bottom - top) * fraction(value)

            out.append(f'<text x="{_f(left)}" y="18" font-size="11.5" font-weight="bold" '
                       f'fill="{INK}">{escape(title)}</text>')
            grid, labels = [], []
            for level, text in ticks:
                y = y_of(level)
                grid.append(f"M{_f(left)} {_f(y)}H{_f(right)}")
                labels.append(f'<text x="{_f(left - 4)}" y="{_f(y + 3.5)}" text-anchor="end">'
                              f"{text}</text>")
            out.append(f'<path d="{"".join(grid)}" stroke="#e6e6e6"/>')
            out.append(f'<g fill="{MUTED}">{"".join(labels)}</g>')
            slots = len(self.writers)

            def x_of(n: int) -> float:
                i = self.writers.index(n)
                return left + (right - left) * (i + 0.5) / slots

            out.append(f'<g fill="{MUTED}" text-anchor="middle">' + "".join(
                f'<text x="{_f(x_of(n))}" y="{_f(bottom + 14)}">{n}</text>'
                for n in self.writers) + "</g>")
            out.append(f'<text x="{_f((left + right) / 2)}" y="{_f(bottom + 28)}" '
                       f'text-anchor="middle" fill="{MUTED}">writers</text>')
            out.append(f'<path d="M{_f(left)} {_f(bottom)}H{_f(right)}" stroke="{MUTED}"/>')
            for mode in self.modes:
                colour = SERIES_COLOURS.get(mode, INK)
                series = [p for p in self.points if p.mode == mode]
                for attr in attrs:
                    dashed = attr == "kept_per_s"
                    pts = [(x_of(p.writers), y_of(getattr(p, attr))) for p in series]
                    dash = ' stroke-dasharray="5 3"' if dashed else ""
                    out.append(f'<path d="M{"L".join(f"{_f(x)} {_f(y)}" for x, y in pts)}" '
                               f'fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
                    what = {"throughput_per_s": "acknowledged increments/s",
                            "kept_per_s": "increments/s kept in the final value"}.get(attr, "")
                    for p, (x, y) in zip(series, pts):
                        tip = (f"{mode}, {p.writers} writers x {p.increments} increments: "
                               f"{fmt.format(getattr(p, attr))} {what}".rstrip())
                        shape = (f'<rect x="{_f(x - 2.5)}" y="{_f(y - 2.5)}" width="5" '
                                 f'height="5" fill="#ffffff" stroke="{colour}" '
                                 f'stroke-width="1.5">' if dashed else
                                 f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{colour}">')
                        out.append(f'{shape}<title>{escape(tip)}</title>'
                                   f'{"</rect>" if dashed else "</circle>"}')
        x = 56.0
        for mode in self.modes:
            colour = SERIES_COLOURS.get(mode, INK)
            out.append(f'<path d="M{_f(x)} {height - 10}h18" stroke="{colour}" '
                       f'stroke-width="2"/><text x="{_f(x + 22)}" y="{height - 6}" '
                       f'font-size="11" fill="{INK}">{escape(mode)}</text>')
            x += 40 + len(mode) * 11 * 0.62
        out.append(f'<path d="M{_f(x + 10)} {height - 10}h18" stroke="{MUTED}" stroke-width="2"/>'
                   f'<text x="{_f(x + 32)}" y="{height - 6}" font-size="11" fill="{INK}">'
                   f'acknowledged</text>'
                   f'<path d="M{_f(x + 140)} {height - 10}h18" stroke="{MUTED}" stroke-width="2" '
                   f'stroke-dasharray="5 3"/><text x="{_f(x + 162)}" y="{height - 6}" '
                   f'font-size="11" fill="{INK}">kept in the final value</text>')
        out.append("</svg>")
        return "".join(out)

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


def _scale(values: list[float], log: bool
           ) -> tuple[Any, list[tuple[float, str]]]:
    """A (value -> 0..1) function and the (value, label) ticks of one chart axis."""
    peak = max(values + [0.0])
    if peak < 1e-6:  # nothing to show (say, no increment lost): a 0..1 axis
        peak = 1.0
    if log:
        positive = [v for v in values if v > 0] or [1.0]
        low = 10 ** math.floor(math.log10(min(positive)))
        high = 10 ** math.ceil(math.log10(max(positive)))
        high = high if high > low else low * 10
        span = math.log10(high) - math.log10(low)

        def log_fraction(value: float) -> float:
            return (math.log10(max(value, low)) - math.log10(low)) / span

        ticks = []
        decade = low
        while decade <= high * 1.0001:
            for mult in ((1, 2, 5) if span <= 2 else (1,)):
                level = decade * mult
                if level <= high * 1.0001:
                    ticks.append((level, f"{level:g}"))
            decade *= 10
        return log_fraction, ticks
    step = _nice(peak / 4)
    top = step * math.ceil(peak / step)

    def fraction(value: float) -> float:
        return value / top

    ticks, level = [], 0.0
    while level <= top + 1e-9:
        ticks.append((level, _tick(level, step)))
        level = round(level + step, 9)
    return fraction, ticks


def _nice(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _tick(value: float, step: float) -> str:
    if step >= 1:
        return f"{value:.0f}"
    decimals = min(3, max(1, -int(math.floor(math.log10(step)))))
    return f"{value:.{decimals}f}"


# The replica board lives in its own module (one concept each); it is part of this namespace.
from statelab.widgets.replica_board import ReplicaBoard  # noqa: E402
