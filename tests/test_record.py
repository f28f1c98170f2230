"""The progress file: completions and hint counts survive, a broken file never breaks a lesson."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statelab.exercises import record


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "deep" / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


def test_the_environment_names_the_file(progress_file: Path) -> None:
    assert record.progress_path() == progress_file


def test_the_default_file_is_in_the_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATELAB_PROGRESS_FILE")
    assert record.progress_path() == Path.home() / ".statelab" / "progress.json"


def test_completions_are_kept_once_in_order(progress_file: Path) -> None:
    record.mark_completed("b")
    record.mark_completed("a")
    record.mark_completed("b")
    assert record.completed() == ["b", "a"]
    assert progress_file.read_text() == json.dumps(
        {"completed": ["b", "a"]}, indent=1, sort_keys=True) + "\n"


def test_merging_adds_and_sorts() -> None:
    record.mark_completed("c")
    record.merge_completed(["a", "c"])
    assert record.completed() == ["a", "c"]


def test_hint_count_stops_at_the_last_and_can_be_forgotten() -> None:
    record.forget_hints("x")
    assert [record.next_hint("x", 2) for _ in range(4)] == [0, 1, 1, 1]
    record.forget_hints("x")
    assert record.next_hint("x", 2) == 0
    record.forget_hints("x")


def test_hints_live_in_the_kernel_not_in_the_file(progress_file: Path) -> None:
    """Stored notebook outputs ("Hint 1 of 3") never depend on an earlier run's file."""
    progress_file.parent.mkdir()
    progress_file.write_text(json.dumps({"completed": ["a"], "hints": {"y": 2}}))
    record.forget_hints("y")
    assert record.next_hint("y", 3) == 0
    assert json.loads(progress_file.read_text())["hints"] == {"y": 2}  # not touched
    record.mark_completed("b")
    assert json.loads(progress_file.read_text()) == {"completed": ["a", "b"]}
    record.forget_hints("y")


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_a_corrupt_file_reads_as_a_fresh_start(progress_file: Path, content: str) -> None:
    progress_file.parent.mkdir()
    progress_file.write_text(content)
    assert record.completed() == []


def test_an_unwritable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(blocker / "progress.json"))
    record.mark_completed("a")
    assert record.completed() == []
