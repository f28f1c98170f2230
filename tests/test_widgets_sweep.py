"""The sweep chart: one simulated race per number of writers, per mode."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from statelab.sim.race import Race
from statelab.widgets.sweep import SweepChart


def test_sweep_chart() -> None:
    race = Race(writers=1, increments=8, mode="first-write", seed=0)
    chart = SweepChart(race, writers=(4, 1, 2, 8), budget=16)
    assert [p.writers for p in chart.points] == [1, 2, 4, 8]
    assert [p.increments for p in chart.points] == [8, 8, 4, 2]
    assert chart.points[0].retries_per_success == 0
    assert chart.points[-1].retries_per_success > chart.points[1].retries_per_success
    assert "16 / writers" in chart.caption()
    ET.fromstring(chart.svg())
    assert chart.value == chart.summary_html()
    again = SweepChart(race, writers=(1, 2, 4, 8), budget=16)
    assert repr(again) == repr(chart)
    assert again._repr_mimebundle_()["text/html"] == chart._repr_mimebundle_()["text/html"]
    assert "retries/ok" in repr(chart).splitlines()[1]
    with pytest.raises(ValueError):
        SweepChart(race, writers=(0,))


def test_sweep_chart_compares_modes() -> None:
    chart = SweepChart(Race(increments=4, seed=1), writers=(1, 4),
                       modes=("last-write", "first-write"))
    by_mode = {(p.mode, p.writers): p for p in chart.points}
    assert by_mode[("last-write", 4)].lost_percent > 0
    assert by_mode[("first-write", 4)].lost_percent == 0
    assert by_mode[("last-write", 4)].kept_per_s < by_mode[("last-write", 4)].throughput_per_s
    assert "last-write" in chart.svg() and "first-write" in chart.svg()

