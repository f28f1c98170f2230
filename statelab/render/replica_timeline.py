"""Draw a replication history: consistency made visible, one lane per node and per client.

Lanes from top to bottom: the primary, each replica (its line shows which version it holds
over time), then each client. Writes land on the primary; replication arrows carry each
version to each replica with its lag; reads are drawn from the client to the node that served
them, red when stale. The operation under the cursor is outlined, with a dashed line at the
moment it took effect.
"""

from __future__ import annotations

from html import escape
from typing import Any

from statelab.analysis.consistency import ConsistencyReport, consistency_report
from statelab.analysis.history import History, Operation, writer_name
from statelab.render.palette import (
    BLUE,
    GREEN,
    GREY,
    INK,
    LANE,
    MUTED,
    ORANGE,
    RED,
    VIOLET,
    WHITE,
)
from statelab.render.svg import document, nice_step, num, ticks

__all__ = ["COLOURS", "render_replica_timeline"]

COLOURS = {"write": BLUE, "fresh": GREEN, "stale": RED, "failed": ORANGE, "arrow": GREY,
           "lane": LANE, "text": INK, "cursor": VIOLET}
LEGEND = (("write", COLOURS["write"]), ("fresh read", COLOURS["fresh"]),
          ("stale read", COLOURS["stale"]), ("failed write", COLOURS["failed"]),
          ("replication (hover: lag)", COLOURS["arrow"]))


class _Layout:
    def __init__(self, history: History, width: int) -> None:
        self.width = width
        self.left = 84.0
        self.right = 16.0
        self.nodes = ["primary"] + list(history.meta.get("replicas", []))
        self.clients = sorted({op.process for op in history})
        self.lane = 34.0 if len(self.nodes) + len(self.clients) <= 8 else 24.0
        self.top = 34.0
        end = max([op.complete_us for op in history] +
                  [d["arrives_us"] or 0 for d in history.meta.get("deliveries", [])] + [1])
        self.end_us: float = end * 1.02

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
        document(width, layout.height, ("font-family", "sans-serif"), ("font-size", "11")),
        f'<text x="{num(layout.left)}" y="14" fill="{COLOURS["text"]}" font-size="12">'
        "writes land on the primary; arrows carry each version to the replicas; reads go to "
        "the node that served them (red: stale)</text>"]
    lanes = [(n, layout.node_y(n)) for n in layout.nodes] + \
            [(f"client {writer_name(p)}", layout.client_y(p) - 6) for p in layout.clients]
    for label, y in lanes:
        parts.append(f'<rect x="{num(layout.left)}" y="{num(y - layout.lane / 2 + 3)}" '
                     f'width="{num(width - layout.left - layout.right)}" '
                     f'height="{num(layout.lane - 6)}" fill="{COLOURS["lane"]}"/>')
        parts.append(f'<text x="{num(layout.left - 6)}" y="{num(y + 4)}" text-anchor="end" '
                     f'fill="{COLOURS["text"]}">{escape(label)}</text>')
    parts.extend(_version_lines(history, layout))
    parts.extend(_arrows(history, layout))
    for op in history:
        parts.extend(_operation(op, layout, stale.get(op.index), session.get(op.index),
                                op.index == cursor))
    if cursor is not None and 0 <= cursor < len(history):
        at = history[cursor].applied_us or history[cursor].complete_us
        parts.append(f'<line x1="{num(layout.x(at))}" x2="{num(layout.x(at))}" '
                     f'y1="{num(layout.top - 16)}" y2="{num(layout.height - 38)}" '
                     f'stroke="{COLOURS["cursor"]}" stroke-dasharray="4 3"/>')
    parts.extend(_axis(layout))
    parts.extend(_legend(layout))
    parts.append("</svg>")
    return "".join(parts)


def _changes(history: History) -> dict[str, list[tuple[int, int]]]:
    """Node -> (time, version) of every version it received, the primary's first."""
    writes = sorted((op for op in history if op.kind == "write" and op.applied_status == 204),
                    key=lambda op: op.applied_order or 0)
    changes: dict[str, list[tuple[int, int]]] = {"primary": [
        (op.applied_us or 0, number) for number, op in enumerate(writes, start=1)]}
    deliveries: list[dict[str, Any]] = history.meta.get("deliveries", [])
    for delivery in deliveries:
        if delivery["arrives_us"] is not None:
            changes.setdefault(delivery["replica"], []).append(
                (delivery["arrives_us"], delivery["version"]))
    return changes


def _version_lines(history: History, layout: _Layout) -> list[str]:
    """Each node's version over time, as a stepped line with the version written on it."""
    out: list[str] = []
    changes = _changes(history)
    line = f'stroke="{COLOURS["write"]}" stroke-width="2"/>'
    for node in layout.nodes:
        y = layout.node_y(node)
        steps = sorted(changes.get(node, []))
        last_x = layout.x(0)
        version = 0
        label_end = -1.0
        for position, (at, number) in enumerate(steps):
            x = layout.x(at)
            if version:
                out.append(f'<line x1="{num(last_x)}" x2="{num(x)}" y1="{num(y)}" '
                           f'y2="{num(y)}" {line}')
            out.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{COLOURS["write"]}"/>')
            following = steps[position + 1][0] if position + 1 < len(steps) else None
            crowded = following is not None and layout.x(following) - x < 16
            if not crowded and x > label_end:  # versions arriving together: label the last
                out.append(f'<text x="{num(x + 3)}" y="{num(y - 5)}" fill="{COLOURS["write"]}" '
                           f'font-size="10">v{number}</text>')
                label_end = x + 16
            last_x, version = x, number
        if version:
            out.append(f'<line x1="{num(last_x)}" x2="{num(layout.x(layout.end_us))}" '
                       f'y1="{num(y)}" y2="{num(y)}" {line}')
    return out


def _arrows(history: History, layout: _Layout) -> list[str]:
    out: list[str] = []
    primary_y = layout.node_y("primary")
    deliveries: list[dict[str, Any]] = history.meta.get("deliveries", [])
    for delivery in deliveries:
        x1 = layout.x(delivery["sent_us"])
        y2 = layout.node_y(delivery["replica"])
        lag = "never" if delivery["arrives_us"] is None else \
            f"{num((delivery['arrives_us'] - delivery['sent_us']) / 1000)} ms"
        title = (f"<title>v{delivery['version']} to {escape(delivery['replica'])}: "
                 f"{lag}</title>")
        if delivery["arrives_us"] is None:
            out.append(f'<line x1="{num(x1)}" y1="{num(primary_y)}" x2="{num(x1 + 6)}" '
                       f'y2="{num(y2)}" stroke="{COLOURS["stale"]}" stroke-dasharray="2 2">'
                       f"{title}</line>")
            continue
        x2 = layout.x(delivery["arrives_us"])
        out.append(f'<line x1="{num(x1)}" y1="{num(primary_y)}" x2="{num(x2)}" y2="{num(y2)}" '
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
    stroke = f' stroke="{INK}" stroke-width="2"' if current else ""
    out = [f'<rect x="{num(x1)}" y="{num(y - 7)}" width="{num(max(2.0, x2 - x1))}" height="14" '
           f'rx="2" fill="{colour}" fill-opacity="0.85"{stroke}>'
           f"<title>{escape(tooltip)}</title></rect>"]
    if x2 - x1 > 6.5 * len(label):
        out.append(f'<text x="{num(x1 + 3)}" y="{num(y + 4)}" fill="{WHITE}" font-size="10">'
                   f"{escape(label)}</text>")
    applied = op.applied_us
    if applied is not None:
        node = "primary" if op.kind == "write" else (op.node or "primary")
        if node in layout.nodes:
            ax = layout.x(applied)
            out.append(f'<line x1="{num(ax)}" y1="{num(y - 7)}" x2="{num(ax)}" '
                       f'y2="{num(layout.node_y(node))}" stroke="{colour}" '
                       f'stroke-width="{2 if stale or current else 1}" stroke-opacity="0.7"/>')
    return out


def _legend(layout: _Layout) -> list[str]:
    out = []
    x = layout.left
    y = layout.height - 4
    for label, colour in LEGEND:
        out.append(f'<rect x="{num(x)}" y="{num(y - 9)}" width="12" height="9" fill="{colour}"/>')
        out.append(f'<text x="{num(x + 16)}" y="{num(y)}" fill="{INK}" font-size="10">'
                   f"{escape(label)}</text>")
        x += 24 + 6.2 * len(label)
    return out


def _axis(layout: _Layout) -> list[str]:
    y = layout.height - 34
    out = [f'<line x1="{num(layout.left)}" x2="{num(layout.width - layout.right)}" '
           f'y1="{num(y)}" y2="{num(y)}" stroke="{GREY}"/>']
    span_ms = layout.end_us / 1000
    step = max(1.0, nice_step(span_ms / 10))
    for tick in ticks(0.0, span_ms, step, slack=0.0):
        x = layout.x(tick * 1000)
        out.append(f'<line x1="{num(x)}" x2="{num(x)}" y1="{num(y)}" y2="{num(y + 4)}" '
                   f'stroke="{GREY}"/>')
        out.append(f'<text x="{num(x)}" y="{num(y + 16)}" text-anchor="middle" fill="{MUTED}" '
                   f'font-size="10">{num(tick)} ms</text>')
    return out
