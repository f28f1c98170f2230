"""Exercises: reference solutions pass, wrong answers are explained, progress is kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import statelab
from statelab.exercises.framework import exercise, exercises, progress, restore_progress


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


@pytest.mark.parametrize("exercise_id", [e.id for e in exercises()])
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message
    assert exercise_id in progress().completed


def test_at_least_two_exercises_per_notebook_from_notebook_2() -> None:
    per_notebook: dict[str, int] = {}
    for item in exercises():
        per_notebook[item.notebook] = per_notebook.get(item.notebook, 0) + 1
    assert sorted(per_notebook) == ["02-save-read-delete", "03-lose-an-update", "04-use-etags",
                                    "05-retry-on-conflict", "06-choose-consistency",
                                    "07-group-writes", "08-move-to-real-dapr"]
    assert min(per_notebook.values()) >= 2


def naive_increment(client: Any, key: str) -> None:
    reply = client.get(f"/v1.0/state/statestore/{key}")
    client.post("/v1.0/state/statestore", json=[{"key": key, "value": reply.json() + 1}])


def no_retry_increment(client: Any, key: str) -> None:
    reply = client.get(f"/v1.0/state/statestore/{key}")
    client.post("/v1.0/state/statestore", json=[{
        "key": key, "value": reply.json() + 1, "etag": reply.headers["etag"],
        "options": {"concurrency": "first-write"}}])


def eventual_save_then_read(client: Any, key: str, value: Any) -> Any:
    client.post("/v1.0/state/replicated", json=[{"key": key, "value": value}])
    reply = client.get(f"/v1.0/state/replicated/{key}")  # no consistency: a replica answers
    return reply.json() if reply.status_code == 200 else None


def endless(client: Any, key: str) -> None:
    while True:
        client.get(f"/v1.0/state/statestore/{key}")


@pytest.mark.parametrize(("exercise_id", "answer", "sentence"), [
    ("increment-with-retry", naive_increment, "an update was lost"),
    ("increment-with-retry", no_retry_increment, "an update was lost"),
    ("increment-with-retry", endless, "more than 60 requests"),
    ("read-or-default", lambda c, k: c.get(f"/v1.0/state/statestore/{k}").json(),
     "did it call .json() on a 204 answer?"),
    ("predict-lost-update", lambda s: False,
     "for (0, 1, 0, 1) (A reads, B reads, A writes, B writes) you said False"),
    ("backoff-delays", lambda failures, rng: 10 * 2 ** failures, "hardly vary"),
    ("create-if-absent",
     lambda c, k, v: c.post("/v1.0/state/statestore", json=[{
         "key": k, "value": v, "options": {"concurrency": "first-write"}}]).status_code == 204,
     "seat-2 was created by a plain save"),
    ("read-your-writes", eventual_save_then_read, "a replica had not received your write yet"),
    ("save-and-read",
     lambda c, i, o: (c.post("/v1.0/state/statestore", json=[{"key": f"order-{i}", "value": o}]),
                      c.get(f"/v1.0/state/statestore/order-{i}").json())[1],
     "a key with a slash must travel as %2F"),
])
def test_wrong_answers_are_explained(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message
    assert repr(result).startswith(f"NOT YET [{exercise_id}] ")
    assert exercise_id not in progress().completed


def test_hints_get_stronger_then_stay_on_the_last() -> None:
    item = exercise("increment-with-retry")
    texts = [item.hint() for _ in range(len(item.hints) + 2)]
    assert [h.number for h in texts] == [1, 2, 3, 3, 3]
    assert texts[0].text == item.hints[0] and texts[-1].text == item.hints[-1]
    assert repr(texts[0]).startswith("Hint 1 of 3 [increment-with-retry]: ")
    item.reset()
    assert item.hint().number == 1


def test_solution_outside_jupyter_returns_the_code() -> None:
    code = exercise("backoff-delays").solution()
    assert code.startswith("def backoff_ms(failures, rng):")


def test_unknown_exercise() -> None:
    with pytest.raises(KeyError, match="no exercise 'nope'; known exercises: save-and-read"):
        exercise("nope")


def test_progress_checklist_and_download(progress_file: Path) -> None:
    first = exercise("backoff-delays")
    first.check(first.reference())
    listing = repr(statelab.progress())
    assert listing.splitlines()[0] == "statelab progress: 1 of 14 exercises done"
    assert "    [x] backoff-delays: Exponential backoff with full jitter" in listing
    assert "    [ ] transfer: Move money between two keys atomically" in listing
    html = statelab.progress()._repr_html_()
    assert 'download="statelab-progress.json"' in html and "data:application/json;base64," in html
    saved = json.loads(progress_file.read_text())
    assert saved["completed"] == ["backoff-delays"]


def test_restore_progress_merges_a_download() -> None:
    restored = restore_progress('{"completed": ["transfer", "not-an-exercise"]}')
    assert restored.completed == ["transfer"]


def test_task_reprs() -> None:
    item = exercise("transfer")
    assert repr(item).startswith("Exercise transfer (07-group-writes): Move money")
    assert item._repr_markdown_().startswith("**Exercise `transfer`: Move money")


def test_a_corrupt_progress_file_is_ignored(progress_file: Path) -> None:
    progress_file.write_text("not json")
    assert progress().completed == []
