"""A race's outcome in words, for the boards' text and HTML (the picture's companion).

The race board and the comparison view say the same things about a run (final value, lost
updates, conflicts, retries, throughput, latency), so they say it with these two functions.
"""

from __future__ import annotations

from html import escape

from statelab.analysis.races import RaceReport
from statelab.render.palette import CRIMSON, GREEN, MUTED

__all__ = ["MAX_SENTENCES", "report_lines", "stats_html"]

MAX_SENTENCES = 3  # anomaly sentences in the text summaries (the rest are counted)


def report_lines(report: RaceReport, limit: int = MAX_SENTENCES) -> list[str]:
    """The report's lines with at most *limit* lost-update sentences."""
    lines = report.lines()
    head = lines[: len(lines) - len(report.anomalies)]
    shown = report.anomalies[:limit]
    more = len(report.anomalies) - len(shown)
    return head + shown + ([f"... and {more} more lost update(s)"] if more else [])


def stats_html(report: RaceReport, limit: int = 5) -> str:
    """A small table of the outcome, then the lost updates (or that there are none)."""
    ok = report.final_total == report.expected
    colour = GREEN if ok else CRIMSON
    rows = [
        ("final value", f'<b style="color:{colour}">{report.final_total}</b> '
                        f"(expected {report.expected})"),
        ("lost updates", f"{len(report.anomalies)} write(s) erased {report.erased} "
                         f"increment(s); {report.lost} missing from the final value"),
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
        parts.append(f'<ol style="margin:4px 0;color:{CRIMSON};font-size:13px">{items}{tail}</ol>')
    elif report.successes:
        parts.append(f'<p style="margin:4px 0;color:{GREEN};font-size:13px">'
                     'no lost update: every acknowledged increment is in the final value</p>')
    return "".join(parts)
