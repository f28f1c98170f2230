"""Notebook 05's exercises: an increment that retries on conflict (with httpx, then with the
official SDK's ``DaprClient``), and backoff with jitter.

The competing writers act after seeded request numbers, so a failing schedule is reported by
its number and the moments the other writer got in, and happens again on the next check.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Interference, Lab, competing_increment


def _check_increment(fn: Callable[..., Any]) -> str:
    rng = random.Random(5)
    for case in range(8):
        # After the learner's 1st, 3rd, ... request a competitor may increment the counter.
        points = sorted(rng.sample(range(1, 12), rng.randint(0, 4)))
        writers = [Interference(p, competing_increment("hits")) for p in points]
        with Lab(interference=writers) as lab:
            lab.save("hits", 10)
            run_answer(fn, lab.client, "hits")
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
    return "no update lost on 8 seeded schedules with competing writers."


register(Exercise(
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
        delays = [run_answer(fn, failures, random.Random(seed)) for seed in range(200)]
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


register(Exercise(
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


def increment_schedules(seed: int, longest: int = 6, seeded: int = 6) -> list[list[int]]:
    """Where competing writers act: after each single one of the learner's first *longest*
    calls (every gap a right answer has, exhaustively), then *seeded* random combinations."""
    rng = random.Random(seed)
    singles = [[point] for point in range(1, longest + 1)]
    combos = [sorted(rng.sample(range(1, 12), rng.randint(2, 4))) for _ in range(seeded)]
    return [[], *singles, *combos]


def _check_sdk_increment(fn: Callable[..., Any]) -> str:
    from statelab.exercises.sdk_lab import SdkLab  # grpcio and the SDK: for this check only

    schedules = increment_schedules(seed=15)
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
