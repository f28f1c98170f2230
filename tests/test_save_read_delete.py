"""Notebook 02's exercises: save and read an order, a missing counter reads as 0."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.save_read_delete"
IDS = ["save-and-read", "read-or-default"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"02-save-read-delete"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"


def test_an_unquoted_slash_is_explained() -> None:
    def unquoted(client: Any, order_id: str, order: Any) -> Any:
        client.post(STATE, json=[{"key": f"order-{order_id}", "value": order}])
        return client.get(f"{STATE}/order-{order_id}").json()

    check_fails("save-and-read", unquoted, "reading 'order-2024/07' answered 404 "
                "ERR_DIRECT_INVOKE: a key with a slash must travel as %2F, so quote it")


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, i, o: None,
     "after save_order(client, '1', ...) nothing is stored under the key 'order-1'"),
    (lambda c, i, o: (c.post(STATE, json=[{"key": f"order-{i}", "value": {"x": 1}}]), o)[1],
     "the key 'order-1' holds {'x': 1}, expected {'item': 'tea', 'qty': 2}"),
    (lambda c, i, o: (c.post(STATE, json=[{"key": f"order-{i}", "value": o}]), 3)[1],
     "save_order returned 3; it should return the value read back from Dapr"),
])
def test_save_and_read_failures(answer: Any, sentence: str) -> None:
    check_fails("save-and-read", answer, sentence)


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k: c.get(f"{STATE}/{k}").json(), "did it call .json() on a 204 answer?"),
    (lambda c, k: 5, "read_counter(client, 'zero') returned 5, expected 0"),
])
def test_read_or_default_failures(answer: Any, sentence: str) -> None:
    check_fails("read-or-default", answer, sentence)

