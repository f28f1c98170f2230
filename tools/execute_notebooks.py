"""Re-execute notebooks in place, reproducibly (``make notebooks``).

Outputs are stored so GitHub, nbviewer and a fresh Binder show them, and nbval compares them.
Timing metadata is not recorded and execution counts restart at 1, so running this twice in a
row produces identical files. Two more things keep files stable and useful:

* widget views are stored without their ``application/vnd.jupyter.widget-view+json`` part (a
  random model id that points at state we do not keep: JupyterLab would show "model not found"
  before the cell is run); their ``text/plain`` and ``text/html`` stay, so the stored notebook
  shows the summary and the SVG until the learner runs the cell and gets the live widget;
* cells tagged ``nbval-ignore-output`` (live races on real threads, nondeterministic by nature)
  keep the outputs already stored, when there are some.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    kept: dict[int, list] = {}
    for number, cell in enumerate(notebook.cells):
        cell.metadata.pop("execution", None)
        if "nbval-ignore-output" in cell.metadata.get("tags", []) and cell.get("outputs"):
            kept[number] = cell.outputs
    # coalesce_streams: a cell's prints are stored as one output, however the kernel happened
    # to flush them (nbval merges them the same way before comparing).
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                            coalesce_streams=True,
                            resources={"metadata": {"path": str(path.parent)}})
    # Exercise progress (hint counters, completed checks) goes to a scratch file, so stored
    # outputs such as "Hint 1 of 3" never depend on the learner's ~/.statelab/progress.json.
    previous = os.environ.get("STATELAB_PROGRESS_FILE")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["STATELAB_PROGRESS_FILE"] = str(Path(scratch) / "progress.json")
        try:
            client.execute()
        finally:
            if previous is None:
                os.environ.pop("STATELAB_PROGRESS_FILE", None)
            else:
                os.environ["STATELAB_PROGRESS_FILE"] = previous
    notebook.metadata.pop("widgets", None)  # widget state is regenerated on every run
    for number, cell in enumerate(notebook.cells):
        if number in kept:
            cell.outputs = kept[number]
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.write(notebook, path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    for path in paths:
        print(f"executing {path.relative_to(ROOT) if path.is_absolute() else path}")
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
