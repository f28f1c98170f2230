"""Notebook 07's exercises: an atomic, retried transfer (with httpx, then with the official
SDK's ``DaprClient``); what a failed Redis transaction changes.

The transfer is checked on the in-memory store, whose transactions are atomic; the prediction
on Redis, whose transactions are not (a failing ETag does not stop the other operations).
Both transfers are judged by the two balances alone, with another writer adding to either key
after each single one of the learner's first requests and on seeded combinations: whatever
the learner sent (two saves, a transaction with one ETag, a loop that never re-reads), the
money must have moved once and no one else's addition may be lost.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService, TransactionItem
from statelab.errors import DaprError
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Interference, Lab, competing_increment
from statelab.stores.memory import MemoryStore


def _memstore_lab(case: int, points: list[tuple[int, str]]) -> Lab:
    """A lab whose ``memstore`` is an in-memory store (atomic transactions) with ETags that
    look like daprd's (UUIDs) but come from a seeded generator, so messages repeat exactly;
    a competing increment of *key* after each (request number, key) of *points*."""
    rng = random.Random(f"memstore-etags-{case}")

    def new_etag() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    writers = [Interference(p, competing_increment(key, "memstore")) for p, key in points]
    return Lab([Component.around(MemoryStore(new_etag=new_etag), "memstore")],
               interference=writers)


def money_verdict(names: tuple[str, str], got: tuple[Any, Any], expected: tuple[int, int],
                  amount: int) -> str:
    """What happened to the money, in the learner's terms: how much left the source, how much
    reached the target, and whether the total is still right."""
    if not all(type(value) is int for value in got):
        return "both counters must stay integers"
    before = (expected[0] + amount, expected[1] - amount)  # with the other writer's additions
    left, arrived = before[0] - got[0], got[1] - before[1]
    if left == arrived:
        return "nothing moved" if left == 0 else f"{left} moved instead of {amount}"
    gap = arrived - left
    said = f"{names[0]} gave {left}, {names[1]} received {arrived}: "
    return said + (f"{gap} appeared from nowhere" if gap > 0 else f"{-gap} vanished")


def _judge_transfer(case: int, points: list[tuple[int, str]], sent: int, what: str,
                    transcript: str, got: tuple[Any, Any]) -> None:
    """Both transfers' verdict: 30 moved from alice (100) to bob (50) once, and every
    competing increment that acted (after one of the learner's *sent* requests or calls) is
    still there; else a CheckFailed that says what happened, in the learner's *what*s."""
    happened = [(p, key) for p, key in points if p <= sent]
    expected = (70 + sum(1 for _, key in happened if key == "alice"),
                80 + sum(1 for _, key in happened if key == "bob"))
    if got == expected:
        return
    moments = ", ".join(f"{key} after your {what} {p}" for p, key in happened)
    raise CheckFailed(
        f"schedule {case}: "
        + (f"another writer added 1 to {moments}." if moments else "nobody else wrote.")
        + f" Your {what}s and Dapr's answers: {transcript}. Now alice={got[0]!r}, "
        f"bob={got[1]!r}; expected alice={expected[0]}, bob={expected[1]}: "
        f"{money_verdict(('alice', 'bob'), got, expected, 30)}.")


def _check_transfer(fn: Callable[..., Any]) -> str:
    schedules = transfer_schedules(seed=11)
    for case, points in enumerate(schedules):
        with _memstore_lab(case, points) as lab:
            lab.save("alice", 100, store="memstore")
            lab.save("bob", 50, store="memstore")
            lab.answer(case, fn, lab.client, "memstore", "alice", "bob", 30)
            _judge_transfer(case, points, len(lab.requests), "request", lab.transcript(),
                            (lab.value("alice", "memstore"), lab.value("bob", "memstore")))
    return (f"the transfer was atomic and retried on {len(schedules)} schedules with a "
            "competing writer on either key after each of your requests.")


register(Exercise(
    id="transfer", notebook="07-group-writes",
    title="Move money between two keys atomically",
    task="""
    Write `transfer(client, store, source, target, amount)`: move `amount` from one counter to
    another with a single transaction carrying both ETags; retry if it fails because someone
    changed a key in between. It is checked on the in-memory store, whose transactions are
    atomic.
    """,
    hints=("A transaction is a POST to /v1.0/state/<store>/transaction with "
           "{'operations': [{'operation': 'upsert', 'request': {...}}, ...]}.",
           "Put each key's ETag in its request; an ETag conflict fails the whole transaction "
           "with 500 ERR_STATE_TRANSACTION (not 409).",
           "Loop: read both (value + etag), send both upserts with their etags, stop on 204."),
    solution_code="""
    def transfer(client, store, source, target, amount):
        while True:
            a = client.get(f"/v1.0/state/{store}/{source}")
            b = client.get(f"/v1.0/state/{store}/{target}")
            operations = [
                {"operation": "upsert", "request": {"key": source, "value": a.json() - amount,
                                                    "etag": a.headers["etag"]}},
                {"operation": "upsert", "request": {"key": target, "value": b.json() + amount,
                                                    "etag": b.headers["etag"]}},
            ]
            reply = client.post(f"/v1.0/state/{store}/transaction",
                                json={"operations": operations})
            if reply.status_code == 204:
                return
            if reply.json().get("errorCode") != "ERR_STATE_TRANSACTION":
                reply.raise_for_status()
    """,
    checker=_check_transfer))


def _upsert_all(service: StateService, operations: list[dict[str, str]]) -> int:
    """Run the upserts as one transaction on ``statestore``: the truth the learner predicts.

    The checker is not under test, so it calls the service; the status is the one daprd would
    answer (204, or 500 when an ETag fails), quoted in the explanation."""
    try:
        service.transact("statestore", [TransactionItem("upsert", SaveItem(
            op["key"], "new", etag=op["etag"])) for op in operations])
    except DaprError as error:
        return error.status
    return 204


def partial_cases() -> list[tuple[dict[str, int], list[dict[str, str]]]]:
    """(versions, upserts) for the prediction: 25 cases whose ETags are current or one ahead,
    then 15 whose ETags may also be behind or far ahead, so only the rule itself (an upsert
    applies when its ETag equals the current version) predicts them all."""
    cases = []
    rng = random.Random(3)
    for _ in range(25):
        keys = rng.sample(["a", "b", "c", "d"], rng.randint(2, 4))
        versions = {k: rng.randint(1, 3) for k in keys}
        cases.append((versions, [
            {"key": k, "etag": str(versions[k] + (0 if rng.random() < 0.6 else 1))}
            for k in keys]))
    rng = random.Random(4)
    for _ in range(15):
        keys = rng.sample(["a", "b", "c", "d", "e"], rng.randint(1, 5))
        versions = {k: rng.randint(2, 12) for k in keys}
        cases.append((versions, [
            {"key": k, "etag": str(versions[k] + rng.choice((-1, 0, 0, 1, 9)))} for k in keys]))
    return cases


def _check_partial(fn: Callable[..., Any]) -> str:
    cases = partial_cases()
    for case, (versions, operations) in enumerate(cases):
        with Lab() as lab:
            for key, version in versions.items():
                for number in range(version):
                    lab.save(key, number)
            status = _upsert_all(lab.service, operations)
            truth = {k for k in versions if lab.value(k) == "new"}
            got = run_answer(fn, [dict(op) for op in operations], dict(versions))
            said = _prediction(got)
            if said != truth:
                raise CheckFailed(
                    f"case {case}: versions {versions}, upserts with etags "
                    f"{[(o['key'], o['etag']) for o in operations]} (status {status}): "
                    f"Redis changed {sorted(truth)}, "
                    + (f"you returned {got!r}, not a set of keys" if said is None
                       else f"you said {sorted(said)}"))
    return f"{len(cases)} failing and succeeding Redis transactions predicted key by key."


def _prediction(got: Any) -> set[str] | None:
    """The learner's answer as a set of keys (any collection of strings), or None."""
    if isinstance(got, (str, bytes, dict)) or not hasattr(got, "__iter__"):
        return None
    said = set(got)
    return said if all(isinstance(key, str) for key in said) else None


register(Exercise(
    id="partial-transaction", notebook="07-group-writes",
    title="Predict what a failed Redis transaction still changes",
    task="""
    Redis transactions are not atomic when an ETag fails. Write
    `changed_keys(operations, versions)`: given upserts (dicts with 'key' and 'etag') and the
    current version of each key, return the set of keys the Redis store changes.
    """,
    hints=("Redis runs every queued script inside MULTI/EXEC; a failing one does not stop the "
           "others.",
           "An upsert applies when its ETag equals the key's current version.",
           "return {op['key'] for op in operations if op['etag'] == str(versions[op['key']])}"),
    solution_code="""
    def changed_keys(operations, versions):
        return {op["key"] for op in operations if op["etag"] == str(versions[op["key"]])}
    """,
    checker=_check_partial))


def transfer_schedules(seed: int, longest: int = 5, seeded: int = 6
                       ) -> list[list[tuple[int, str]]]:
    """(after call, key) pairs: a competing increment of either key after each single one of
    the learner's first *longest* calls, exhaustively, then *seeded* random combinations."""
    rng = random.Random(seed)
    singles = [[(point, key)] for point in range(1, longest + 1) for key in ("alice", "bob")]
    combos = [sorted((point, rng.choice(("alice", "bob")))
                     for point in rng.sample(range(1, 10), rng.randint(2, 3)))
              for _ in range(seeded)]
    return [[], *singles, *combos]


def _check_sdk_transfer(fn: Callable[..., Any]) -> str:
    from statelab.exercises.sdk_lab import SdkLab  # grpcio and the SDK: for this check only

    schedules = transfer_schedules(seed=17)
    with SdkLab([Component.around(MemoryStore(), "memstore")]) as lab:
        for case, points in enumerate(schedules):
            lab.schedule([Interference(p, competing_increment(key, "memstore"))
                          for p, key in points])
            lab.save("alice", 100, store="memstore")
            lab.save("bob", 50, store="memstore")
            lab.answer(case, fn, lab.client, "memstore", "alice", "bob", 30)
            _judge_transfer(case, points, len(lab.calls), "call", lab.transcript(),
                            (lab.value("alice", "memstore"), lab.value("bob", "memstore")))
    return (f"the transfer was atomic and retried on {len(schedules)} schedules with a "
            "competing writer on either key after each of your calls.")


register(Exercise(
    id="sdk-transfer", notebook="07-group-writes",
    title="The atomic transfer with the Python SDK",
    task="""
    Write `transfer(client, store, source, target, amount)` with the official SDK (`client` is
    a `dapr.clients.DaprClient`): move `amount` between two integer counters (stored as JSON
    text) with one `execute_state_transaction` carrying both ETags, and retry when it fails
    because someone changed a key in between. Checked on the in-memory store, whose
    transactions are atomic.
    """,
    hints=("Read both keys with `get_state`; build two `TransactionalStateOperation(key=..., "
           "data=str(new_value), etag=state.etag)` (upserts are the default).",
           "A stale ETag fails the whole transaction with `grpc.StatusCode.INTERNAL` and "
           "error code `ERR_STATE_TRANSACTION`, not ABORTED.",
           "Loop: read both, try execute_state_transaction, return on success; on "
           "`error.error_code() == 'ERR_STATE_TRANSACTION'` read again and retry; re-raise "
           "anything else."),
    solution_code="""
    from dapr.clients.exceptions import DaprGrpcError
    from dapr.clients.grpc._request import TransactionalStateOperation

    def transfer(client, store, source, target, amount):
        while True:
            a = client.get_state(store, source)
            b = client.get_state(store, target)
            operations = [
                TransactionalStateOperation(key=source, data=str(int(a.data) - amount),
                                            etag=a.etag),
                TransactionalStateOperation(key=target, data=str(int(b.data) + amount),
                                            etag=b.etag),
            ]
            try:
                client.execute_state_transaction(store, operations)
                return
            except DaprGrpcError as error:
                if error.error_code() != "ERR_STATE_TRANSACTION":
                    raise  # not a failed transaction: a bug to fix, not to retry
    """,
    checker=_check_sdk_transfer))
