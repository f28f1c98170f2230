"""A race's outcome in words: the report's lines, capped, and the stats table."""

from __future__ import annotations

from statelab.analysis.races import analyse
from statelab.render.palette import CRIMSON, GREEN
from statelab.sim.race import Race
from statelab.widgets.race_summary import MAX_SENTENCES, report_lines, stats_html


def test_sentences_are_capped_and_counted() -> None:
    report = analyse(Race(writers=8, increments=20, mode="last-write", seed=0).run())
    assert len(report.anomalies) > MAX_SENTENCES
    lines = report_lines(report)
    assert sum("overwrote version" in line for line in lines) == MAX_SENTENCES
    assert lines[-1] == f"... and {len(report.anomalies) - MAX_SENTENCES} more lost update(s)"
    html = stats_html(report, limit=2)
    assert f'color:{CRIMSON}">{report.final_total}</b>' in html and html.count("<li>") == 3


def test_nothing_lost_says_so() -> None:
    report = analyse(Race(writers=3, increments=2, mode="first-write", seed=1).run())
    assert report_lines(report) == report.lines()
    html = stats_html(report)
    assert f'color:{GREEN}">6</b>' in html and "no lost update" in html
