"""Notebook 07's exercises: an atomic, retried transfer; what a failed Redis transaction
changes."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._request import TransactionalStateOperation
from dapr.clients.grpc._state import Concurrency, StateOptions

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.transactions"
IDS = ["transfer", "partial-transaction", "sdk-transfer"]


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


# -- the same transfer with the official SDK: wrong answers fail, other right answers pass --

SDK = "sdk-transfer"


def sdk_transfer_with(etags: set[str], retry: Any = None) -> Any:
    """A transfer in one transaction carrying the ETags of *etags* only, retried while
    ``retry(error)`` says so (never, without it)."""
    def transfer(client: Any, store: str, source: str, target: str, amount: int) -> None:
        while True:
            a, b = client.get_state(store, source), client.get_state(store, target)
            operations = [
                TransactionalStateOperation(key=source, data=str(int(a.data) - amount),
                                            etag=a.etag if source in etags else None),
                TransactionalStateOperation(key=target, data=str(int(b.data) + amount),
                                            etag=b.etag if target in etags else None)]
            try:
                client.execute_state_transaction(store, operations)
                return
            except DaprGrpcError as error:
                if retry is None or not retry(error):
                    raise
    return transfer


def sdk_two_guarded_saves(client: Any, store: str, source: str, target: str,
                          amount: int) -> None:
    """Each save checks its ETag and the whole move is retried: but not atomic."""
    first = StateOptions(concurrency=Concurrency.first_write)
    while True:
        a, b = client.get_state(store, source), client.get_state(store, target)
        try:
            client.save_state(store, source, str(int(a.data) - amount), etag=a.etag,
                              options=first)
            client.save_state(store, target, str(int(b.data) + amount), etag=b.etag,
                              options=first)
            return
        except DaprGrpcError:
            continue


def aborted(error: Any) -> bool:
    return bool(error.code() == grpc.StatusCode.ABORTED)


def any_error(error: Any) -> bool:
    return True


@pytest.mark.parametrize(("answer", "sentence"), [
    (sdk_transfer_with(set(), any_error),
     "schedule 1: another writer added 1 to alice after your call 1. Your calls and Dapr's "
     "answers: 1 GetState(alice) -> OK; 2 GetState(bob) -> OK; 3 ExecuteStateTransaction("
     "upsert alice, upsert bob) -> OK. Now alice=70, bob=80; expected alice=71, bob=80."),
    (sdk_transfer_with({"alice"}, any_error),
     "schedule 4: another writer added 1 to bob after your call 2. Your calls and Dapr's "
     "answers: 1 GetState(alice) -> OK; 2 GetState(bob) -> OK; 3 ExecuteStateTransaction("
     "upsert alice, etag, upsert bob) -> OK. Now alice=70, bob=80; expected alice=70, "
     "bob=81."),
    (sdk_transfer_with({"alice", "bob"}, aborted),
     "schedule 1: your function raised DaprGrpcError INTERNAL: error while executing state "
     "transaction: "),
    (sdk_two_guarded_saves, "Now alice=40, bob=81; expected alice=70, bob=81."),
])
def test_sdk_transfer_failures(answer: Any, sentence: str) -> None:
    check_fails(SDK, answer, sentence)


def sdk_bulk_read_capped_json(client: Any, store: str, source: str, target: str,
                              amount: int) -> None:
    """Reads both keys in one bulk call, JSON both ways, a capped for loop, and tells a failed
    transaction by its status code."""
    for _ in range(20):
        items = {item.key: item for item in client.get_bulk_state(store, [source, target]).items}
        a, b = items[source], items[target]
        operations = [
            TransactionalStateOperation(key=target, data=json.dumps(json.loads(b.data) + amount),
                                        etag=b.etag),
            TransactionalStateOperation(key=source, data=json.dumps(json.loads(a.data) - amount),
                                        etag=a.etag)]
        try:
            client.execute_state_transaction(store, operations)
            return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.INTERNAL:
                raise
    raise RuntimeError("gave up after 20 failed transactions")


def test_sdk_transfer_other_right_answers_pass() -> None:
    for answer in (sdk_bulk_read_capped_json,
                   sdk_transfer_with({"alice", "bob"}, lambda e: "transaction" in e.details())):
        result = exercise(SDK).check(answer)
        assert result.passed, result.message
