"""The sweep drawing: three panels, one series per mode, tooltips on every point."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from statelab.render.palette import BLUE, RED
from statelab.render.sweep import SERIES_COLOURS, SweepPoint, render_sweep

SVG = "{http://www.w3.org/2000/svg}"


def point(mode: str, writers: int, lost: float) -> SweepPoint:
    return SweepPoint(mode=mode, writers=writers, increments=4, operations=8 * writers,
                      retries_per_success=writers / 2, throughput_per_s=1000.0 * writers,
                      kept_per_s=900.0 * writers, lost_percent=lost, final=4, expected=4)


def test_panels_series_and_tooltips() -> None:
    points = [point(mode, n, lost) for mode, lost in (("first-write", 0.0), ("last-write", 25.0))
              for n in (1, 2, 4)]
    svg = render_sweep(points, (1, 2, 4), ("first-write", "last-write"), width=900)
    root = ET.fromstring(svg)
    assert root.get("width") == "900"
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert {"retries per success", "increments lost (%)", "first-write", "last-write"} <= \
        set(words)
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert len(titles) == len(points) * 4  # retries, acknowledged, kept, lost
    assert "last-write, 4 writers x 4 increments: 25 " in "\n".join(titles) + " "
    assert SERIES_COLOURS["first-write"] == BLUE and SERIES_COLOURS["last-write"] == RED
    assert render_sweep(points, (1, 2, 4), ("first-write", "last-write"), width=900) == svg


def test_nothing_lost_still_draws_an_axis() -> None:
    svg = render_sweep([point("first-write", 1, 0.0)], (1,), ("first-write",))
    ET.fromstring(svg)
    assert ">1.0</text>" in svg  # a 0..1 axis when every value is 0
