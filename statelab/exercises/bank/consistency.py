"""Notebook 06's exercises: read your own writes, and take ETags from the primary.

The replicated store runs on a clock that only the learner's requests move, so whether a
replica has caught up depends on what the learner sent, never on how fast the machine is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statelab.dapr.components import Component
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Lab
from statelab.latency import Latency
from statelab.stores.replicated import ReplicatedStore


def _replicated_lab(lag_ms: float) -> Lab:
    """A lab whose store ``replicated`` has two replicas *lag_ms* behind the primary.

    The store runs on a clock that only the learner's requests move (1 ms each), so whether a
    replica has caught up depends on the requests sent, never on the machine's speed."""
    clock = {"now": 0}
    store = ReplicatedStore(replicas=2, lag=Latency("fixed", lag_ms), seed=3,
                            clock_us=lambda: clock["now"], wait="report")

    def tick() -> None:
        clock["now"] += 1000  # each request takes 1 ms of the store's time

    return Lab([Component.around(store, "replicated")], tick=tick)


def _check_read_your_writes(fn: Callable[..., Any]) -> str:
    for number, value in enumerate(["draft", {"title": "v2"}, 3]):
        with _replicated_lab(20.0) as lab:
            got = run_answer(fn, lab.client, "doc", value)
            if got != value:
                raise CheckFailed(f"case {number}: you saved {value!r} and read back {got!r}: "
                                  "a replica had not received your write yet")
    return "your reads see your own writes, even with 20 ms of replication lag."


register(Exercise(
    id="read-your-writes", notebook="06-choose-consistency",
    title="Read your own write on a replicated store",
    task="""
    On the store `replicated` (a primary with lagging replicas), write
    `save_then_read(client, key, value)`: save `value`, read it back, return what you read.
    It must return `value` every time.
    """,
    hints=("An eventual read is served by a replica, which may not have your write yet.",
           "Dapr's GET takes a consistency query parameter.",
           "client.get(url, params={'consistency': 'strong'}) is served by the primary."),
    solution_code="""
    def save_then_read(client, key, value):
        client.post("/v1.0/state/replicated", json=[{"key": key, "value": value}])
        reply = client.get(f"/v1.0/state/replicated/{key}", params={"consistency": "strong"})
        return reply.json()
    """,
    checker=_check_read_your_writes))


def _check_fresh_etags(fn: Callable[..., Any]) -> str:
    with _replicated_lab(30.0) as lab:
        lab.save("stock", 7, store="replicated")
        for _ in range(3):
            run_answer(fn, lab.client, "stock")
        got = lab.value("stock", "replicated", consistency="strong")
        if got != 4:
            raise CheckFailed(f"three decrements from 7 should leave 4, the primary holds {got}")
        if len(lab.requests) > 12:
            raise CheckFailed(f"it took {len(lab.requests)} requests for 3 decrements: stale "
                              "ETags from replicas cause 409s; read from the primary")
    return "three decrements, no conflict wasted: reads of ETags come from the primary."


register(Exercise(
    id="fresh-etags", notebook="06-choose-consistency",
    title="Take ETags from the primary",
    task="""
    On the store `replicated`, write `decrement(client, key)`: subtract 1 with an ETag check
    and first-write, retrying on conflict, without wasting requests on stale ETags.
    """,
    hints=("ETags are checked on the primary; a replica may hand you an old one.",
           "A stale ETag gives 409 every time until the replica catches up.",
           "Read with params={'consistency': 'strong'} before each attempt."),
    solution_code="""
    def decrement(client, key):
        while True:
            reply = client.get(f"/v1.0/state/replicated/{key}",
                               params={"consistency": "strong"})
            saved = client.post("/v1.0/state/replicated", json=[{
                "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
                "options": {"concurrency": "first-write"}}])
            if saved.status_code == 204:
                return
            if saved.status_code != 409:
                saved.raise_for_status()
    """,
    checker=_check_fresh_etags))
