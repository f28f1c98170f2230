"""Notebook 04's exercises: update only with the current ETag; create a key only if absent.

Both run on the Redis store on purpose: its rules are the ones the learner meets with
``dapr init``, and they are where a plausible answer goes wrong. An ETag sent with
``last-write`` is ignored on a key that carries no first-write flag (spec S10); a first-write
save without an ETag overwrites such a key (S6); an ETag of ``""`` or ``"0"`` counts as none
(S11, S12). So the other writers here save with plain saves, which set no flag, and that is the
schedule where such an answer overwrites.

The checkers judge what Dapr stored and answered. In each schedule another writer acts once:
before the learner's function runs, or right after each single one of its first requests
(every gap a right answer has). Whether the learner's value was stored before the other writer
acted, after it (a lost update), or never, decides what the function must return. A last
schedule runs on a sidecar without the store ``statestore``: every request gets an error, and
the function must raise instead of reporting a conflict (or a success) that did not happen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import (
    CheckFailed,
    Exercise,
    RequestBudgetExceeded,
    register,
    run_answer,
)
from statelab.exercises.lab import Interference, Lab
from statelab.stores.redis.model import RedisModelStore

#: Right after which of the learner's requests the other writer acts, one at a time.
POINTS = (1, 2, 3, 4)


@dataclass
class OtherWriter:
    """Another client saving *value* under *key*, well behaved and without first-write: with
    the ETag it has just read (nothing runs in between, so Dapr accepts it, even once the
    learner's first-write save has set Redis's sticky flag), or with a plain save if the key is
    missing. It never sets the flag, so a learner's ETag sent with last-write stays ignored.

    With *only_if_absent* it is another creator: it saves only if the key is missing. It
    records what the key held when it acted, which tells whether the learner's value was
    stored before it."""

    key: str
    value: Any
    only_if_absent: bool = False
    acted: bool = False
    wrote: bool = False
    found: Any = None

    def __call__(self, service: StateService) -> None:
        current = service.get("statestore", self.key)
        self.acted = True
        self.found = None if current is None else json.loads(current.data)
        if self.only_if_absent and current is not None:
            return
        etag = None if current is None else current.etag
        service.save("statestore", [SaveItem(self.key, self.value, etag=etag)])
        self.wrote = True


@dataclass
class Outcome:
    """One schedule, run: what the function returned and what Dapr stored."""

    where: str
    returned: Any
    final: Any
    said: str


def _run(fn: Callable[..., Any], lab: Lab, where: str, *args: Any) -> Outcome:
    try:
        returned = run_answer(fn, lab.client, *args)
    except CheckFailed as failure:
        raise CheckFailed(f"{where}: {str(failure).splitlines()[0].rstrip('.')}. Your requests "
                          f"and Dapr's answers: {lab.transcript()}.") from None
    return Outcome(where, returned, lab.value(args[0]),
                   f"Your requests and Dapr's answers: {lab.transcript()}.")


def _judge(run: Outcome, key: str, mine: Any, other: OtherWriter, *, stale: bool) -> None:
    """The learner's value *mine* must be stored unless the other writer got in first
    (*stale*: before the function ran; or it wrote between the learner's requests), must never
    replace the other writer's value, and the function must say which happened."""
    # The other writer never writes the learner's value: if the key ends with it after the
    # other writer's save, the learner's save came later and replaced theirs.
    overwrote = (stale or other.wrote) and run.final == mine
    if overwrote:
        raise CheckFailed(f"{run.where}. {run.said} {key!r} now holds {mine!r}: your save "
                          f"(answered 204) replaced the other writer's {other.value!r}, so "
                          "their update is lost.")
    saved = run.final == mine or (other.acted and other.found == mine)
    if not saved and not stale and not other.wrote:
        held = "is still missing" if run.final is None else f"still holds {run.final!r}"
        raise CheckFailed(f"{run.where}. {run.said} {key!r} {held}: nothing was saved, and "
                          f"your function returned {run.returned!r}.")
    if saved and run.returned is not True:
        raise CheckFailed(f"{run.where}. {run.said} Your value was saved, but your function "
                          f"returned {run.returned!r} instead of True.")
    if not saved and run.returned is not False:
        raise CheckFailed(f"{run.where}. {run.said} {key!r} holds {run.final!r}: your value "
                          f"was not saved, but your function returned {run.returned!r} "
                          "instead of False.")


def _expect_error(fn: Callable[..., Any], case: int, *args: Any) -> None:
    """On a sidecar without ``statestore`` every request is refused: the function must raise."""
    where = (f"schedule {case}: the sidecar has no store named statestore (its component did "
             "not load)")
    with Lab([Component.around(RedisModelStore(), name="cache")]) as lab:
        try:
            returned = fn(lab.client, *args)
        except RequestBudgetExceeded as budget:
            raise CheckFailed(f"{where}: {budget} Your requests and Dapr's answers: "
                              f"{lab.transcript()}.") from None
        except Exception:  # noqa: BLE001 - raising is the right answer here
            return
        claim = "a save" if returned is True else "a conflict" if returned is False else None
        outcome = f", reporting {claim} that did not happen" if claim else " instead of raising"
        raise CheckFailed(f"{where}. Your requests and Dapr's answers: {lab.transcript()}. "
                          f"Your function returned {returned!r}{outcome}: let an error other "
                          "than 409 raise.")


def _schedules() -> list[tuple[str, int | None]]:
    """(when the other writer acts, the request it acts after; None: before the call)."""
    return [("before your function ran", None),
            *[(f"right after your request {point}", point) for point in POINTS]]


# -- update-if-unchanged --------------------------------------------------------------------

KEY = "profile"
FIRST = {"name": "Ada"}
MINE = {"name": "Ada L."}
THEIRS = {"name": "Bob"}


def _check_update_if_unchanged(fn: Callable[..., Any]) -> str:
    with Lab() as lab:
        lab.save(KEY, FIRST)
        etag = lab.etag(KEY)
        run = _run(fn, lab, f"schedule 0: nobody else wrote, so etag {etag!r} was current",
                   KEY, MINE, etag)
        _judge(run, KEY, MINE, OtherWriter(KEY, THEIRS), stale=False)
    for case, (when, point) in enumerate(_schedules(), 1):
        other = OtherWriter(KEY, THEIRS)
        steps = [] if point is None else [Interference(point, other)]
        with Lab(interference=steps) as lab:
            lab.save(KEY, FIRST)
            etag = lab.etag(KEY)
            if point is None:
                other(lab.service)
            where = (f"schedule {case}: another writer saved {THEIRS!r} {when}, so etag "
                     f"{etag!r} " + ("was stale" if point is None else "then became stale"))
            run = _run(fn, lab, where, KEY, MINE, etag)
            _judge(run, KEY, MINE, other, stale=point is None)
    _expect_error(fn, len(POINTS) + 2, KEY, MINE, "1")
    return ("with the current ETag your update is saved (True); when another writer got in "
            "first, before your call or between your requests, nothing of theirs is "
            "overwritten (False); errors other than 409 are raised.")


register(Exercise(
    id="update-if-unchanged", notebook="04-use-etags",
    title="Update only if nobody else did",
    task="""
    Write `update_if_unchanged(client, key, value, etag)`: save `value` only if the item still
    has `etag`, with first-write concurrency. Return True when saved, False on a conflict
    (409), and raise on any other error.
    """,
    hints=("On a save, the ETag goes in the item's body as 'etag' (not in a header).",
           "Add 'options': {'concurrency': 'first-write'}: with 'last-write' Redis ignores the "
           "ETag and overwrites. A conflict is status 409.",
           "reply = client.post(url, json=[{...}]); if reply.status_code == 409: return False; "
           "reply.raise_for_status(); return True"),
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


# -- create-if-absent -----------------------------------------------------------------------

SEAT = "seat-1"


def _check_create_if_absent(fn: Callable[..., Any]) -> str:
    case = 0
    with Lab() as lab:
        run = _run(fn, lab, f"schedule 0: nobody else created {SEAT}", SEAT, "Dee")
        _judge(run, SEAT, "Dee", OtherWriter(SEAT, "Cy", only_if_absent=True), stale=False)
    for flag in (False, True):
        case += 1
        with Lab() as lab:
            how = "first-write" if flag else "a plain save (no first-write flag)"
            lab.service.save("statestore", [SaveItem(
                SEAT, "Cy", concurrency="first-write" if flag else "")])
            where = f"schedule {case}: {SEAT} already held 'Cy', saved by another writer with {how}"
            run = _run(fn, lab, where, SEAT, "Dee")
            _judge(run, SEAT, "Dee", OtherWriter(SEAT, "Cy"), stale=True)
    for point in POINTS:
        case += 1
        other = OtherWriter(SEAT, "Cy", only_if_absent=True)
        with Lab(interference=[Interference(point, other)]) as lab:
            where = (f"schedule {case}: another writer created {SEAT} with 'Cy' (a plain save, "
                     f"if it was still missing) right after your request {point}")
            run = _run(fn, lab, where, SEAT, "Dee")
            _judge(run, SEAT, "Dee", other, stale=False)
    _expect_error(fn, case + 1, SEAT, "Dee")
    return ("a missing key is created (True); a key that exists, whoever created it and "
            "however, or that another writer creates between your requests, is left alone "
            "(False); errors other than 409 are raised.")


register(Exercise(
    id="create-if-absent", notebook="04-use-etags",
    title="Create a key only if it does not exist",
    task="""
    On the Redis store, write `create_if_absent(client, key, value)`: create the key and
    return True, or return False (changing nothing) if it already exists, whoever created it.
    Another writer may create it at any moment, even between two of your requests. Raise on
    any error other than a conflict.
    """,
    hints=("first-write without an ETag is not enough on Redis: try it on a key saved without "
           "first-write.",
           "Reading first (204: missing) and then saving is not enough either: someone may "
           "create the key between your read and your save. On Redis, an ETag sent for a key "
           "that does not exist is ignored (S3), but for an existing key it must match.",
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
