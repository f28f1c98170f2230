"""Notebook 07's exercises: an atomic, retried transfer; what a failed Redis transaction
changes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import grpc
import pytest
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._request import TransactionalStateOperation
from dapr.clients.grpc._state import Concurrency, StateOptions

from statelab.exercises.bank.transactions import money_verdict
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


STATE = "/v1.0/state"
FIRST_WRITE = {"concurrency": "first-write"}


def read_both(client: Any, store: str, source: str, target: str) -> tuple[Any, Any]:
    return client.get(f"{STATE}/{store}/{source}"), client.get(f"{STATE}/{store}/{target}")


def two_saves(client: Any, store: str, source: str, target: str, amount: int) -> None:
    """The notebook's first attempt: one multi-item save with both ETags, no retry."""
    a, b = read_both(client, store, source, target)
    client.post(f"{STATE}/{store}", json=[
        {"key": source, "value": a.json() - amount, "etag": a.headers["etag"]},
        {"key": target, "value": b.json() + amount, "etag": b.headers["etag"]}])


def two_guarded_saves_retried(client: Any, store: str, source: str, target: str,
                              amount: int) -> None:
    """Each save checks its ETag and the whole move is retried: but not atomic."""
    while True:
        a, b = read_both(client, store, source, target)
        first = client.post(f"{STATE}/{store}", json=[
            {"key": source, "value": a.json() - amount, "etag": a.headers["etag"],
             "options": FIRST_WRITE}])
        second = client.post(f"{STATE}/{store}", json=[
            {"key": target, "value": b.json() + amount, "etag": b.headers["etag"],
             "options": FIRST_WRITE}])
        if first.status_code == second.status_code == 204:
            return


def transaction_with(etags: set[str], retry: bool = True) -> Any:
    """One transaction carrying the ETags of *etags* only, retried on any status but 204
    (or sent once)."""
    def transfer(client: Any, store: str, source: str, target: str, amount: int) -> None:
        while True:
            a, b = read_both(client, store, source, target)
            upserts = [{"key": source, "value": a.json() - amount},
                       {"key": target, "value": b.json() + amount}]
            for request, reply in zip(upserts, (a, b), strict=True):
                if request["key"] in etags:
                    request["etag"] = reply.headers["etag"]
            reply = client.post(f"{STATE}/{store}/transaction", json={"operations": [
                {"operation": "upsert", "request": request} for request in upserts]})
            if reply.status_code == 204 or not retry:
                return
    return transfer


def retrying_the_same_transaction(client: Any, store: str, source: str, target: str,
                                  amount: int) -> None:
    a, b = read_both(client, store, source, target)
    body = {"operations": [
        {"operation": "upsert", "request": {"key": source, "value": a.json() - amount,
                                            "etag": a.headers["etag"]}},
        {"operation": "upsert", "request": {"key": target, "value": b.json() + amount,
                                            "etag": b.headers["etag"]}}]}
    while client.post(f"{STATE}/{store}/transaction", json=body).status_code != 204:
        pass


def retrying_a_malformed_transaction(client: Any, store: str, source: str, target: str,
                                     amount: int) -> None:
    """Retries on every status, but its transaction can never succeed (400)."""
    while True:
        a, b = read_both(client, store, source, target)
        reply = client.post(f"{STATE}/{store}/transaction", json={"operations": [
            {"operation": "update", "request": {"key": source, "value": a.json() - amount}},
            {"operation": "update", "request": {"key": target, "value": b.json() + amount}}]})
        if reply.status_code == 204:
            return


SCHEDULE_1 = ("schedule 1: another writer added 1 to alice after your request 1. Your requests "
              "and Dapr's answers: 1 GET alice -> 200; 2 GET bob -> 200; ")


@pytest.mark.parametrize(("answer", "sentence"), [
    (two_saves, SCHEDULE_1 + "3 POST memstore [alice, etag '4f42152b-ef90-49be-a6cb-b9614ade077a'"
     "; bob, etag 'b36ca4eb-b620-4078-aebe-85a240f042c3'] -> 409. Now alice=101, bob=80; "
     "expected alice=71, bob=80: alice gave 0, bob received 30: 30 appeared from nowhere."),
    (two_guarded_saves_retried, "-> 409; 4 POST memstore [bob, etag 'b36ca4eb-b620-4078-aebe-"
     "85a240f042c3', first-write] -> 204; 5 GET alice -> 200; 6 GET bob -> 200; 7 POST memstore"
     " [alice, etag 'ad89eee1-7b2c-49c7-801c-c5a4e0c34912', first-write] -> 204; 8 POST "
     "memstore [bob, etag '43b679fe-1319-4ba4-adaa-2fab075829e5', first-write] -> 204. Now "
     "alice=71, bob=110; expected alice=71, bob=80: alice gave 30, bob received 60: 30 appeared "
     "from nowhere."),
    (transaction_with(set()), SCHEDULE_1 + "3 POST transaction [upsert alice; upsert bob] -> "
     "204. Now alice=70, bob=80; expected alice=71, bob=80: alice gave 31, bob received 30: "
     "1 vanished."),
    (transaction_with({"alice"}), "schedule 4: another writer added 1 to bob after your request "
     "2. Your requests and Dapr's answers: 1 GET alice -> 200; 2 GET bob -> 200; 3 POST "
     "transaction [upsert alice, etag 'd6d4259a-a5c3-4149-a030-74e1157de0e6'; upsert bob] -> "
     "204. Now alice=70, bob=80; expected alice=70, bob=81: alice gave 30, bob received 29: "
     "1 vanished."),
    (transaction_with({"alice", "bob"}, retry=False), SCHEDULE_1 + "3 POST transaction [upsert "
     "alice, etag '4f42152b-ef90-49be-a6cb-b9614ade077a'; upsert bob, etag 'b36ca4eb-b620-4078-"
     "aebe-85a240f042c3'] -> 500. Now alice=101, bob=50; expected alice=71, bob=80: nothing "
     "moved."),
    (retrying_the_same_transaction, "schedule 1: your function sent more than 60 requests; does "
     "a loop ever end? Your requests and Dapr's answers: 1 GET alice -> 200; 2 GET bob -> 200; "
     "3-60 POST transaction [upsert alice, etag '4f42152b-ef90-49be-a6cb-b9614ade077a'; upsert "
     "bob, etag 'b36ca4eb-b620-4078-aebe-85a240f042c3'] -> 500 (58 times)"),
    (retrying_a_malformed_transaction, "schedule 0: your function sent more than 60 requests; "
     "does a loop ever end? Your requests and Dapr's answers: 1-60 in turn GET alice -> 200, "
     "GET bob -> 200 and POST transaction [update alice; update bob] -> 400 (20 times each); "
     "61 GET alice -> no answer."),
])
def test_transfer_failures(answer: Any, sentence: str) -> None:
    check_fails("transfer", answer, sentence)


def bulk_read_capped_quoted(client: Any, store: str, source: str, target: str,
                            amount: int) -> None:
    """Reads both keys in one bulk call, quotes keys, writes the target first, a capped for
    loop, tells a failed transaction by its errorCode and raises on anything else."""
    for _ in range(20):
        found = client.post(f"{STATE}/{quote(store)}/bulk", json={"keys": [source, target]})
        items = {item["key"]: item for item in found.json()}
        operations = [
            {"operation": "upsert", "request": {"key": key, "value": items[key]["data"] + change,
                                                "etag": items[key]["etag"]}}
            for key, change in ((target, amount), (source, -amount))]
        reply = client.post(f"{STATE}/{quote(store)}/transaction",
                            json={"operations": operations})
        if reply.status_code == 204:
            return
        if reply.json().get("errorCode") != "ERR_STATE_TRANSACTION":
            reply.raise_for_status()
    raise RuntimeError("gave up after 20 failed transactions")


def etag_get_and_status_500(client: Any, store: str, source: str, target: str,
                            amount: int) -> None:
    """Reads the target first, the ETag with ``headers.get('ETag')``, JSON by hand, retries
    on 500 only."""
    while True:
        b = client.get(f"{STATE}/{store}/{target}")
        a = client.get(f"{STATE}/{store}/{source}")
        body = json.dumps({"operations": [
            {"operation": "upsert", "request": {"key": source, "value": json.loads(a.text) - amount,
                                                "etag": a.headers.get("ETag")}},
            {"operation": "upsert", "request": {"key": target, "value": json.loads(b.text) + amount,
                                                "etag": b.headers.get("ETag")}}]})
        reply = client.post(f"{STATE}/{store}/transaction", content=body,
                            headers={"content-type": "application/json"})
        if reply.status_code != 500:
            reply.raise_for_status()
            return


@pytest.mark.parametrize("answer", [bulk_read_capped_quoted, etag_get_and_status_500,
                                    transaction_with({"alice", "bob"})])
def test_transfer_other_right_answers_pass(answer: Any) -> None:
    result = exercise("transfer").check(answer)
    assert result.passed, result.message


def test_the_verdict_counts_the_money() -> None:
    names = ("alice", "bob")
    assert money_verdict(names, (100, 50), (70, 80), 30) == "nothing moved"
    assert money_verdict(names, (40, 110), (70, 80), 30) == "60 moved instead of 30"
    assert money_verdict(names, (70, 81), (70, 80), 30) == \
        "alice gave 30, bob received 31: 1 appeared from nowhere"
    assert money_verdict(names, ("70", 80), (70, 80), 30) == "both counters must stay integers"


def test_transfer_messages_repeat_exactly() -> None:
    first, second = (exercise("transfer").check(two_saves) for _ in range(2))
    assert first.message == second.message


# -- predicting a failed Redis transaction --

PARTIAL = "partial-transaction"


def all_or_nothing(operations: list[dict[str, str]], versions: dict[str, int]) -> set[str]:
    """The notebook's starter: right for the in-memory store, not for Redis."""
    if all(op["etag"] == str(versions[op["key"]]) for op in operations):
        return {op["key"] for op in operations}
    return set()


@pytest.mark.parametrize(("answer", "sentence"), [
    (all_or_nothing, "case 0: versions {'b': 3, 'd': 2}, upserts with etags [('b', '4'), "
     "('d', '2')] (status 500): Redis changed ['d'], you said []"),
    (lambda operations, versions: {"d"}, "case 2: versions {'d': 3, 'b': 1, 'a': 3, 'c': 2}, "
     "upserts with etags [('d', '4'), ('b', '2'), ('a', '3'), ('c', '3')] (status 500): Redis "
     "changed ['a'], you said ['d']"),
    (lambda operations, versions: {op["key"] for op in operations
                                   if int(op["etag"]) <= versions[op["key"]]},
     "case 25: versions {'c': 8, 'a': 9}, upserts with etags [('c', '8'), ('a', '8')] (status "
     "500): Redis changed ['c'], you said ['a', 'c']"),
    (lambda operations, versions: {op["key"] for op in operations
                                   if op["etag"] == versions[op["key"]]},
     "Redis changed ['d'], you said []"),
    (lambda operations, versions: None, "Redis changed ['d'], you returned None, not a set of "
     "keys"),
])
def test_partial_transaction_failures(answer: Any, sentence: str) -> None:
    check_fails(PARTIAL, answer, sentence)


def replayed_one_by_one(operations: list[dict[str, str]], versions: dict[str, int]
                        ) -> list[str]:
    """Runs the upserts in order on a copy of the versions, as the Lua scripts do."""
    current, changed = dict(versions), []
    for op in operations:
        if int(op["etag"]) == current[op["key"]]:
            current[op["key"]] += 1
            changed.append(op["key"])
    return sorted(set(changed))


@pytest.mark.parametrize("answer", [
    replayed_one_by_one,
    lambda operations, versions: frozenset(op["key"] for op in operations
                                           if op["etag"] == f"{versions[op['key']]}"),
])
def test_partial_transaction_other_right_answers_pass(answer: Any) -> None:
    result = exercise(PARTIAL).check(answer)
    assert result.passed, result.message


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
     "upsert alice, upsert bob) -> OK. Now alice=70, bob=80; expected alice=71, bob=80: "
     "alice gave 31, bob received 30: 1 vanished."),
    (sdk_transfer_with({"alice"}, any_error),
     "schedule 4: another writer added 1 to bob after your call 2. Your calls and Dapr's "
     "answers: 1 GetState(alice) -> OK; 2 GetState(bob) -> OK; 3 ExecuteStateTransaction("
     "upsert alice, etag, upsert bob) -> OK. Now alice=70, bob=80; expected alice=70, "
     "bob=81: alice gave 30, bob received 29: 1 vanished."),
    (sdk_transfer_with({"alice", "bob"}, aborted),
     "schedule 1: your function raised DaprGrpcError INTERNAL: error while executing state "
     "transaction: "),
    (sdk_two_guarded_saves, "Now alice=40, bob=81; expected alice=70, bob=81: alice gave "
                            "60, bob received 30: 30 vanished."),
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
