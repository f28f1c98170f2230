"""The timeline legend, alone (a comparison shows one above several timelines)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from statelab.render.legend import LEGEND, legend_rows, legend_svg


def test_legend_alone() -> None:
    root = ET.fromstring(legend_svg(480))
    words = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "409 conflict" in words and "timed out (indeterminate)" in words


def test_legend_wraps_within_the_width() -> None:
    narrow, wide = legend_rows(70, 480), legend_rows(70, 2000)
    assert len(narrow) == len(wide) == len(LEGEND)
    assert max(row for row, _, _ in narrow) > 0 == max(row for row, _, _ in wide)
    assert all(x < 480 for _, x, _ in narrow)
