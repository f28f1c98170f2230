"""The browser edition of the notebooks (tools/lite_notebooks.py): one added line per SDK cell,
the SDK cells' outputs recorded, and nothing else different."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from statelab import local_only
from statelab.local_only import RECORDINGS, cell_key

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _load_tool() -> Any:
    spec = importlib.util.spec_from_file_location("lite_notebooks",
                                                  ROOT / "tools" / "lite_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lite_notebooks"] = module
    spec.loader.exec_module(module)
    return module


edition = _load_tool()


def _source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _code_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_only_sdk_cells_change_and_by_one_line(path: Path) -> None:
    original = json.loads(path.read_text(encoding="utf-8"))
    browser = edition.prepare_notebook(path)
    notes = [cell for cell in browser["cells"] if cell.get("id") == edition.NOTE_ID]
    assert len(notes) == 1 and "%%local_only" in notes[0]["source"]
    cells = [cell for cell in browser["cells"] if cell.get("id") != edition.NOTE_ID]
    assert len(cells) == len(original["cells"])
    for before, after in zip(original["cells"], cells, strict=True):
        if edition.LOCAL_ONLY_TAG in before["metadata"].get("tags", []):
            assert _source(after) == edition.MAGIC_LINE + _source(before)
            assert after["outputs"] == before["outputs"]  # what it printed stays visible
        else:
            assert after == before


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_cell_that_needs_grpc_is_tagged(path: Path) -> None:
    """A cell that imports the SDK or grpc, or uses what only such cells define, cannot run
    in a browser: it must carry the tag (or the browser edition would show an error)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    local, browser = [], []
    for cell in _code_cells(notebook):
        tagged = edition.LOCAL_ONLY_TAG in cell["metadata"].get("tags", [])
        (local if tagged else browser).append(ast.parse(_source(cell)))

    def defined(trees: list[ast.Module]) -> set[str]:
        names = set()
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in node.names)
        return names

    only_local = defined(local) - defined(browser)
    for tree in browser:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert (module or "").split(".")[0] not in ("dapr", "grpc"), ast.unparse(node)
        used = {node.id for node in ast.walk(tree)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        parameters = {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
        assert not (used - parameters) & only_local, ast.unparse(tree)[:200]


def test_the_recordings_are_what_local_only_shows_in_a_tab(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    recorded = edition.recordings(NOTEBOOKS)
    tagged = [cell for path in NOTEBOOKS
              for cell in _code_cells(json.loads(path.read_text(encoding="utf-8")))
              if edition.LOCAL_ONLY_TAG in cell["metadata"].get("tags", [])]
    assert len(recorded) == len(tagged) >= 20
    (tmp_path / RECORDINGS).write_text(json.dumps(recorded))
    monkeypatch.setattr(local_only.resources, "files", lambda package: tmp_path)
    monkeypatch.setattr(local_only, "in_browser", lambda: True)
    first = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    sdk_cell = next(cell for cell in _code_cells(first)
                    if edition.LOCAL_ONLY_TAG in cell["metadata"].get("tags", []))
    assert recorded[cell_key(_source(sdk_cell))] == [
        {k: v for k, v in output.items() if k != "execution_count"}
        for output in sdk_cell["outputs"]]
    local_only.local_only("", _source(sdk_cell))
    printed = capsys.readouterr().out
    assert printed.startswith(local_only.NOTE + " On a real sidecar it printed:\n")
    assert "".join(sdk_cell["outputs"][0]["text"]) in printed


def test_the_wheel_gets_the_recordings_as_package_data() -> None:
    files = edition.package_files(NOTEBOOKS)
    assert list(files) == [RECORDINGS]
    assert json.loads(files[RECORDINGS]) == edition.recordings(NOTEBOOKS)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'statelab = ["{RECORDINGS}"]' in pyproject
