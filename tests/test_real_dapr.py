"""Notebook 08's exercises: fix the Dapr 1.4 how-to's save and delete."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.real_dapr"
IDS = ["fix-howto-save", "fix-howto-delete"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"08-move-to-real-dapr"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c: c.post(STATE, json=[{"key": "key1", "value": "Some Data"}]),
     "keep the how-to's intent: ask for strong consistency in the item's options"),
    (lambda c: c.post(STATE, json='[{"key": "key1", "value": "Some Data"}]'),
     "after save_state(client), key1 should hold 'Some Data'"),
])
def test_fix_howto_save_failures(answer: Any, sentence: str) -> None:
    check_fails("fix-howto-save", answer, sentence)


def delete_with_header_options(client: Any, key: str) -> None:
    etag = client.get(f"{STATE}/{key}").headers["etag"]
    client.delete(f"{STATE}/{key}", headers={"If-Match": etag, "concurrency": "first-write"})


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k: c.delete(f"{STATE}/{k}"), "send the ETag in an If-Match header"),
    (delete_with_header_options, "?concurrency=first-write (headers named concurrency are "
     "ignored)"),
    (lambda c, k: c.delete(f"{STATE}/{k}", headers={"If-Match": "1"},
                           params={"concurrency": "first-write"}),
     "key1 still exists: the delete did not go through"),
])
def test_fix_howto_delete_failures(answer: Any, sentence: str) -> None:
    check_fails("fix-howto-delete", answer, sentence)

