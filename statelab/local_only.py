"""``%%local_only``: a cell that needs what a browser tab lacks, run locally, explained in a tab.

The Dapr Python SDK talks gRPC, and grpcio is native code with threads and sockets: it has no
build for Pyodide, so the course's SDK cells cannot run in JupyterLite. The browser edition of
the notebooks (``make lite``) adds this one line at the top of each of those cells and nothing
else. Where Python runs normally (``make lab``, Binder, a copied notebook) the cell runs as
written; in a browser tab it is not run: the learner reads why, and what the cell printed on a
real sidecar when the site was built (kept in the package, keyed by the cell's code).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

from statelab.runtime import in_browser

__all__ = ["RECORDINGS", "cell_key", "local_only", "recorded_outputs", "register"]

#: The recorded outputs the browser build adds to the package: ``{cell_key: [outputs]}``,
#: each output as nbformat stores it.
RECORDINGS = "recorded_outputs.json"

NOTE = ("Not run in the browser: this cell uses the Dapr Python SDK, which talks gRPC, and "
        "grpcio cannot run in a browser tab. It runs as written with `make lab` or on Binder.")


def cell_key(code: str) -> str:
    """A cell's key among the recordings: the SHA-256 of its code, outer blank lines aside."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def recorded_outputs(code: str) -> list[dict[str, Any]]:
    """What the cell with *code* printed when the site was built (empty if not recorded)."""
    try:
        text = (resources.files("statelab") / RECORDINGS).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return []
    outputs: list[dict[str, Any]] = json.loads(text).get(cell_key(code), [])
    return outputs


def _show(output: dict[str, Any]) -> None:
    from IPython.display import display

    if output.get("output_type") == "stream":
        text = output.get("text", "")
        print("".join(text) if isinstance(text, list) else text, end="")
    elif "data" in output:
        data = {mime: "".join(value) if isinstance(value, list) else value
                for mime, value in output["data"].items()}
        display(data, raw=True)  # type: ignore[no-untyped-call]  # IPython is untyped here


def local_only(line: str, cell: str) -> None:
    """Run *cell* here, unless here is a browser tab: then say why not, and show what it
    printed on a real sidecar."""
    from IPython import get_ipython

    if not in_browser():
        shell = get_ipython()
        if shell is not None:
            shell.run_cell(cell)
        return
    outputs = recorded_outputs(cell)
    print(NOTE + (" On a real sidecar it printed:" if outputs else ""))
    for output in outputs:
        _show(output)


def register(shell: Any) -> None:
    """Make ``%%local_only`` known to an IPython *shell* (``import statelab`` does it)."""
    shell.register_magic_function(local_only, magic_kind="cell", magic_name="local_only")
