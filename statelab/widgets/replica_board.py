"""The replica board: consistency made visible (one lane per node and per client).

Like the race board it is built from core ipywidgets, with the picture rendered in Python as
SVG: one renderer for the live widget, the static HTML that GitHub, nbviewer and nbval see, and
tests. Lanes from top to bottom: the primary, each replica (its line shows which version it
holds over time), then each client. Writes land on the primary; replication arrows carry each
version to each replica with its lag; reads are drawn from the client to the node that served
them, red when stale. A cursor and a highlighted operation follow the play/step/scrub controls.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.analysis.history import History, Operation, writer_name
from statelab.sim.replication import ConsistencyReport, ReplicaScenario, consistency_report
from statelab.stores.replicated import LagModel

__all__ = ["ReplicaBoard", "render_replica_timeline"]

COLOURS = {"write": "#1f4fd1", "fresh": "#1b7f3b", "stale": "#c62828", "failed": "#e08a00",
           "arrow": "#8a94a6", "lane": "#f3f5f9", "text": "#1d2433", "cursor": "#6b2fbf"}


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class _Layout:
    def __init__(self, history: History, width: int) -> None:
        self.history = history
        self.width = width
        self.left = 84.0
        self.right = 16.0
        self.nodes = ["primary"] + list(history.meta.get("replicas", []))
        self.clients = sorted({op.process for op in history})
        self.lane = 34.0 if len(self.nodes) + len(self.clients) <= 8 else 24.0
        self.top = 34.0
        end = max([op.complete_us for op in history] +
                  [d["arrives_us"] or 0 for d in history.meta.get("deliveries", [])] + [1])
        self.end_us = end * 1.02

    def x(self, us: float) -> float:
        return self.left + (self.width - self.left - self.right) * us / self.end_us

    def node_y(self, node: str) -> float:
        return self.top + self.nodes.index(node) * self.lane

    def client_y(self, process: int) -> float:
        return self.top + (len(self.nodes) + self.clients.index(process)) * self.lane + 6

    @property
    def height(self) -> float:
        return self.top + (len(self.nodes) + len(self.clients)) * self.lane + 52


def render_replica_timeline(history: History, report: ConsistencyReport | None = None,
                            cursor: int | None = None, width: int = 960) -> str:
    """A deterministic SVG of a replication history (see the module documentation)."""
    report = report or consistency_report(history)
    layout = _Layout(history, width)
    stale = {v.read_index: v.sentence for v in report.stale_reads}
    session = {v.read_index: v.sentence for v in report.violations if v.kind != "stale-read"}
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{_f(layout.height)}" viewBox="0 0 {width} {_f(layout.height)}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{_f(layout.left)}" y="14" fill="{COLOURS["text"]}" font-size="12">'
        "writes land on the primary; arrows carry each version to the replicas; reads go to "
        "the node that served them (red: stale)</text>"]
    lanes = [(n, layout.node_y(n), n) for n in layout.nodes] + \
            [(f"client {writer_name(p)}", layout.client_y(p) - 6, None) for p in layout.clients]
    for label, y, _ in lanes:
        parts.append(f'<rect x="{_f(layout.left)}" y="{_f(y - layout.lane / 2 + 3)}" '
                     f'width="{_f(width - layout.left - layout.right)}" '
                     f'height="{_f(layout.lane - 6)}" fill="{COLOURS["lane"]}"/>')
        parts.append(f'<text x="{_f(layout.left - 6)}" y="{_f(y + 4)}" text-anchor="end" '
                     f'fill="{COLOURS["text"]}">{escape(label)}</text>')
    parts.extend(_version_lines(history, layout))
    parts.extend(_arrows(history, layout))
    for op in history:
        parts.extend(_operation(op, layout, stale.get(op.index), session.get(op.index),
                                op.index == cursor))
    if cursor is not None and 0 <= cursor < len(history):
        at = history[cursor].applied_us or history[cursor].complete_us
        parts.append(f'<line x1="{_f(layout.x(at))}" x2="{_f(layout.x(at))}" '
                     f'y1="{_f(layout.top - 16)}" y2="{_f(layout.height - 38)}" '
                     f'stroke="{COLOURS["cursor"]}" stroke-dasharray="4 3"/>')
    parts.extend(_axis(layout))
    parts.extend(_legend(layout))
    parts.append("</svg>")
    return "".join(parts)


def _version_lines(history: History, layout: _Layout) -> list[str]:
    """Each node's version over time, as a stepped line with the version written on it."""
    out: list[str] = []
    writes = sorted((op for op in history if op.kind == "write" and op.applied_status == 204),
                    key=lambda op: op.applied_order)  # type: ignore[arg-type, return-value]
    changes: dict[str, list[tuple[int, int]]] = {"primary": [
        (op.applied_us or 0, number) for number, op in enumerate(writes, start=1)]}
    for delivery in history.meta.get("deliveries", []):
        if delivery["arrives_us"] is not None:
            changes.setdefault(delivery["replica"], []).append(
                (delivery["arrives_us"], delivery["version"]))
    for node in layout.nodes:
        y = layout.node_y(node)
        steps = sorted(changes.get(node, []))
        last_x = layout.x(0)
        version = 0
        label_end = -1.0
        for position, (at, number) in enumerate(steps):
            x = layout.x(at)
            if version:
                out.append(f'<line x1="{_f(last_x)}" x2="{_f(x)}" y1="{_f(y)}" y2="{_f(y)}" '
                           f'stroke="{COLOURS["write"]}" stroke-width="2"/>')
            out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3" fill="{COLOURS["write"]}"/>')
            following = steps[position + 1][0] if position + 1 < len(steps) else None
            crowded = following is not None and layout.x(following) - x < 16
            if not crowded and x > label_end:  # versions arriving together: label the last
                out.append(f'<text x="{_f(x + 3)}" y="{_f(y - 5)}" fill="{COLOURS["write"]}" '
                           f'font-size="10">v{number}</text>')
                label_end = x + 16
            last_x, version = x, number
        if version:
            out.append(f'<line x1="{_f(last_x)}" x2="{_f(layout.x(layout.end_us))}" '
                       f'y1="{_f(y)}" y2="{_f(y)}" stroke="{COLOURS["write"]}" '
                       'stroke-width="2"/>')
    return out


def _arrows(history: History, layout: _Layout) -> list[str]:
    out: list[str] = []
    primary_y = layout.node_y("primary")
    for delivery in history.meta.get("deliveries", []):
        x1 = layout.x(delivery["sent_us"])
        y2 = layout.node_y(delivery["replica"])
        lag = "never" if delivery["arrives_us"] is None else \
            f"{_f((delivery['arrives_us'] - delivery['sent_us']) / 1000)} ms"
        title = (f"<title>v{delivery['version']} to {escape(delivery['replica'])}: "
                 f"{lag}</title>")
        if delivery["arrives_us"] is None:
            out.append(f'<line x1="{_f(x1)}" y1="{_f(primary_y)}" x2="{_f(x1 + 6)}" '
                       f'y2="{_f(y2)}" stroke="{COLOURS["stale"]}" stroke-dasharray="2 2">'
                       f"{title}</line>")
            continue
        x2 = layout.x(delivery["arrives_us"])
        out.append(f'<line x1="{_f(x1)}" y1="{_f(primary_y)}" x2="{_f(x2)}" y2="{_f(y2)}" '
                   f'stroke="{COLOURS["arrow"]}" stroke-width="1">{title}</line>')
    return out


def _operation(op: Operation, layout: _Layout, stale: str | None, session: str | None,
               current: bool) -> list[str]:
    y = layout.client_y(op.process)
    x1, x2 = layout.x(op.invoke_us), layout.x(op.complete_us)
    if op.kind == "write":
        colour = COLOURS["write"] if op.outcome == "ok" else COLOURS["failed"]
        label = f"write {op.value}" if op.outcome == "ok" else f"write {op.status or 'timeout'}"
    else:
        colour = COLOURS["stale"] if stale else COLOURS["fresh"]
        seen = f"v{op.etag_returned}" if op.status == 200 else "none"
        label = f"read {seen}"
    tooltip = f"{writer_name(op.process)}: {op.describe()}"
    if op.node:
        tooltip += f" (served by {op.node})"
    for sentence in (stale, session):
        if sentence:
            tooltip += f"; {sentence}"
    stroke = ' stroke="#111" stroke-width="2"' if current else ""
    out = [f'<rect x="{_f(x1)}" y="{_f(y - 7)}" width="{_f(max(2.0, x2 - x1))}" height="14" '
           f'rx="2" fill="{colour}" fill-opacity="0.85"{stroke}>'
           f"<title>{escape(tooltip)}</title></rect>"]
    if x2 - x1 > 6.5 * len(label):
        out.append(f'<text x="{_f(x1 + 3)}" y="{_f(y + 4)}" fill="white" font-size="10">'
                   f"{escape(label)}</text>")
    applied = op.applied_us
    if applied is not None:
        node = "primary" if op.kind == "write" else (op.node or "primary")
        if node in layout.nodes:
            ax = layout.x(applied)
            out.append(f'<line x1="{_f(ax)}" y1="{_f(y - 7)}" x2="{_f(ax)}" '
                       f'y2="{_f(layout.node_y(node))}" stroke="{colour}" '
                       f'stroke-width="{2 if stale or current else 1}" stroke-opacity="0.7"/>')
    return out


LEGEND = (("write", COLOURS["write"]), ("fresh read", COLOURS["fresh"]),
          ("stale read", COLOURS["stale"]), ("failed write", COLOURS["failed"]),
          ("replication (hover: lag)", COLOURS["arrow"]))


def _legend(layout: _Layout) -> list[str]:
    out = []
    x = layout.left
    y = layout.height - 4
    for label, colour in LEGEND:
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 9)}" width="12" height="9" fill="{colour}"/>')
        out.append(f'<text x="{_f(x + 16)}" y="{_f(y)}" fill="#333" font-size="10">'
                   f"{escape(label)}</text>")
        x += 24 + 6.2 * len(label)
    return out


def _axis(layout: _Layout) -> list[str]:
    y = layout.height - 34
    out = [f'<line x1="{_f(layout.left)}" x2="{_f(layout.width - layout.right)}" '
           f'y1="{_f(y)}" y2="{_f(y)}" stroke="#999"/>']
    span_ms = layout.end_us / 1000
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
                if span_ms / s <= 10)
    tick = 0.0
    while tick <= span_ms:
        x = layout.x(tick * 1000)
        out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y)}" y2="{_f(y + 4)}" '
                   'stroke="#999"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(y + 16)}" text-anchor="middle" fill="#555" '
                   f'font-size="10">{_f(tick)} ms</text>')
        tick += step
    return out


def _stats_table(reports: dict[str, ConsistencyReport]) -> str:
    rows = [("write latency p50 / p99", lambda r: f"{r.write_latency_p50_ms:.1f} / "
                                                  f"{r.write_latency_p99_ms:.1f} ms"),
            ("read latency p50", lambda r: f"{r.read_latency_p50_ms:.1f} ms"),
            ("stale reads", lambda r: f"{len(r.stale_reads)} of {r.reads}"),
            ("read-your-writes violations", lambda r: str(len(r.ryw_violations))),
            ("monotonic-read violations", lambda r: str(len(r.monotonic_violations))),
            ("failed writes", lambda r: str(r.failed_writes))]
    head = "".join(f"<th style='padding:2px 10px'>{escape(mode)}</th>" for mode in reports)
    body = "".join(
        f"<tr><td style='padding:2px 10px'>{escape(name)}</td>"
        + "".join(f"<td style='padding:2px 10px;text-align:right'>{escape(fn(r))}</td>"
                  for r in reports.values()) + "</tr>"
        for name, fn in rows)
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


class ReplicaBoard(widgets.VBox):
    """Controls, the replica timeline, and eventual-vs-strong statistics side by side."""

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
        self.play = widgets.Play(value=0, min=0, max=1, step=1, interval=400,
                                 description="play")
        self.scrubber = widgets.IntSlider(value=0, min=0, max=1, description="operation",
                                          style=style, continuous_update=True)
        widgets.jslink((self.play, "value"), (self.scrubber, "value"))
        self.step_button = widgets.Button(description="Step")
        self.picture = widgets.HTML()
        self.stats = widgets.HTML()
        self.caption = widgets.HTML()
        self.run_button.on_click(lambda _: self.run())
        self.step_button.on_click(lambda _: self.step())
        self.scrubber.observe(self._on_scrub, names="value")
        self.consistency.observe(lambda _: self.run(), names="value")
        controls = widgets.VBox([self.consistency, self.replicas, self.lag,
                                 widgets.HBox([self.seed, self.run_button])])
        super().__init__([controls, widgets.HBox([self.play, self.scrubber, self.step_button]),
                          self.caption, self.picture, self.stats])
        self.history: History = History()
        self.report: ConsistencyReport = consistency_report(History())
        self.reports: dict[str, ConsistencyReport] = {}
        self.cursor: int | None = None
        self.run()

    # -- behaviour -------------------------------------------------------------------------

    def scenario_from_controls(self) -> ReplicaScenario:
        low, high = self.lag.value
        kind = "fixed" if low == high else "uniform"
        return self.scenario.with_(consistency=self.consistency.value,
                                   replicas=self.replicas.value,
                                   lag=LagModel(kind, float(low), float(high)),
                                   seed=int(self.seed.value),
                                   faults=tuple(f for f in self.scenario.faults
                                                if int(f.replica.rsplit("-", 1)[-1])
                                                <= self.replicas.value))

    def run(self) -> History:
        self.scenario = self.scenario_from_controls()
        self.reports = {mode: consistency_report(self.scenario.with_(consistency=mode).run())
                        for mode in ("eventual", "strong")}
        self.history = self.scenario.run()
        self.report = consistency_report(self.history)
        last = max(0, len(self.history) - 1)
        self.cursor = last if len(self.history) else None
        self.scrubber.max = self.play.max = max(1, last)
        self.scrubber.value = last
        self.caption.value = f"<b>{escape(self.scenario.describe())}</b>"
        self.stats.value = _stats_table(self.reports) + "<ul>" + "".join(
            f"<li>{escape(v.sentence)}</li>" for v in self.report.violations[:5]) + "</ul>"
        self._render()
        return self.history

    def _on_scrub(self, change: dict[str, Any]) -> None:
        self.seek(int(change["new"]))

    def seek(self, index: int) -> int | None:
        if not len(self.history):
            return None
        self.cursor = max(0, min(index, len(self.history) - 1))
        if self.scrubber.value != self.cursor:
            self.scrubber.value = self.cursor
        self._render()
        return self.cursor

    def step(self, n: int = 1) -> int | None:
        return self.seek((self.cursor or 0) + n)

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

    def __repr__(self) -> str:
        return self.summary_text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.summary_text()
        bundle["text/html"] = (f"<div><p><b>{escape(self.scenario.describe())}</b></p>"
                               f"{_stats_table(self.reports)}{self.svg()}</div>")
        return bundle
