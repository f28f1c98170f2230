"""Notebook 04's exercises: update with the current ETag; create a key only if absent."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.etags"
IDS = ["update-if-unchanged", "create-if-absent"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"04-use-etags"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k, v, e: True, "it returned True but the stored profile did not change"),
    (lambda c, k, v, e: False, "with the current ETag the update should succeed"),
    (lambda c, k, v, e: c.post(STATE, json=[{"key": k, "value": v, "etag": e}]).status_code
     == 204, "send options {'concurrency': 'first-write'} so the intent is explicit"),
    (lambda c, k, v, e: (c.post(STATE, json=[{"key": k, "value": v}]), True)[1],
     "with a stale ETag Dapr answers 409 Conflict: return False"),
])
def test_update_if_unchanged_failures(answer: Any, sentence: str) -> None:
    check_fails("update-if-unchanged", answer, sentence)


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k, v: c.post(STATE, json=[{
        "key": k, "value": v, "options": {"concurrency": "first-write"}}]).status_code == 204,
     "seat-2 was created by a plain save (no first-write flag); your save overwrote it"),
    (lambda c, k, v: True, "it returned True but seat-1 does not hold 'Ada'"),
    (lambda c, k, v: (c.post(STATE, json=[{"key": k, "value": v}]), True)[1],
     "seat-1 already exists: return False and leave it alone"),
])
def test_create_if_absent_failures(answer: Any, sentence: str) -> None:
    check_fails("create-if-absent", answer, sentence)

