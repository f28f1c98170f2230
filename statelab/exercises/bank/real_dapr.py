"""Notebook 08's exercises: fix the Dapr 1.4 how-to's save and delete.

The checks look at the requests as sent (the body's options, the If-Match header, the query
string), not only at the stored result, because daprd silently ignores some of the how-to's
mistakes (options sent as headers) and a correct-looking result would hide them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Lab


def _check_fixed_save(fn: Callable[..., Any]) -> str:
    with Lab() as lab:
        run_answer(fn, lab.client)
        if lab.value("key1") != "Some Data":
            raise CheckFailed("after save_state(client), key1 should hold 'Some Data'")
        post = next(r for r in lab.requests if r.method == "POST")
        if b'"consistency"' not in post.content or b"strong" not in post.content:
            raise CheckFailed("keep the how-to's intent: ask for strong consistency in the "
                              "item's options")
    return "the how-to's save now sends a real JSON array and is accepted."


register(Exercise(
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
    with Lab() as lab:
        lab.save("key1", "Some Data")
        lab.save("key1", "New Data")
        run_answer(fn, lab.client, "key1")
        if lab.value("key1") is not None:
            raise CheckFailed("key1 still exists: the delete did not go through")
        delete = [r for r in lab.requests if r.method == "DELETE"]
        if not delete or "if-match" not in delete[-1].headers:
            raise CheckFailed("send the ETag in an If-Match header, so the delete fails if "
                              "someone changed the key")
        if delete[-1].url.params.get("concurrency") != "first-write":
            raise CheckFailed("ask for first-write concurrency with the query parameter "
                              "?concurrency=first-write (headers named concurrency are ignored)")
    return "deleted with a fresh ETag in If-Match and first-write as a query parameter."


register(Exercise(
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
