"""Notebook 01's opening picture (render/architecture.py): valid SVG, every label, same bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from IPython.core.formatters import format_display_data

from statelab.render.architecture import (
    GRPC_PORT,
    HTTP_PORT,
    LABELS,
    WIDTH,
    architecture_svg,
    diagram,
)
from statelab.render.svg import CHAR_W, SVG_NS

TEXT = f"{{{SVG_NS}}}text"


def test_the_svg_parses_and_shows_every_label() -> None:
    root = ET.fromstring(architecture_svg())
    assert root.tag == f"{{{SVG_NS}}}svg"
    words = [t.text for t in root.iter(TEXT)]
    assert words == list(LABELS)
    for needed in ("your app", "Dapr sidecar", "Redis", "the state store", "component",
                   "statestore (state.redis)", f"HTTP :{HTTP_PORT}", f"gRPC :{GRPC_PORT}"):
        assert needed in words
    assert (HTTP_PORT, GRPC_PORT) == (3500, 50001)  # daprd's defaults, what the notebook says


def test_labels_stay_inside_the_picture() -> None:
    root = ET.fromstring(architecture_svg())
    for text in root.iter(TEXT):
        x, size = float(text.attrib["x"]), float(text.attrib["font-size"])
        assert text.text is not None
        half = 0 if text.attrib["text-anchor"] == "start" else len(text.text) * size * CHAR_W / 2
        width = len(text.text) * size * CHAR_W
        assert x - half >= 0 and x - half + width <= WIDTH, text.text


def test_it_is_deterministic_and_carries_no_ids() -> None:
    assert architecture_svg() == architecture_svg()
    assert diagram() == diagram()
    assert " id=" not in architecture_svg()


def test_a_notebook_cell_shows_svg_and_text_but_no_html() -> None:
    # no text/html: an untrusted notebook's sanitizer would strip the <svg> and show the labels
    # run together; without it JupyterLab shows the text until the cell runs, then the SVG
    data, _ = format_display_data(diagram())
    assert set(data) == {"text/plain", "image/svg+xml"}
    assert data["image/svg+xml"] == architecture_svg()
    text = data["text/plain"]
    assert text.startswith("Dapr state management")
    for needed in (f"HTTP :{HTTP_PORT}", f"gRPC :{GRPC_PORT}", "Dapr sidecar", "statestore",
                   "state.redis", "Redis, the state store", "127.0.0.1"):
        assert needed in text
