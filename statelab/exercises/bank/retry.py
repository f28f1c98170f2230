"""Notebook 05's exercises: an increment that retries on conflict (with httpx, then with the
official SDK's ``DaprClient``), backoff with jitter, and an increment whose save may time out.

The competing writers act after each single one of the learner's first requests (and, for the
httpx increment, each pair of them), then on seeded combinations, so every gap a retry loop has
is tried and a failing schedule happens again on the next check. A failure says where the other
writer got in, the learner's requests with Dapr's answers, and what the counter became. The
backoff check judges the delays' behaviour: the same seed gives the same delay, drawn from the
generator given, within the ceiling, and spread over the whole range. The timeout check makes
each of the learner's first requests time out in turn, once after Dapr handled it and once
before it reached Dapr, with and without another writer, and judges what was stored: one
increment per writer, and every writer's id still in the counter.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from itertools import combinations
from typing import Any, TypeGuard

from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import (
    Interference,
    Lab,
    Timeout,
    competing_increment,
    writer_schedules,
    your_requests,
)


def increment_cases(seed: int, longest: int = 6, seeded: int = 6) -> list[list[int]]:
    """Where competing writers act in the httpx increment's check: no writer, then after each
    single request and each pair of requests among the learner's first *longest* (a right
    answer's first three attempts: every gap, and every "a second conflict on the retry"),
    then *seeded* random combinations further out."""
    singles = writer_schedules(seed, longest, seeded=0)[1:]
    pairs = [list(pair) for pair in combinations(range(1, longest + 1), 2)]
    seeded_combos = writer_schedules(seed, longest, seeded)[longest + 1:]
    return [[], *singles, *pairs, *seeded_combos]


def etag_increment(key: str, store: str = "statestore") -> Callable[[StateService], None]:
    """Another well-behaved writer that saves with the ETag it read and no concurrency option
    (Redis checks an ETag all the same). Unlike a first-write save, it leaves no sticky
    first-write flag, so a later save without an ETag overwrites it with a 204."""
    def act(service: StateService) -> None:
        current = service.get(store, key)
        value = 0 if current is None else json.loads(current.data.decode("utf-8"))
        etag = None if current is None else current.etag or None
        service.save(store, [SaveItem(key, value + 1, etag=etag)])
    return act


#: Each round of schedules: the counter's start (None: missing) and the other writer. A
#: missing key is raced by first-write creators, which makes Dapr's Redis store answer 500
#: to the loser (two creators without first-write would both succeed, on real Dapr too).
ROUNDS: tuple[tuple[int | None, Callable[[str], Callable[[StateService], None]]], ...] = (
    (10, etag_increment), (10, competing_increment), (None, competing_increment))


def _check_increment(fn: Callable[..., Any]) -> str:
    schedules = increment_cases(seed=5)
    case = 0
    for start, writer in ROUNDS:
        for points in schedules:
            writers = [Interference(p, writer("hits")) for p in points]
            with Lab(interference=writers) as lab:
                if start is not None:
                    lab.save("hits", start)
                lab.answer(case, fn, lab.client, "hits")
                happened = [p for p in points if p <= len(lab.requests)]
                expected = (start or 0) + 1 + len(happened)
                got = lab.value("hits")
                if got != expected:
                    raise CheckFailed(_increment_failure(lab, case, start, happened, got,
                                                         expected))
            case += 1
    return (f"no update lost on {case} schedules: another writer after each of your first 6 "
            "requests, after each pair of them and on seeded combinations, starting from a "
            "counter and from a missing key.")


def _increment_failure(lab: Lab, case: int, start: int | None, happened: list[int],
                       got: Any, expected: int) -> str:
    """What happened in one failed schedule: the start, where the other writer got in, the
    learner's requests with Dapr's answers, and what the counter holds."""
    before = f"the counter held {start}" if start is not None else "the key was missing"
    other = (f"another writer incremented it right after {your_requests(happened)}"
             if happened else "no other writer got in")
    writes = [answer.status for request, answer in zip(lab.requests, lab.answers, strict=False)
              if request.method != "GET"]
    if 204 not in writes:
        refused = f" (Dapr answered {writes[-1]} to your last save)" if writes else ""
        verdict = f"your function returned without saving its increment{refused}"
    elif isinstance(got, int) and got < expected:
        verdict = "a save that Dapr accepted overwrote the other writer's increment"
    else:
        verdict = "that is not one increment per writer"
    return (f"schedule {case}: {before}; {other}. Your requests and Dapr's answers: "
            f"{lab.transcript()}. The counter holds {got!r}, expected {expected}: {verdict}.")


register(Exercise(
    id="increment-with-retry", notebook="05-retry-on-conflict",
    title="Increment a counter without losing updates",
    task="""
    Write `increment(client, key)`: add 1 to the integer under `key` in `statestore` (a
    missing key counts as 0), safely while other writers do the same. Save with the ETag you
    read and first-write, and retry on conflicts: `409` when your ETag is stale, and `500`
    when the key was missing and another writer created it before your save.
    """,
    hints=("Read the value and its ETag, write value + 1 with that ETag and first-write.",
           "On 409 someone wrote in between: read again (fresh value, fresh ETag) and retry. A "
           "500 on a key that was missing means someone created it first: the same retry.",
           "while True: reply = get; etag = reply.headers.get('etag'); value = ...; save with "
           "etag and first-write; if 204: return; if 409 or 500: continue; else raise"),
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


#: The delays of one failure count are drawn from generators seeded 0..SEEDS-1.
SEEDS = 200


def _check_backoff(fn: Callable[..., Any]) -> str:
    for failures in range(12):
        ceiling = min(1000.0, 10.0 * 2 ** failures)
        delays = [_one_delay(fn, failures, seed, ceiling) for seed in range(SEEDS)]
        _judge_spread(failures, ceiling, delays)
    return (f"on {SEEDS} seeded generators per failure count (0 to 11), your delays repeat for "
            "the same seed, come from the generator you are given, stay within [0, "
            "min(1000, 10 * 2**failures)] ms and spread uniformly over it (full jitter).")


def _one_delay(fn: Callable[..., Any], failures: int, seed: int, ceiling: float) -> float:
    """The learner's delay for *failures* with a generator seeded *seed*, after checking that
    it is a number in range, drawn from that generator, and the same for the same seed."""
    rng = random.Random(seed)
    delay = run_answer(fn, failures, rng)
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise CheckFailed(f"backoff_ms({failures}, rng) returned {delay!r}: it must return a "
                          "number of milliseconds")
    if not 0 <= delay <= ceiling:
        raise CheckFailed(f"backoff_ms({failures}, rng) returned {delay:g} ms (rng seeded "
                          f"{seed}); after {failures} failure(s) a delay must lie in "
                          f"[0, {ceiling:g}] ms, the ceiling min(1000, 10 * 2**failures)")
    again = run_answer(fn, failures, random.Random(seed))
    if again != delay:
        raise CheckFailed(f"backoff_ms({failures}, rng) returned {delay:g} ms, then {_ms(again)} "
                          f"for a generator seeded the same ({seed}): draw from rng only "
                          "(not the global random module), so a seeded run repeats")
    if rng.getstate() == random.Random(seed).getstate():
        raise CheckFailed(f"backoff_ms({failures}, rng) returned {delay:g} ms without drawing "
                          "from rng (its state did not change): the jitter must come from the "
                          "generator you are given")
    return float(delay)


def _ms(delay: Any) -> str:
    """``12.5 ms`` for a number, its repr for anything else."""
    if isinstance(delay, (int, float)) and not isinstance(delay, bool):
        return f"{delay:g} ms"
    return repr(delay)


def _judge_spread(failures: int, ceiling: float, delays: list[float]) -> None:
    """Full jitter spreads the delays uniformly over [0, ceiling]: each quarter of the range
    gets about a quarter of them (a uniform draw of 200 puts 10% to 40% in each, on every
    seed set a right answer can meet)."""
    quarters = [0, 0, 0, 0]
    for delay in delays:
        quarters[min(3, int(4 * delay / ceiling))] += 1
    if all(SEEDS * 0.1 <= count <= SEEDS * 0.4 for count in quarters):
        return
    said = "/".join(str(count) for count in quarters)
    where = (f"after {failures} failure(s), your {SEEDS} delays fell {said} in the four "
             f"quarters of [0, {ceiling:g}] ms")
    if quarters[0] + quarters[1] == 0:
        why = (f"none was below {ceiling / 2:g} ms: that is equal jitter (half the ceiling "
               "plus a random half); full jitter draws from the whole range")
    elif (at_cap := delays.count(ceiling)) > SEEDS * 0.1:
        why = (f"{at_cap} were exactly {ceiling:g} ms: cap the ceiling, then draw below it, "
               "rather than capping a delay drawn from a larger range")
    elif quarters[3] == 0:
        why = (f"none reached the top quarter: the ceiling is 10 * 2**failures ms (here "
               f"{ceiling:g}), doubling with every failure up to 1000")
    else:
        why = "full jitter draws uniformly from the whole range, about a quarter in each"
    raise CheckFailed(f"{where}; {why}.")


register(Exercise(
    id="backoff-delays", notebook="05-retry-on-conflict",
    title="Exponential backoff with full jitter",
    task="""
    Write `backoff_ms(failures, rng)`: the delay before the next retry, in milliseconds (a
    float, or a whole number of milliseconds), drawn uniformly between 0 and
    min(1000, 10 * 2**failures) from `rng`, the `random.Random` generator you are given.
    """,
    hints=("The ceiling doubles with every failure, up to a cap.",
           "Full jitter: pick uniformly in [0, ceiling], not ceiling plus noise, and draw from "
           "`rng`, not from the `random` module, so a seeded run repeats.",
           "return rng.random() * min(1000, 10 * 2 ** failures)"),
    solution_code="""
    def backoff_ms(failures, rng):
        return rng.random() * min(1000.0, 10.0 * 2 ** failures)
    """,
    checker=_check_backoff))


def _check_sdk_increment(fn: Callable[..., Any]) -> str:
    from statelab.exercises.sdk_lab import SdkLab  # grpcio and the SDK: for this check only

    schedules = writer_schedules(seed=15)
    with SdkLab() as lab:
        for case, points in enumerate(schedules):
            lab.schedule([Interference(p, competing_increment("hits")) for p in points])
            lab.save("hits", 10)
            lab.answer(case, fn, lab.client, "hits")
            happened = [p for p in points if p <= len(lab.calls)]
            expected = 10 + 1 + len(happened)
            got = lab.value("hits")
            if got == expected:
                continue
            moments = ", ".join(f"your call {p}" for p in happened) or "none of your calls"
            saved = any(c.rpc == "SaveState" and c.status == "OK" for c in lab.calls)
            if not saved:
                verdict = "your function returned without saving its increment"
            elif isinstance(got, int) and got < expected:
                verdict = "an increment was lost"
            else:
                verdict = "that is not one increment per writer"
            raise CheckFailed(
                f"schedule {case}: another writer incremented the counter right after "
                f"{moments}. Your calls and Dapr's answers: {lab.transcript()}. The counter "
                f"holds {got!r}, expected {expected}: {verdict}.")
    return (f"no update lost on {len(schedules)} schedules with a competing writer after each "
            "of your calls.")


register(Exercise(
    id="sdk-increment-with-retry", notebook="05-retry-on-conflict",
    title="The retry loop with the Python SDK",
    task="""
    Write `increment(client, key)` with the official SDK: `client` is a
    `dapr.clients.DaprClient`. Add 1 to the integer stored (as JSON text) under `key` in
    `statestore`, safely while other writers do the same: read the value and its ETag,
    save value + 1 with that ETag and first-write, and retry when Dapr says the ETag is stale.
    """,
    hints=("`state = client.get_state('statestore', key)` gives `state.data` (bytes) and "
           "`state.etag`; `int(state.data)` is the counter.",
           "Save with `etag=state.etag, options=StateOptions(concurrency=Concurrency.first_write)`."
           " A stale ETag raises `DaprGrpcError` whose `.code()` is `grpc.StatusCode.ABORTED` "
           "(gRPC's 409).",
           "Loop: read, try the save, return on success; on ABORTED read again and retry; "
           "re-raise any other error."),
    solution_code="""
    import grpc
    from dapr.clients.exceptions import DaprGrpcError
    from dapr.clients.grpc._state import Concurrency, StateOptions

    def increment(client, key):
        while True:
            state = client.get_state("statestore", key)
            value = int(state.data) if state.data else 0
            try:
                client.save_state("statestore", key, str(value + 1), etag=state.etag,
                                  options=StateOptions(concurrency=Concurrency.first_write))
                return
            except DaprGrpcError as error:
                if error.code() != grpc.StatusCode.ABORTED:
                    raise  # not a conflict: a bug to fix, not to retry
    """,
    checker=_check_sdk_increment))


# -- an increment whose answer may be lost: a timeout is a question, not a failure --

#: The counter's shape in the timeout exercise: how many, and the ids of the latest increments.
TAGGED_START: dict[str, Any] = {"count": 10, "ops": ["op-1", "op-2"]}
#: How many ids a writer keeps in ``ops`` (the newest last).
KEPT_IDS = 20
#: The learner's increment's id in every schedule.
MY_OP = "op-mine"


def tagged_increment(key: str, op_id: str, store: str = "statestore"
                     ) -> Callable[[StateService], None]:
    """Another writer of the tagged counter: it reads, adds 1 to ``count``, appends *op_id* to
    ``ops`` and saves with the ETag it read and first-write (nothing runs in between, so its
    save succeeds). If the value lost its shape, it leaves it alone: the check says so."""
    def act(service: StateService) -> None:
        current = service.get(store, key)
        value = None if current is None else json.loads(current.data.decode("utf-8"))
        if not _is_tagged(value):
            return
        ops = [*value["ops"], op_id][-KEPT_IDS:]
        service.save(store, [SaveItem(key, {"count": value["count"] + 1, "ops": ops},
                                      etag=current.etag if current else None,
                                      concurrency="first-write")])
    return act


def _is_tagged(value: Any) -> TypeGuard[dict[str, Any]]:
    return (isinstance(value, dict) and isinstance(value.get("count"), int)
            and not isinstance(value["count"], bool) and isinstance(value.get("ops"), list))


def timeout_cases(seed: int, longest: int = 6, seeded: int = 12
                  ) -> list[tuple[list[Timeout], list[int]]]:
    """The timeout exercise's schedules, as (timeouts, points where another writer acts):
    no timeout; each of the learner's first *longest* requests timing out, handled or lost,
    alone and with another writer right after each of those requests; then *seeded* random
    ones with two timeouts and up to three writers."""
    points = range(1, longest + 1)
    cases: list[tuple[list[Timeout], list[int]]] = [([], [p]) for p in [0, *points]]
    cases[0] = ([], [])
    for at in points:
        for reached in (True, False):
            cases += [([Timeout(at, reached)], [p] if p else []) for p in [0, *points]]
    rng = random.Random(seed)
    for _ in range(seeded):
        first, second = sorted(rng.sample(range(1, 9), 2))
        timeouts = [Timeout(first, rng.random() < 0.5), Timeout(second, rng.random() < 0.5)]
        cases.append((timeouts, sorted(rng.sample(range(1, 11), rng.randint(0, 3)))))
    return cases


def _check_increment_after_timeout(fn: Callable[..., Any]) -> str:
    cases = timeout_cases(seed=12)
    for case, (timeouts, points) in enumerate(cases):
        others = [f"op-{n}" for n in range(3, 3 + len(points))]
        writers = [Interference(p, tagged_increment("hits", op))
                   for p, op in zip(points, others, strict=True)]
        with Lab(interference=writers, timeouts=timeouts) as lab:
            lab.save("hits", TAGGED_START)
            lab.answer(case, fn, lab.client, "hits", MY_OP)
            happened = [p for p in points if p <= len(lab.requests)]
            expected = int(TAGGED_START["count"]) + 1 + len(happened)
            ids = [*TAGGED_START["ops"], *others[:len(happened)], MY_OP]
            value = lab.value("hits")
            if (not _is_tagged(value) or value["count"] != expected
                    or _missing_ids(value["ops"], ids)):
                raise CheckFailed(_timeout_failure(lab, case, timeouts, happened, value,
                                                   expected, ids))
    return (f"exactly one increment on {len(cases)} schedules: each of your first 6 requests "
            "timing out after Dapr handled it and before it reached Dapr, alone and with "
            "another writer after each request, and seeded ones with two timeouts.")


def _missing_ids(ops: list[Any], ids: list[str]) -> list[str]:
    """The *ids* that are not in *ops* exactly once (fewer than 20 increments happen in a
    check, so none was trimmed)."""
    return [op for op in ids if ops.count(op) != 1]


def _timed_out(lab: Lab, timeout: Timeout) -> str:
    """``your request 2 timed out after Dapr answered 204 (the answer was lost)``, ``... before
    it reached Dapr``, or ``your request 1, a read, timed out``."""
    if lab.requests[timeout.at - 1].method == "GET":
        return f"your request {timeout.at}, a read, timed out"
    if timeout.reached:
        return (f"your request {timeout.at} timed out after Dapr answered "
                f"{lab.answers[timeout.at - 1].status} (the answer was lost)")
    return timeout.describe()


def _timeout_failure(lab: Lab, case: int, timeouts: list[Timeout], happened: list[int],
                     value: Any, expected: int, ids: list[str]) -> str:
    """What happened in one failed schedule: which request timed out (handled or lost), where
    the other writer got in, the learner's requests with Dapr's answers, and the counter."""
    said = " and ".join(_timed_out(lab, t) for t in timeouts if t.at <= len(lab.requests)
                        ) or "none of your requests timed out"
    other = (f"another writer incremented the counter right after {your_requests(happened)}"
             if happened else "no other writer got in")
    head = (f"schedule {case}: {said}; {other}. Your requests and Dapr's answers: "
            f"{lab.transcript()}.")
    if not _is_tagged(value):
        return (f"{head} 'hits' holds {value!r}: keep the counter as {{\"count\": n, \"ops\": "
                "[...]}, adding 1 to count and your op_id to ops.")
    applied = sum(1 for request, answer in zip(lab.requests, lab.answers, strict=False)
                  if request.method != "GET" and answer.status == 204)
    got = value["count"]
    if got > expected:
        times = {2: "twice", 3: "three times"}.get(got - expected + 1, "more than once")
        verdict = (f"Dapr applied {applied} of your saves, so your one increment counted "
                   f"{times}" if applied > 1 else "that is more than one increment per writer")
    elif got < expected and applied == 0:
        verdict = "Dapr applied none of your saves: your increment was lost"
    elif got < expected:
        verdict = "a save that Dapr accepted overwrote another writer's increment"
    elif MY_OP in (missing := _missing_ids(value["ops"], ids)):
        return (f"{head} The count is right ({got}), but ops holds {value['ops']!r}, not your "
                f"op_id {MY_OP!r} once: after a timeout, that id is what tells you whether "
                "your save landed.")
    else:
        return (f"{head} The count is right ({got}), but ops holds {value['ops']!r}, without "
                f"the ids {', '.join(map(repr, missing))} of other increments: a writer whose "
                "save times out looks for its id there.")
    return f"{head} The count is {got}, expected {expected}: {verdict}."


register(Exercise(
    id="increment-after-timeout", notebook="05-retry-on-conflict",
    title="Increment exactly once when a save times out",
    task="""
    Write `increment(client, key, op_id)`. The counter under `key` in `statestore` is
    `{"count": n, "ops": [...]}`: `ops` holds the ids of the latest increments (writers keep
    the last 20). Add 1 to `count` and append `op_id` to `ops`, exactly once, while other
    writers do the same. Any of your requests may time out: `client` raises
    `httpx.ReadTimeout`, and a save that timed out may or may not have been applied. Find out
    which before you retry, so the increment is neither lost nor applied twice.
    """,
    hints=("A read that timed out changed nothing. A save that timed out may have landed: "
           "the store applied it and only the answer was lost.",
           "After a timeout, read again. If `op_id` is in `ops`, your save landed: stop. If it "
           "is not, it did not land: save again with the fresh ETag. (A moved ETag proves "
           "nothing: another writer's save moves it too.)",
           "Loop: read; if op_id in ops: return; save count + 1 and (ops + [op_id])[-20:] with "
           "the ETag and first-write; on 204 return; on 409 or httpx.TimeoutException go round "
           "again; raise on anything else."),
    solution_code="""
    import httpx

    def increment(client, key, op_id):
        while True:
            try:
                reply = client.get(f"/v1.0/state/statestore/{key}")
                counter = reply.json()
                if op_id in counter["ops"]:
                    return  # an earlier save landed; only its answer was lost
                saved = client.post("/v1.0/state/statestore", json=[{
                    "key": key, "etag": reply.headers["etag"],
                    "value": {"count": counter["count"] + 1,
                              "ops": (counter["ops"] + [op_id])[-20:]},
                    "options": {"concurrency": "first-write"}}])
            except httpx.TimeoutException:
                continue  # landed or not: the next read tells
            if saved.status_code == 204:
                return
            if saved.status_code != 409:
                saved.raise_for_status()
    """,
    checker=_check_increment_after_timeout))
