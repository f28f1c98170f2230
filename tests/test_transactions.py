"""Notebook 07's exercises: an atomic, retried transfer; what a failed Redis transaction
changes."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.transactions"
IDS = ["transfer", "partial-transaction"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"07-group-writes"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


def two_saves(client: Any, store: str, source: str, target: str, amount: int) -> None:
    a = client.get(f"/v1.0/state/{store}/{source}").json()
    b = client.get(f"/v1.0/state/{store}/{target}").json()
    client.post(f"/v1.0/state/{store}", json=[{"key": source, "value": a - amount},
                                              {"key": target, "value": b + amount}])


def transaction_without_retry(client: Any, store: str, source: str, target: str,
                              amount: int) -> None:
    a = client.get(f"/v1.0/state/{store}/{source}")
    b = client.get(f"/v1.0/state/{store}/{target}")
    client.post(f"/v1.0/state/{store}/transaction", json={"operations": [
        {"operation": "upsert", "request": {"key": source, "value": a.json() - amount,
                                            "etag": a.headers["etag"]}},
        {"operation": "upsert", "request": {"key": target, "value": b.json() + amount,
                                            "etag": b.headers["etag"]}}]})


@pytest.mark.parametrize(("answer", "sentence"), [
    (two_saves, "move the money with one POST to .../transaction"),
    (transaction_without_retry, "schedule 3: another writer added 1 to alice meanwhile; "
     "expected alice=71, bob=80, got alice=101, bob=50"),
])
def test_transfer_failures(answer: Any, sentence: str) -> None:
    check_fails("transfer", answer, sentence)


def test_a_wrong_prediction_quotes_the_transaction_and_its_status() -> None:
    check_fails("partial-transaction", lambda operations, versions: set(),
                "case 0: versions {'b': 3, 'd': 2}, upserts with etags [('b', '4'), "
                "('d', '2')] (status 500): Redis changed ['d'], you said []")

