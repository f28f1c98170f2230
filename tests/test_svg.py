"""The SVG building blocks every picture shares: one number format, documents, ticks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from statelab.render.svg import (
    CHAR_W,
    clip,
    document,
    fits,
    nice_step,
    num,
    polyline,
    thin,
    ticks,
)


def test_coordinate_format() -> None:
    assert [num(v) for v in (0.0, -0.0, -0.04, 12.0, 12.34, 12.36, 1e-9, 960)] == \
        ["0", "0", "0", "12", "12.3", "12.4", "0", "960"]


def test_document_keeps_the_attribute_order() -> None:
    head = document(300, 120.5, ("font-size", "11"), ("role", "img"))
    assert head == ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="120.5" '
                    'viewBox="0 0 300 120.5" font-size="11" role="img">')
    ET.fromstring(head + "</svg>")


def test_text_fits_in_a_monospaced_width() -> None:
    assert fits("abc", 3 * 10 * CHAR_W + 3, 10)
    assert not fits("abcd", 3 * 10 * CHAR_W + 3, 10)
    assert clip("abcdef", 4 * 10 * CHAR_W, 10) == "abc…"
    assert clip("ab", 4 * 10 * CHAR_W, 10) == "ab"


def test_nice_steps_and_ticks() -> None:
    assert [nice_step(raw) for raw in (0, 0.03, 0.3, 3, 7, 20, 21)] == \
        [1.0, 0.05, 0.5, 5, 10, 20, 50]
    assert nice_step(2.2, (1, 2, 2.5, 5)) == 2.5
    assert ticks(0.0, 1.0, 0.1)[-1] == 1.0  # rounded, so steps never drift past the end
    assert len(ticks(0.0, 1.0, 0.1)) == 11
    assert ticks(0.0, 10.0 - 1e-12, 5, slack=0.0) == [0.0, 5]


def test_step_lines_are_thinned() -> None:
    points = [(0.0, 0.0), (0.01, 0.0), (1.0, 0.0), (1.0, 5.0), (1.0, 9.0), (2.0, 9.0)]
    assert thin(points) == [(0.0, 0.0), (1.0, 0.0), (1.0, 9.0), (2.0, 9.0)]
    assert polyline([(0.0, 0.0), (1.25, 2.0)]) == "0 0L1.2 2"
