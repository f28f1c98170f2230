"""The checklist: every exercise and recap by notebook, a download link, restoring a download."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import statelab
from statelab.exercises import exercise, exercises, recap
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
    total = len(exercises())
    assert listing.splitlines()[:6] == [
        f"statelab progress: 1 of {total} exercises and 0 of 8 recaps done",
        "  01-start-the-sidecar",
        "    [ ] recap-01-start-the-sidecar: Recap: 4 questions",
        "  02-save-read-delete",
        "    [ ] save-and-read: Save an order and read it back",
        "    [ ] read-or-default: Read a counter, 0 if missing"]
    assert "    [x] backoff-delays: Exponential backoff with full jitter" in listing
    assert "    [ ] transfer: Move money between two keys atomically" in listing
    html = statelab.progress()._repr_html_()
    assert html.startswith(f"<div><p><b>1 of {total}</b> exercises and <b>0 of 8</b> recaps "
                           "done. ")
    link = html.split('href="data:application/json;base64,', 1)[1].split('"', 1)[0]
    assert json.loads(base64.b64decode(link)) == {"completed": ["backoff-delays"]}
    assert html.count("<ul style='list-style:none'>") == html.count("</ul>") == 8
    assert "<li>&#9745; <code>backoff-delays</code> Exponential backoff" in html
    saved = json.loads(progress_file.read_text())
    assert saved["completed"] == ["backoff-delays"]


def test_rows() -> None:
    rows = progress().rows()
    assert len(rows) == len(exercises())
    assert rows[0] == ("save-and-read", "Save an order and read it back", False)


def test_a_recap_answered_right_is_ticked_after_its_notebook_exercises() -> None:
    quiz = recap("03-lose-an-update")
    quiz.answer([q.right for q in quiz.questions])
    listing = repr(progress()).splitlines()
    assert listing[0].endswith("exercises and 1 of 8 recaps done")
    at = listing.index("  03-lose-an-update")
    assert listing[at + 3] == "    [x] recap-03-lose-an-update: Recap: 4 questions"
    assert progress().recap_rows()[2] == ("recap-03-lose-an-update", "Recap: 4 questions", True)
    assert "<li>&#9745; <code>recap-03-lose-an-update</code>" in progress()._repr_html_()


def test_restore_progress_merges_a_download() -> None:
    restored = restore_progress('{"completed": ["transfer", "not-an-exercise", '
                                '"recap-07-group-writes"]}')
    assert restored.completed == ["recap-07-group-writes", "transfer"]
    assert statelab.exercises.progress().completed == ["recap-07-group-writes", "transfer"]


def test_a_corrupt_progress_file_is_ignored(progress_file: Path) -> None:
    progress_file.write_text("not json")
    assert progress().completed == []
