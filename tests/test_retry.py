"""Notebook 05's exercises: an increment that retries on conflict; backoff with jitter."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.retry"
IDS = ["increment-with-retry", "backoff-delays"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"05-retry-on-conflict"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"


def naive_increment(client: Any, key: str) -> None:
    reply = client.get(f"{STATE}/{key}")
    client.post(STATE, json=[{"key": key, "value": reply.json() + 1}])


def no_retry_increment(client: Any, key: str) -> None:
    reply = client.get(f"{STATE}/{key}")
    client.post(STATE, json=[{
        "key": key, "value": reply.json() + 1, "etag": reply.headers["etag"],
        "options": {"concurrency": "first-write"}}])


def twice(client: Any, key: str) -> None:
    exercise("increment-with-retry").reference()(client, key)
    exercise("increment-with-retry").reference()(client, key)


def endless(client: Any, key: str) -> None:
    while True:
        client.get(f"{STATE}/{key}")


@pytest.mark.parametrize(("answer", "sentence"), [
    (naive_increment, "schedule 0: another writer incremented the counter right after your "
     "request 1 (GET); the counter ends at 11, expected 12: an update was lost"),
    (no_retry_increment, "an update was lost"),
    (twice, "the counter ends at 15, expected 14: you added more than one"),
    (endless, "your function sent more than 60 requests; does a loop ever end?"),
])
def test_increment_failures(answer: Any, sentence: str) -> None:
    check_fails("increment-with-retry", answer, sentence)


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda failures, rng: 10 * 2 ** failures, "hardly vary"),
    (lambda failures, rng: "x", "backoff_ms must return a number of milliseconds"),
    (lambda failures, rng: -1, "after 0 failure(s) delays must lie in [0, 10] ms"),
    (lambda failures, rng: rng.random() * 5, "delays should reach close to 10 ms"),
])
def test_backoff_failures(answer: Any, sentence: str) -> None:
    check_fails("backoff-delays", answer, sentence)

