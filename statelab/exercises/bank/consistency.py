"""Notebook 06's exercises: read your own writes, and take ETags from the primary.

The replicated store runs on a clock that only the learner's requests move (1 ms each), so
whether a replica has caught up depends on what the learner sent, never on how fast the machine
is. As notebook 06 teaches, a save Dapr treats as strong (``options.consistency`` in the save
body) answers only once every replica has it: the store's wait moves the lab's clock on by the
replication lag before the save answers, so a read after it sees the write wherever it is
served. A "strong" anywhere Dapr does not read it (a save item's top level, a header, the save's
query string) changes nothing, and the check says what Dapr answered and stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import (
    Interference,
    Lab,
    LabClock,
    writer_schedules,
    your_requests,
)
from statelab.latency import Latency
from statelab.stores.replicated import ReplicatedStore

STORE = "replicated"


def _replicated_lab(lag_ms: float, interference: Sequence[Interference] = ()
                    ) -> tuple[Lab, LabClock]:
    """A lab whose store ``replicated`` has two replicas *lag_ms* behind the primary, and the
    clock it runs on."""
    clock = LabClock()
    store = ReplicatedStore(replicas=2, lag=Latency("fixed", lag_ms), seed=3,
                            clock_us=clock, wait=clock.wait)
    lab = Lab([Component.around(store, STORE)], interference=interference, tick=clock.tick)
    return lab, clock


def _settle(clock: LabClock, lag_ms: float) -> None:
    """Let every write so far reach the replicas (the checker's own setup, before the learner
    starts)."""
    clock.now_us += round(lag_ms * 1000) + 1000


def _served_by(lab: Lab) -> str:
    """Who answered the learner's last read: the node a 200 names, or a node without the key."""
    for request, answer in zip(reversed(lab.requests), reversed(lab.answers), strict=False):
        if request.method == "GET":
            node = answer.header("metadata.replica")
            return f"{node} answered it" if node else "a node without the key answered it"
    return "you sent no read"


#: Replication lag in the read-your-writes check: longer than any run of requests a right
#: answer sends, so reading again and again until a replica catches up runs out of requests.
RYW_LAG_MS = 200.0

#: (value the learner saves, value already on every node or None for a missing key).
RYW_CASES: tuple[tuple[Any, Any], ...] = (("draft", None), ({"title": "v2"}, {"title": "v1"}),
                                          (3, 2))


def _check_read_your_writes(fn: Callable[..., Any]) -> str:
    for case, (value, before) in enumerate(RYW_CASES):
        lab, clock = _replicated_lab(RYW_LAG_MS)
        with lab:
            if before is not None:
                lab.save("doc", before, STORE)
                _settle(clock, RYW_LAG_MS)
            try:
                got = run_answer(fn, lab.client, "doc", value)
            except CheckFailed as failure:
                said = str(failure).rstrip(".?") + ("?" if str(failure).endswith("?") else ".")
                raise CheckFailed(f"case {case}: {said} Your requests and Dapr's answers: "
                                  f"{lab.transcript()}.") from None
            stored = lab.value("doc", STORE, consistency="strong")
            if got == value and stored == value:
                continue
            held = ("the key was missing" if before is None
                    else f"every node held {before!r}")
            if stored != value:
                sent = any(request.method != "GET" for request in lab.requests)
                why = (f"your save did not store {value!r} on the primary" if sent
                       else f"you never saved {value!r}")
            elif not clock.waits:
                why = (f"{_served_by(lab)}, and your save reaches the replicas "
                       f"{RYW_LAG_MS:g} ms later: Dapr saw neither a strong read (the "
                       "consistency query parameter of a GET) nor a strong save "
                       "(options.consistency in the save body) that waits for them")
            else:
                why = f"{_served_by(lab)}, before your last save reached it"
            raise CheckFailed(
                f"case {case}: {held}; save {value!r}, then read it. Your requests and Dapr's "
                "answers: "
                f"{lab.transcript()}. You returned {got!r}, the primary holds {stored!r}: "
                f"{why}.")
    return (f"your reads see your own writes on {len(RYW_CASES)} cases, with replicas "
            f"{RYW_LAG_MS:g} ms behind the primary.")


register(Exercise(
    id="read-your-writes", notebook="06-choose-consistency",
    title="Read your own write on a replicated store",
    task="""
    On the store `replicated` (a primary with lagging replicas), write
    `save_then_read(client, key, value)`: save `value`, read it back, return what you read.
    It must return `value` every time.
    """,
    hints=("An eventual read is served by a replica, which may not have your write yet.",
           "Dapr's GET takes a consistency query parameter; a save takes one in each item's "
           "options. A strong save answers only once the replicas have it.",
           "client.get(url, params={'consistency': 'strong'}) is served by the primary."),
    solution_code="""
    def save_then_read(client, key, value):
        client.post("/v1.0/state/replicated", json=[{"key": key, "value": value}])
        reply = client.get(f"/v1.0/state/replicated/{key}", params={"consistency": "strong"})
        return reply.json()
    """,
    checker=_check_read_your_writes))


def competing_decrement(key: str) -> Callable[[StateService], None]:
    """Another well-behaved client: it reads the primary and takes one with that ETag (an
    eventual save: the replicas get it after the lag)."""
    def act(service: StateService) -> None:
        current = service.get(STORE, key, consistency="strong")
        if current is None:
            return
        value = json.loads(current.data.decode("utf-8"))
        service.save(STORE, [SaveItem(key, value - 1, etag=current.etag,
                                      concurrency="first-write")])
    return act


#: Replication lag in the fresh-etags check, and the decrements each schedule asks for.
ETAG_LAG_MS = 30.0
DECREMENTS = 3


def _check_fresh_etags(fn: Callable[..., Any]) -> str:
    schedules = writer_schedules(seed=6)
    for case, points in enumerate(schedules):
        writers = [Interference(p, competing_decrement("stock")) for p in points]
        lab, clock = _replicated_lab(ETAG_LAG_MS, writers)
        with lab:
            lab.save("stock", 7, STORE)
            _settle(clock, ETAG_LAG_MS)
            for _ in range(DECREMENTS):
                lab.answer(case, fn, lab.client, "stock")
            happened = [p for p in points if p <= len(lab.requests)]
            expected = 7 - DECREMENTS - len(happened)
            got = lab.value("stock", STORE, consistency="strong")
            refused = sum(answer.status == 409 for answer in lab.answers)
            if got == expected and refused <= len(happened):
                continue
            raise CheckFailed(_fresh_etags_failure(lab, case, happened, got, expected, refused))
    return (f"{DECREMENTS} decrements on {len(schedules)} schedules with another client "
            "between your requests: none lost, and no 409 but for a real conflict: your ETags "
            "come from the primary.")


def _fresh_etags_failure(lab: Lab, case: int, happened: list[int], got: Any, expected: int,
                         refused: int) -> str:
    other = (f"another client took one right after {your_requests(happened)}" if happened
             else "no other client wrote")
    start = (f"schedule {case}: the stock was 7 on every node (replicas {ETAG_LAG_MS:g} ms "
             f"behind the primary); you decremented it {DECREMENTS} times and {other}. Your "
             f"requests and Dapr's answers: {lab.transcript()}. ")
    if got != expected:
        writes = [a.status for r, a in zip(lab.requests, lab.answers, strict=False)
                  if r.method != "GET"]
        if writes.count(204) < DECREMENTS:
            verdict = "a decrement returned without Dapr accepting its save"
        elif isinstance(got, int) and got > expected:
            verdict = "a save that Dapr accepted overwrote the other client's decrement"
        else:
            verdict = "that is not one decrement per call"
        return f"{start}The primary holds {got!r}, expected {expected}: {verdict}."
    return (f"{start}Dapr refused {refused} of your saves with 409 though only "
            f"{len(happened)} other write(s) got in: the ETags you sent were older than the "
            "primary's, read from a replica; a strong read gets the primary's.")


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
