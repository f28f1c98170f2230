"""Notebook 06's exercises: read your own writes, take ETags from the primary."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.consistency"
IDS = ["read-your-writes", "fresh-etags"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"06-choose-consistency"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


REPLICATED = "/v1.0/state/replicated"


def eventual_save_then_read(client: Any, key: str, value: Any) -> Any:
    client.post(REPLICATED, json=[{"key": key, "value": value}])
    reply = client.get(f"{REPLICATED}/{key}")  # no consistency: a replica answers
    return reply.json() if reply.status_code == 200 else None


def eventual_decrement(client: Any, key: str) -> None:
    while True:
        reply = client.get(f"{REPLICATED}/{key}")
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
            "options": {"concurrency": "first-write"}}])
        if saved.status_code == 204:
            return


def blind_decrement(client: Any, key: str) -> None:
    reply = client.get(f"{REPLICATED}/{key}", params={"consistency": "strong"})
    client.post(REPLICATED, json=[{"key": key, "value": reply.json() - 2}])


def test_an_eventual_read_misses_the_write() -> None:
    check_fails("read-your-writes", eventual_save_then_read,
                "case 0: you saved 'draft' and read back None: a replica had not received "
                "your write yet")


@pytest.mark.parametrize(("answer", "sentence"), [
    (eventual_decrement, "did it call .json() on a 204 answer?"),
    (blind_decrement, "three decrements from 7 should leave 4, the primary holds 1"),
])
def test_fresh_etags_failures(answer: Any, sentence: str) -> None:
    check_fails("fresh-etags", answer, sentence)

