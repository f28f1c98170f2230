"""The exercises of the tutorial, two or more per notebook from notebook 2 on.

Each checker raises :class:`~statelab.exercises.framework.CheckFailed` with one sentence that explains
the first failure, or returns a sentence saying what was verified. Schedules are seeded and the
competing writers act at fixed points between the learner's requests, so every check is
deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from statelab.analysis.races import analyse
from statelab.exercises.framework import (
    CheckFailed,
    Exercise,
    Interference,
    Lab,
    _call,
    _competing_increment,
    _component,
    _register,
)
from statelab.sim.race import interleavings, run_schedule

# -- 02: save, read, delete -----------------------------------------------------------------------


def _check_save_and_read(fn: Callable[..., Any]) -> str:
    cases = [("1", {"item": "tea", "qty": 2}), ("42", {"item": "cake", "qty": 1, "note": "é"}),
             ("2024/07", {"item": "jam", "qty": 3})]
    for order_id, order in cases:
        lab = Lab()
        try:
            returned = _call(fn, lab.client, order_id, order)
            stored = lab.value(f"order-{order_id}")
            if stored is None:
                slash = " (a key with a slash must travel as %2F: quote it)" if "/" in order_id \
                    else ""
                raise CheckFailed(f"after save_order(client, {order_id!r}, ...) nothing is "
                                  f"stored under the key 'order-{order_id}'{slash}")
            if stored != order:
                raise CheckFailed(f"the key 'order-{order_id}' holds {stored!r}, expected {order!r}")
            if returned != order:
                if isinstance(returned, dict) and returned.get("errorCode") == "ERR_DIRECT_INVOKE":
                    raise CheckFailed(f"reading 'order-{order_id}' answered 404 "
                                      "ERR_DIRECT_INVOKE: a key with a slash must travel as "
                                      "%2F, so quote it")
                raise CheckFailed(f"save_order returned {returned!r}; it should return the value "
                                  "read back from Dapr")
        finally:
            lab.close()
    return "orders are saved under order-<id> and read back, slashes in ids included."


_register(Exercise(
    id="save-and-read", notebook="02-save-read-delete", title="Save an order and read it back",
    task="""
    Write `save_order(client, order_id, order)`. It saves the dict `order` under the key
    `order-<order_id>` in the store `statestore`, then reads it back and returns what Dapr
    answered. `client` is an `httpx.Client` whose base URL is the sidecar's.
    """,
    hints=("A save is a POST to /v1.0/state/statestore whose body is a JSON array of "
           "{key, value} items; a read is a GET of /v1.0/state/statestore/<key>.",
           "Order ids may contain a slash. In the URL, a key must be one path segment: use "
           "urllib.parse.quote(key, safe='') so '/' travels as %2F.",
           "key = f'order-{order_id}'; client.post('/v1.0/state/statestore', json=[{'key': key, "
           "'value': order}]); then client.get('/v1.0/state/statestore/' + quote(key, safe=''))"
           ".json()"),
    solution_code="""
    from urllib.parse import quote

    def save_order(client, order_id, order):
        key = f"order-{order_id}"
        saved = client.post("/v1.0/state/statestore", json=[{"key": key, "value": order}])
        saved.raise_for_status()
        reply = client.get(f"/v1.0/state/statestore/{quote(key, safe='')}")
        return reply.json()
    """,
    checker=_check_save_and_read))


def _check_read_or_default(fn: Callable[..., Any]) -> str:
    lab = Lab()
    try:
        lab.save("visits", 5)
        lab.save("zero", 0)
        for key, expected in (("visits", 5), ("zero", 0), ("never-saved", 0)):
            got = _call(fn, lab.client, key)
            if got != expected:
                why = " (a missing key answers 204 with an empty body)" \
                    if key == "never-saved" else ""
                raise CheckFailed(f"read_counter(client, {key!r}) returned {got!r}, expected "
                                  f"{expected}{why}")
    finally:
        lab.close()
    return "stored counters are read and a missing key counts as 0."


_register(Exercise(
    id="read-or-default", notebook="02-save-read-delete", title="Read a counter, 0 if missing",
    task="""
    Write `read_counter(client, key)`: return the integer stored under `key` in `statestore`,
    or `0` when the key does not exist.
    """,
    hints=("What status does Dapr answer for a key that was never saved?",
           "A missing key gives 204 No Content with an empty body, so reply.json() would fail.",
           "reply = client.get(...); return reply.json() if reply.status_code == 200 else 0"),
    solution_code="""
    def read_counter(client, key):
        reply = client.get(f"/v1.0/state/statestore/{key}")
        reply.raise_for_status()
        return reply.json() if reply.status_code == 200 else 0
    """,
    checker=_check_read_or_default))


# -- 03: the lost update ----------------------------------------------------------------------------


def _check_predict(fn: Callable[..., Any]) -> str:
    for writers in (2, 3):
        for schedule in interleavings(writers):
            truth = bool(analyse(run_schedule(schedule)).anomalies)
            got = _call(fn, schedule)
            if bool(got) != truth:
                steps = [f"{chr(65 + p)} {'reads' if schedule[:i].count(p) == 0 else 'writes'}"
                         for i, p in enumerate(schedule)]
                names = ", ".join(steps)
                raise CheckFailed(f"for {schedule} ({names}) you said {bool(got)}, but it "
                                  f"{'does' if truth else 'does not'} lose an update")
    return "all 6 two-writer and 90 three-writer schedules predicted correctly."


_register(Exercise(
    id="predict-lost-update", notebook="03-lose-an-update",
    title="Predict which interleavings lose an update",
    task="""
    Each writer reads the counter, then writes back what it read plus one, without an ETag.
    A schedule lists who moves next: `(0, 1, 0, 1)` means A reads, B reads, A writes,
    B writes. Write `loses_update(schedule)` that returns True when the final value is less
    than the number of writers.
    """,
    hints=("A writer's update survives only if nobody else wrote between its read and its "
           "write... or is that enough?",
           "Walk the schedule: the first step of a writer is its read, the second its write. "
           "Keep the value each writer read and the current value.",
           "Simulate it: value = 0; seen = {}; for p in schedule: if p not in seen: seen[p] = "
           "value else: value = seen[p] + 1. Then compare value with the number of writers."),
    solution_code="""
    def loses_update(schedule):
        value, seen = 0, {}
        for writer in schedule:
            if writer not in seen:
                seen[writer] = value          # its read
            else:
                value = seen[writer] + 1      # its write, built on what it read
        return value < len(seen)
    """,
    checker=_check_predict))


def _check_final_value(fn: Callable[..., Any]) -> str:
    for schedule in interleavings(3):
        truth = analyse(run_schedule(schedule)).final_total
        got = _call(fn, schedule)
        if got != truth:
            raise CheckFailed(f"for {schedule} you said the counter ends at {got!r}; the "
                              f"simulator says {truth}")
    return "the final value of all 90 three-writer schedules predicted correctly."


_register(Exercise(
    id="final-value", notebook="03-lose-an-update",
    title="Predict the final value of the counter",
    task="""
    With the same writers, write `final_value(schedule)` returning the counter's value after
    the schedule ran (it starts missing, which reads as 0).
    """,
    hints=("It is the value written by the last write of the schedule.",
           "The last writer wrote what it had read plus one.",
           "Track what each writer read; the answer is the last write's read + 1."),
    solution_code="""
    def final_value(schedule):
        value, seen = 0, {}
        for writer in schedule:
            if writer not in seen:
                seen[writer] = value
            else:
                value = seen[writer] + 1
        return value
    """,
    checker=_check_final_value))


# -- 04: ETags and first-write-wins ----------------------------------------------------------------


def _check_update_if_unchanged(fn: Callable[..., Any]) -> str:
    lab = Lab()
    try:
        lab.save("profile", {"name": "Ada"})
        fresh = lab.etag("profile")
        if _call(fn, lab.client, "profile", {"name": "Ada L."}, fresh) is not True:
            raise CheckFailed("with the current ETag the update should succeed and return True")
        if lab.value("profile") != {"name": "Ada L."}:
            raise CheckFailed("it returned True but the stored profile did not change")
        stale = fresh
        if _call(fn, lab.client, "profile", {"name": "Bob"}, stale) is not False:
            raise CheckFailed("with a stale ETag Dapr answers 409 Conflict: return False")
        if lab.value("profile") != {"name": "Ada L."}:
            raise CheckFailed("a stale ETag must not change the stored value")
        body = lab.requests[-1].content
        if b"first-write" not in body:
            raise CheckFailed("send options {'concurrency': 'first-write'} so the intent is "
                              "explicit (and the ETag is honoured even if a default changes)")
    finally:
        lab.close()
    return "current ETags update, stale ones get 409 and change nothing."


_register(Exercise(
    id="update-if-unchanged", notebook="04-use-etags",
    title="Update only if nobody else did",
    task="""
    Write `update_if_unchanged(client, key, value, etag)`: save `value` only if the item still
    has `etag`, with first-write concurrency. Return True when saved, False on a conflict.
    """,
    hints=("On a save, the ETag goes in the item's body as 'etag' (not in a header).",
           "Add 'options': {'concurrency': 'first-write'}; a conflict is status 409.",
           "reply = client.post(url, json=[{...}]); return reply.status_code == 204, but "
           "return False only for 409 and raise for other errors."),
    solution_code="""
    def update_if_unchanged(client, key, value, etag):
        reply = client.post("/v1.0/state/statestore", json=[{
            "key": key, "value": value, "etag": etag,
            "options": {"concurrency": "first-write"}}])
        if reply.status_code == 409:
            return False
        reply.raise_for_status()
        return True
    """,
    checker=_check_update_if_unchanged))


def _check_create_if_absent(fn: Callable[..., Any]) -> str:
    lab = Lab()
    try:
        if _call(fn, lab.client, "seat-1", "Ada") is not True:
            raise CheckFailed("the key did not exist, so it should be created and return True")
        if lab.value("seat-1") != "Ada":
            raise CheckFailed("it returned True but seat-1 does not hold 'Ada'")
        if _call(fn, lab.client, "seat-1", "Bob") is not False:
            raise CheckFailed("seat-1 already exists: return False and leave it alone")
        lab.save("seat-2", "Cy")  # created by someone else, without first-write
        if _call(fn, lab.client, "seat-2", "Dee") is not False or lab.value("seat-2") != "Cy":
            raise CheckFailed("seat-2 was created by a plain save (no first-write flag); your "
                              "save overwrote it. On Redis, first-write without an ETag "
                              "overwrites such a key (spec S6)")
    finally:
        lab.close()
    return "missing keys are created, existing ones (with or without the flag) are kept."


_register(Exercise(
    id="create-if-absent", notebook="04-use-etags",
    title="Create a key only if it does not exist",
    task="""
    On the Redis store, write `create_if_absent(client, key, value)`: create the key and
    return True, or return False (changing nothing) if it already exists, whoever created it.
    """,
    hints=("first-write without an ETag is not enough on Redis: try it on a key saved without "
           "first-write.",
           "On Redis, an ETag sent for a key that does not exist is ignored (S3), but for an "
           "existing key it must match.",
           "Send an ETag no key will ever have, such as '999999999', with first-write: "
           "missing keys are created, existing ones answer 409."),
    solution_code="""
    def create_if_absent(client, key, value):
        reply = client.post("/v1.0/state/statestore", json=[{
            "key": key, "value": value, "etag": "999999999",
            "options": {"concurrency": "first-write"}}])
        if reply.status_code == 409:
            return False
        reply.raise_for_status()
        return True
    """,
    checker=_check_create_if_absent))


# -- 05: retry loops ----------------------------------------------------------------------------


def _check_increment(fn: Callable[..., Any]) -> str:
    rng = random.Random(5)
    for case in range(8):
        # After the learner's 1st, 3rd, ... request a competitor may increment the counter.
        points = sorted(rng.sample(range(1, 12), rng.randint(0, 4)))
        lab = Lab(interference=[Interference(p, _competing_increment("hits")) for p in points])
        try:
            lab.save("hits", 10)
            _call(fn, lab.client, "hits")
            happened = [p for p in points if p <= len(lab.requests)]
            expected = 10 + 1 + len(happened)
            got = lab.value("hits")
            if got != expected:
                moments = ", ".join(f"your request {p} ({lab.requests[p - 1].method})"
                                    for p in happened) or "none of your requests"
                raise CheckFailed(
                    f"schedule {case}: another writer incremented the counter right after "
                    f"{moments}; the counter ends at {got}, expected {expected}: "
                    + ("an update was lost" if got < expected else "you added more than one"))
        finally:
            lab.close()
    return "no update lost on 8 seeded schedules with competing writers."


_register(Exercise(
    id="increment-with-retry", notebook="05-retry-on-conflict",
    title="Increment a counter without losing updates",
    task="""
    Write `increment(client, key)`: add 1 to the integer under `key` (missing counts as 0),
    safely while other writers do the same. Use the ETag and retry on conflicts.
    """,
    hints=("Read the value and its ETag, write value + 1 with that ETag and first-write.",
           "On 409, someone wrote in between: read again (fresh value, fresh ETag) and retry.",
           "while True: reply = get; etag = reply.headers.get('etag'); value = ...; save with "
           "etag; if 204: return; if 409: continue; else raise"),
    solution_code="""
    def increment(client, key):
        while True:
            reply = client.get(f"/v1.0/state/statestore/{key}")
            value = reply.json() if reply.status_code == 200 else 0
            item = {"key": key, "value": value + 1, "options": {"concurrency": "first-write"}}
            if "etag" in reply.headers:
                item["etag"] = reply.headers["etag"]
            saved = client.post("/v1.0/state/statestore", json=[item])
            if saved.status_code == 204:
                return
            if saved.status_code not in (409, 500):  # 500: a first-write race on a new key
                saved.raise_for_status()
    """,
    checker=_check_increment))


def _check_backoff(fn: Callable[..., Any]) -> str:
    for failures in range(12):
        ceiling = min(1000.0, 10.0 * 2 ** failures)
        delays = [_call(fn, failures, random.Random(seed)) for seed in range(200)]
        if any(not isinstance(d, (int, float)) for d in delays):
            raise CheckFailed("backoff_ms must return a number of milliseconds")
        if min(delays) < 0 or max(delays) > ceiling:
            raise CheckFailed(f"after {failures} failure(s) delays must lie in [0, {ceiling:g}] "
                              f"ms; you returned values up to {max(delays):g}")
        if len(set(delays)) < 50:
            raise CheckFailed(f"after {failures} failure(s) your delays hardly vary: use the "
                              "random generator for jitter, so writers stop colliding in step")
        if max(delays) < ceiling * 0.8:
            raise CheckFailed(f"after {failures} failure(s) delays should reach close to "
                              f"{ceiling:g} ms (full jitter: uniform in [0, ceiling])")
    return "delays grow exponentially from 10 ms, are capped at 1 s, and are fully jittered."


_register(Exercise(
    id="backoff-delays", notebook="05-retry-on-conflict",
    title="Exponential backoff with full jitter",
    task="""
    Write `backoff_ms(failures, rng)`: the delay before the next retry, in milliseconds, drawn
    uniformly between 0 and min(1000, 10 * 2**failures), using `rng.random()`.
    """,
    hints=("The ceiling doubles with every failure, up to a cap.",
           "Full jitter: pick uniformly in [0, ceiling], not ceiling plus noise.",
           "return rng.random() * min(1000, 10 * 2 ** failures)"),
    solution_code="""
    def backoff_ms(failures, rng):
        return rng.random() * min(1000.0, 10.0 * 2 ** failures)
    """,
    checker=_check_backoff))


# -- 06: strong vs eventual -----------------------------------------------------------------------


def _replicated_lab(lag_ms: float, **kwargs: Any) -> tuple[Lab, Any]:
    from statelab.stores.replicated import LagModel, ReplicatedStore

    clock = {"now": 0}
    store = ReplicatedStore(replicas=2, lag=LagModel("fixed", lag_ms), seed=3,
                            clock_us=lambda: clock["now"], wait="report")

    def tick() -> None:
        clock["now"] += 1000  # each request takes 1 ms of the store's time

    lab = Lab([_component("replicated", "state.replicated", store)], tick=tick, **kwargs)
    return lab, store


def _check_read_your_writes(fn: Callable[..., Any]) -> str:
    for number, value in enumerate(["draft", {"title": "v2"}, 3]):
        lab, _ = _replicated_lab(20.0)
        try:
            got = _call(fn, lab.client, "doc", value)
            if got != value:
                raise CheckFailed(f"case {number}: you saved {value!r} and read back {got!r}: "
                                  "a replica had not received your write yet")
        finally:
            lab.close()
    return "your reads see your own writes, even with 20 ms of replication lag."


_register(Exercise(
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
    lab, _ = _replicated_lab(30.0)
    try:
        lab.save("stock", 7, store="replicated")
        for _ in range(3):
            _call(fn, lab.client, "stock")
        got = lab.api.get("replicated", "stock", {"consistency": "strong"}).json()
        if got != 4:
            raise CheckFailed(f"three decrements from 7 should leave 4, the primary holds {got}")
        if len(lab.requests) > 12:
            raise CheckFailed(f"it took {len(lab.requests)} requests for 3 decrements: stale "
                              "ETags from replicas cause 409s; read from the primary")
    finally:
        lab.close()
    return "three decrements, no conflict wasted: reads of ETags come from the primary."


_register(Exercise(
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


# -- 07: transactions ------------------------------------------------------------------------------


def _check_transfer(fn: Callable[..., Any]) -> str:
    rng = random.Random(11)
    for case in range(6):
        points = sorted(rng.sample(range(1, 8), rng.randint(0, 2)))
        memory = _component("memstore", "state.in-memory")
        lab = Lab([memory], interference=[Interference(p, _competing_increment("alice", "memstore"))
                                          for p in points])
        try:
            lab.save("alice", 100, store="memstore")
            lab.save("bob", 50, store="memstore")
            _call(fn, lab.client, "memstore", "alice", "bob", 30)
            bonus = sum(1 for p in points if p <= len(lab.requests))
            alice, bob = lab.value("alice", "memstore"), lab.value("bob", "memstore")
            if (alice, bob) != (70 + bonus, 80):
                raise CheckFailed(
                    f"schedule {case}: another writer added {bonus} to alice meanwhile; "
                    f"expected alice={70 + bonus}, bob=80, got alice={alice}, bob={bob}")
            kinds = {r.url.path.rsplit("/", 1)[-1] for r in lab.requests if r.method == "POST"}
            if "transaction" not in kinds:
                raise CheckFailed("move the money with one POST to .../transaction, so both "
                                  "keys change together or not at all")
        finally:
            lab.close()
    return "transfers are atomic and retried when another writer gets in between."


_register(Exercise(
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


def _check_partial(fn: Callable[..., Any]) -> str:
    rng = random.Random(3)
    for case in range(25):
        keys = rng.sample(["a", "b", "c", "d"], rng.randint(2, 4))
        versions = {k: rng.randint(1, 3) for k in keys}
        operations = [{"key": k, "etag": str(versions[k] + (0 if rng.random() < 0.6 else 1))}
                      for k in keys]
        lab = Lab()
        try:
            for key, version in versions.items():
                for number in range(version):
                    lab.save(key, number)
            reply = lab.api.request("POST", "/v1.0/state/statestore/transaction", json={
                "operations": [{"operation": "upsert",
                                "request": {**op, "value": "new"}} for op in operations]})
            truth = {k for k in keys if lab.value(k) == "new"}
            got = _call(fn, [dict(op) for op in operations], dict(versions))
            if set(got) != truth:
                raise CheckFailed(
                    f"case {case}: versions {versions}, upserts with etags "
                    f"{[(o['key'], o['etag']) for o in operations]} (status {reply.status}): "
                    f"Redis changed {sorted(truth)}, you said {sorted(set(got))}")
        finally:
            lab.close()
    return "25 failing and succeeding Redis transactions predicted key by key."


_register(Exercise(
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


# -- 08: to real Dapr ------------------------------------------------------------------------------


def _check_fixed_save(fn: Callable[..., Any]) -> str:
    lab = Lab()
    try:
        _call(fn, lab.client)
        if lab.value("key1") != "Some Data":
            raise CheckFailed("after save_state(client), key1 should hold 'Some Data'")
        post = next(r for r in lab.requests if r.method == "POST")
        if b'"consistency"' not in post.content or b"strong" not in post.content:
            raise CheckFailed("keep the how-to's intent: ask for strong consistency in the "
                              "item's options")
    finally:
        lab.close()
    return "the how-to's save now sends a real JSON array and is accepted."


_register(Exercise(
    id="fix-howto-save", notebook="08-move-to-real-dapr",
    title="Fix the how-to's save",
    task="""
    The Dapr 1.4 how-to builds the body as a string and passes it to `json=`, which encodes
    it twice. Write `save_state(client)` that saves "Some Data" under `key1` with strong
    consistency, correctly.
    """,
    hints=("json= expects Python objects; a string becomes a JSON string literal.",
           "Dapr wants an array of items: [{'key': 'key1', 'value': 'Some Data', 'options': "
           "{...}}].",
           "client.post('/v1.0/state/statestore', json=[{'key': 'key1', 'value': 'Some Data', "
           "'options': {'consistency': 'strong'}}])"),
    solution_code="""
    def save_state(client):
        reply = client.post("/v1.0/state/statestore", json=[{
            "key": "key1", "value": "Some Data", "options": {"consistency": "strong"}}])
        reply.raise_for_status()
    """,
    checker=_check_fixed_save))


def _check_fixed_delete(fn: Callable[..., Any]) -> str:
    lab = Lab()
    try:
        lab.save("key1", "Some Data")
        lab.save("key1", "New Data")
        _call(fn, lab.client, "key1")
        if lab.value("key1") is not None:
            raise CheckFailed("key1 still exists: the delete did not go through")
        delete = [r for r in lab.requests if r.method == "DELETE"]
        if not delete or "if-match" not in delete[-1].headers:
            raise CheckFailed("send the ETag in an If-Match header, so the delete fails if "
                              "someone changed the key")
        if delete[-1].url.params.get("concurrency") != "first-write":
            raise CheckFailed("ask for first-write concurrency with the query parameter "
                              "?concurrency=first-write (headers named concurrency are ignored)")
    finally:
        lab.close()
    return "deleted with a fresh ETag in If-Match and first-write as a query parameter."


_register(Exercise(
    id="fix-howto-delete", notebook="08-move-to-real-dapr",
    title="Fix the how-to's delete",
    task="""
    The how-to deletes with an ETag read before a save (409) and sends the options as headers
    (ignored). Write `delete_state(client, key)`: read the current ETag, then delete with it,
    first-write, correctly.
    """,
    hints=("Read the ETag right before deleting: a save in between changes it.",
           "The ETag goes in If-Match; options go in the query string.",
           "etag = client.get(url).headers['etag']; client.delete(url, headers={'If-Match': "
           "etag}, params={'concurrency': 'first-write'})"),
    solution_code="""
    def delete_state(client, key):
        url = f"/v1.0/state/statestore/{key}"
        etag = client.get(url).headers["etag"]
        reply = client.delete(url, headers={"If-Match": etag},
                              params={"concurrency": "first-write"})
        reply.raise_for_status()
    """,
    checker=_check_fixed_delete))
