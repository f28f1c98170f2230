"""Notebook 05's exercises: an increment that retries on conflict; backoff with jitter."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._state import Concurrency, StateOptions

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.retry"
IDS = ["increment-with-retry", "backoff-delays", "sdk-increment-with-retry"]


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


# -- the same increment with the official SDK: wrong answers fail, other right answers pass --

SDK = "sdk-increment-with-retry"
FIRST_WRITE = StateOptions(concurrency=Concurrency.first_write)


def sdk_without_etag(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    client.save_state("statestore", key, str(int(state.data) + 1))


def sdk_swallowing_every_error(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    try:
        client.save_state("statestore", key, str(int(state.data) + 1), etag=state.etag,
                          options=FIRST_WRITE)
    except Exception:  # noqa: BLE001, S110 - the mistake under test
        pass


def sdk_retrying_without_reading_again(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    while True:
        try:
            client.save_state("statestore", key, str(int(state.data) + 1), etag=state.etag,
                              options=FIRST_WRITE)
            return
        except DaprGrpcError:
            continue


def sdk_fresh_etag_stale_value(client: Any, key: str) -> None:
    first = int(client.get_state("statestore", key).data)
    while True:
        state = client.get_state("statestore", key)
        try:
            client.save_state("statestore", key, str(first + 1), etag=state.etag,
                              options=FIRST_WRITE)
            return
        except DaprGrpcError:
            continue


def sdk_check_then_act(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    if client.get_state("statestore", key).etag == state.etag:  # "nobody wrote": too late
        client.save_state("statestore", key, str(int(state.data) + 1))


@pytest.mark.parametrize(("answer", "sentence"), [
    (sdk_without_etag, "schedule 1: your function raised DaprGrpcError INTERNAL: failed "
                       "saving state in state store statestore: failed to set key myapp||hits"),
    (sdk_swallowing_every_error, "2 SaveState(hits, stale etag '1') -> ABORTED. The counter holds "
                                 "11, expected 12: your function returned without saving its "
                                 "increment."),
    (sdk_retrying_without_reading_again, "your function sent more than 60 requests; does a "
                                         "loop ever end? Your calls and Dapr's answers: 1 "
                                         "GetState(hits) -> OK; 2-60 SaveState(hits, stale etag '1') "
                                         "-> ABORTED (59 times)."),
    (sdk_fresh_etag_stale_value, "an increment was lost"),
    (sdk_check_then_act, "2 GetState(hits) -> OK. The counter holds 11, expected 12: your "
                         "function returned without saving its increment."),
])
def test_sdk_increment_failures(answer: Any, sentence: str) -> None:
    check_fails(SDK, answer, sentence)


def sdk_capped_json_default_concurrency(client: Any, key: str) -> None:
    """A for loop with a cap, JSON both ways, and no options: on Redis an ETag is checked
    with the default concurrency too."""
    for _ in range(20):
        state = client.get_state("statestore", key)
        try:
            client.save_state("statestore", key, json.dumps(state.json() + 1), etag=state.etag)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.ABORTED:
                continue
            raise
        return
    raise RuntimeError("gave up after 20 conflicts")


def sdk_bulk_read_and_error_code(client: Any, key: str) -> None:
    """Reads with get_bulk_state and tells a conflict by its Dapr error code."""
    while True:
        (item,) = client.get_bulk_state("statestore", [key]).items
        try:
            client.save_state("statestore", key, str(int(item.data) + 1).encode(),
                              etag=item.etag, options=FIRST_WRITE)
            break
        except DaprGrpcError as error:
            if error.error_code() != "ERR_STATE_SAVE":
                raise


@pytest.mark.parametrize("answer", [sdk_capped_json_default_concurrency,
                                    sdk_bulk_read_and_error_code])
def test_sdk_increment_other_right_answers_pass(answer: Any) -> None:
    result = exercise(SDK).check(answer)
    assert result.passed, result.message
