"""The course's opening picture: your app, its Dapr sidecar, and the state store behind it.

A learner who has never heard of Dapr needs one picture before the first request: the app talks
only to its sidecar (HTTP on port 3500, gRPC on port 50001 for the Python SDK), and the sidecar
reaches the state store (Redis) through a component. It is drawn here, in code, rather than
stored as an image, so it uses the same font, palette and number format as every other
statelab picture and its bytes never change (nbval compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from statelab.render.palette import BAND, BAND_DARK, INK, LANE, MUTED, SLATE, WHITE
from statelab.render.svg import FONT, document, num

__all__ = ["ArchitectureDiagram", "GRPC_PORT", "HTTP_PORT", "LABELS", "architecture_svg", "diagram"]

HTTP_PORT = 3500  # daprd's default HTTP port (dapr run --dapr-http-port)
GRPC_PORT = 50001  # daprd's default gRPC port, where Dapr's Python SDK connects

WIDTH, HEIGHT = 800, 222
#: Every word the picture shows, in drawing order (the tests check that each one is drawn).
LABELS = ("on one machine: 127.0.0.1", "your app", "this notebook", "httpx",
          "Python SDK (DaprClient)", f"HTTP :{HTTP_PORT}", f"gRPC :{GRPC_PORT}", "Dapr sidecar",
          "daprd (here: statelab)", "state API", "component", "statestore (state.redis)",
          "Redis protocol", "Redis", "the state store", "myapp||order-1", "data, version")

_DESCRIPTION = (
    "Dapr state management, as this course uses it:\n"
    f"  your app (httpx)       --HTTP :{HTTP_PORT}-->   Dapr sidecar (daprd; here: statelab)\n"
    f"  your app (Python SDK)  --gRPC :{GRPC_PORT}-->  Dapr sidecar\n"
    "  Dapr sidecar --component statestore (state.redis)--> Redis, the state store\n"
    "The app and its sidecar run side by side on 127.0.0.1; the app never talks to Redis."
)


def _text(x: float, y: float, text: str, *, size: float = 11, colour: str = INK,
          bold: bool = False, anchor: str = "middle") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}" fill="{colour}" '
            f'text-anchor="{anchor}"{weight}>{escape(text, quote=False)}</text>')


def _box(x: float, y: float, w: float, h: float, fill: str, *, stroke: str = SLATE,
         dashed: bool = False) -> str:
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    return (f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="6" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"{dash}/>')


def _arrow(x1: float, x2: float, y: float, label: str, label_x: float | None = None) -> str:
    """A horizontal two-headed arrow (a request goes right, its answer comes back), labelled
    above its middle or at *label_x*."""
    head = 7.0
    line = (f'<path d="M{num(x1 + head)} {num(y)}H{num(x2 - head)}" stroke="{SLATE}" '
            f'stroke-width="1.6"/>')
    heads = (f'<path d="M{num(x2)} {num(y)}L{num(x2 - head)} {num(y - 4)}V{num(y + 4)}Z'
             f'M{num(x1)} {num(y)}L{num(x1 + head)} {num(y - 4)}V{num(y + 4)}Z" fill="{SLATE}"/>')
    middle = (x1 + x2) / 2 if label_x is None else label_x
    return line + heads + _text(middle, y - 6, label, size=10.5)


def architecture_svg() -> str:
    """The picture as an SVG document: the same bytes on every call."""
    parts = [document(WIDTH, HEIGHT, ("font-family", FONT), ("style", "display:block"),
                      ("role", "img"), ("aria-label", _DESCRIPTION.splitlines()[0])),
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{WHITE}"/>',
             # The app and its sidecar share a machine (a pod, on Kubernetes): that is the "side".
             _box(4, 6, 536, 206, WHITE, stroke=MUTED, dashed=True),
             _text(14, 22, LABELS[0], size=10, colour=MUTED, anchor="start"),
             # your app, with its two clients
             _box(16, 32, 190, 168, LANE),
             _text(111, 52, LABELS[1], size=12, bold=True),
             _text(111, 67, LABELS[2], size=10, colour=MUTED),
             _box(28, 84, 166, 32, WHITE),
             _text(111, 104, LABELS[3]),
             _box(28, 140, 166, 32, WHITE),
             _text(111, 160, LABELS[4]),
             _arrow(194, 328, 100, LABELS[5]),
             _arrow(194, 328, 156, LABELS[6]),
             # the sidecar, with the component that names the store
             _box(328, 32, 200, 168, BAND),
             _text(428, 52, LABELS[7], size=12, bold=True),
             _text(428, 67, LABELS[8], size=10, colour=MUTED),
             _text(428, 104, LABELS[9]),
             _box(340, 132, 176, 48, BAND_DARK),
             _text(428, 150, LABELS[10], size=10, colour=MUTED),
             _text(428, 168, LABELS[11]),
             _arrow(516, 650, 156, LABELS[12], label_x=595),  # clear of the dashed line
             # the state store
             _box(650, 32, 144, 168, LANE),
             _text(722, 52, LABELS[13], size=12, bold=True),
             _text(722, 67, LABELS[14], size=10, colour=MUTED),
             _box(662, 132, 120, 48, WHITE),
             _text(722, 150, LABELS[15], size=10.5),
             _text(722, 168, LABELS[16], size=10, colour=MUTED),
             "</svg>"]
    return "".join(parts)


@dataclass(frozen=True)
class ArchitectureDiagram:
    """The picture for a notebook cell: SVG for the eye, the same facts as text.

    There is deliberately no HTML view. JupyterLab shows the stored outputs of a notebook it
    does not trust yet (every notebook freshly opened on Binder) through its sanitizer, which
    strips ``<svg>`` out of HTML and leaves the labels run together; an ``image/svg+xml``
    output is instead skipped until the cell runs, and the text view below is shown. The text
    is also what nbval, a terminal and a screen reader get. Neither view holds an id, a clock
    or an address, so stored outputs compare equal run after run.
    """

    svg: str
    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_svg_(self) -> str:
        return self.svg


def diagram() -> ArchitectureDiagram:
    """App, sidecar and state store, with the ports and the component between them."""
    return ArchitectureDiagram(architecture_svg(), _DESCRIPTION)
