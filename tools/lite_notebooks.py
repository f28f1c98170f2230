"""The browser edition of the notebooks: the same cells, one line added to each SDK cell.

``make lite`` (``tools/build_lite.py``) writes every notebook through :func:`prepare_notebook`
and adds :func:`package_files` (the SDK cells' recorded outputs) to the statelab wheel it
ships. This runs in the build venv, which has the standard library and the Jupyter build tools
but not statelab's dependencies: only :mod:`statelab.local_only` (standard library) is used.

A code cell tagged ``local-only`` in ``notebooks/`` uses the Dapr Python SDK, whose grpcio
cannot run in Pyodide; in the browser edition it starts with ``%%local_only`` (see
:mod:`statelab.local_only`) and keeps its stored outputs, and a note after the title says
why. Nothing else changes: the rest is the code the local edition runs and nbval checks.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # statelab, from this checkout

from statelab.local_only import RECORDINGS, cell_key  # noqa: E402 - needs the path above

__all__ = ["LOCAL_ONLY_TAG", "MAGIC_LINE", "NOTE_ID", "package_files", "prepare_notebook",
           "recordings"]

LOCAL_ONLY_TAG = "local-only"
MAGIC_LINE = "%%local_only  # the Dapr SDK talks gRPC, which cannot run in a browser tab\n"
NOTE_ID = "browser-edition-note"
NOTE = """\
**Browser edition.** This notebook runs in your browser (JupyterLite on Pyodide): no server, \
no install, nothing leaves this tab. `statelab.start()` serves the sidecar inside the tab at \
the usual URL, and `httpx` reaches it there, so the code is the code of the local edition. \
One difference: the Dapr Python SDK talks gRPC, which cannot run in a browser, so its cells \
start with `%%local_only` and show what they printed on a real sidecar. Run them for real \
with `make lab` or on Binder. Your exercise progress is kept in this browser \
(`statelab-progress.json` in the file browser)."""


def _is_local_only(cell: dict[str, Any]) -> bool:
    return cell["cell_type"] == "code" and LOCAL_ONLY_TAG in cell["metadata"].get("tags", [])


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else str(source)


def prepare_notebook(path: Path) -> dict[str, Any]:
    """The browser edition of the notebook at *path* (the file is not changed)."""
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    edition = copy.deepcopy(notebook)
    for cell in edition["cells"]:
        if _is_local_only(cell):
            cell["source"] = MAGIC_LINE + _source(cell)
    title = next((i for i, cell in enumerate(edition["cells"])
                  if cell["cell_type"] == "markdown"), -1)
    edition["cells"].insert(title + 1, {"cell_type": "markdown", "id": NOTE_ID,
                                        "metadata": {}, "source": NOTE})
    return edition


def recordings(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """``{cell_key: outputs}`` of every local-only cell: what ``%%local_only`` shows in a tab."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if _is_local_only(cell):
                found[cell_key(_source(cell))] = [
                    {name: value for name, value in output.items() if name != "execution_count"}
                    for output in cell.get("outputs", [])]
    return found


def package_files(notebooks: list[Path]) -> dict[str, str]:
    """Files to add to the statelab package in the site's wheel: ``{path under statelab/:
    text}``; the recordings, as pyproject.toml's package data names them."""
    return {RECORDINGS: json.dumps(recordings(notebooks), indent=1, sort_keys=True)}
