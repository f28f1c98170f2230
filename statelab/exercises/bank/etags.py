"""Notebook 04's exercises: update only with the current ETag; create a key only if absent.

Both run on the Redis store on purpose: its rules (an ETag on a missing key is ignored,
first-write without an ETag overwrites) are the ones the learner meets with ``dapr init``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Lab


def _check_update_if_unchanged(fn: Callable[..., Any]) -> str:
    with Lab() as lab:
        lab.save("profile", {"name": "Ada"})
        fresh = lab.etag("profile")
        if run_answer(fn, lab.client, "profile", {"name": "Ada L."}, fresh) is not True:
            raise CheckFailed("with the current ETag the update should succeed and return True")
        if lab.value("profile") != {"name": "Ada L."}:
            raise CheckFailed("it returned True but the stored profile did not change")
        stale = fresh
        if run_answer(fn, lab.client, "profile", {"name": "Bob"}, stale) is not False:
            raise CheckFailed("with a stale ETag Dapr answers 409 Conflict: return False")
        if lab.value("profile") != {"name": "Ada L."}:
            raise CheckFailed("a stale ETag must not change the stored value")
        body = lab.requests[-1].content
        if b"first-write" not in body:
            raise CheckFailed("send options {'concurrency': 'first-write'} so the intent is "
                              "explicit (and the ETag is honoured even if a default changes)")
    return "current ETags update, stale ones get 409 and change nothing."


register(Exercise(
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
    with Lab() as lab:
        if run_answer(fn, lab.client, "seat-1", "Ada") is not True:
            raise CheckFailed("the key did not exist, so it should be created and return True")
        if lab.value("seat-1") != "Ada":
            raise CheckFailed("it returned True but seat-1 does not hold 'Ada'")
        if run_answer(fn, lab.client, "seat-1", "Bob") is not False:
            raise CheckFailed("seat-1 already exists: return False and leave it alone")
        lab.save("seat-2", "Cy")  # created by someone else, without first-write
        if run_answer(fn, lab.client, "seat-2", "Dee") is not False or lab.value("seat-2") != "Cy":
            raise CheckFailed("seat-2 was created by a plain save (no first-write flag); your "
                              "save overwrote it. On Redis, first-write without an ETag "
                              "overwrites such a key (spec S6)")
    return "missing keys are created, existing ones (with or without the flag) are kept."


register(Exercise(
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
