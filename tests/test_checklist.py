"""The checklist: every exercise by notebook, a download link, and restoring a download."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import statelab
from statelab.exercises import exercise
from statelab.exercises.checklist import progress, restore_progress


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


def test_progress_checklist_and_download(progress_file: Path) -> None:
    first = exercise("backoff-delays")
    first.check(first.reference())
    listing = repr(statelab.progress())
    assert listing.splitlines()[:3] == ["statelab progress: 1 of 16 exercises done",
                                        "  02-save-read-delete",
                                        "    [ ] save-and-read: Save an order and read it back"]
    assert "    [x] backoff-delays: Exponential backoff with full jitter" in listing
    assert "    [ ] transfer: Move money between two keys atomically" in listing
    html = statelab.progress()._repr_html_()
    assert html.startswith("<div><p><b>1 of 16</b> exercises done. ")
    link = html.split('href="data:application/json;base64,', 1)[1].split('"', 1)[0]
    assert json.loads(base64.b64decode(link)) == {"completed": ["backoff-delays"]}
    assert html.count("<ul style='list-style:none'>") == html.count("</ul>") == 7
    assert "<li>&#9745; <code>backoff-delays</code> Exponential backoff" in html
    saved = json.loads(progress_file.read_text())
    assert saved["completed"] == ["backoff-delays"]


def test_rows() -> None:
    rows = progress().rows()
    assert len(rows) == 16 and rows[0] == ("save-and-read", "Save an order and read it back",
                                           False)


def test_restore_progress_merges_a_download() -> None:
    restored = restore_progress('{"completed": ["transfer", "not-an-exercise"]}')
    assert restored.completed == ["transfer"]
    assert statelab.exercises.progress().completed == ["transfer"]


def test_a_corrupt_progress_file_is_ignored(progress_file: Path) -> None:
    progress_file.write_text("not json")
    assert progress().completed == []
