"""Notebook 02's exercises: save an order and read it back; a missing counter reads as 0.

Each case runs in a fresh lab, so a learner's earlier mistake cannot make a later case pass.
The order ids include one with a slash, because that is where a hand-built URL goes wrong
against daprd (404 ``ERR_DIRECT_INVOKE``) and the message has to say why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.exercises.lab import Lab


def _check_save_and_read(fn: Callable[..., Any]) -> str:
    cases = [("1", {"item": "tea", "qty": 2}), ("42", {"item": "cake", "qty": 1, "note": "é"}),
             ("2024/07", {"item": "jam", "qty": 3})]
    for order_id, order in cases:
        with Lab() as lab:
            returned = run_answer(fn, lab.client, order_id, order)
            stored = lab.value(f"order-{order_id}")
            if stored is None:
                slash = " (a key with a slash must travel as %2F: quote it)" if "/" in order_id \
                    else ""
                raise CheckFailed(f"after save_order(client, {order_id!r}, ...) nothing is "
                                  f"stored under the key 'order-{order_id}'{slash}")
            if stored != order:
                raise CheckFailed(f"the key 'order-{order_id}' holds {stored!r}, "
                                  f"expected {order!r}")
            if returned != order:
                if isinstance(returned, dict) and returned.get("errorCode") == "ERR_DIRECT_INVOKE":
                    raise CheckFailed(f"reading 'order-{order_id}' answered 404 "
                                      "ERR_DIRECT_INVOKE: a key with a slash must travel as "
                                      "%2F, so quote it")
                raise CheckFailed(f"save_order returned {returned!r}; it should return the value "
                                  "read back from Dapr")
    return "orders are saved under order-<id> and read back, slashes in ids included."


register(Exercise(
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
    with Lab() as lab:
        lab.save("visits", 5)
        lab.save("zero", 0)
        for key, expected in (("visits", 5), ("zero", 0), ("never-saved", 0)):
            got = run_answer(fn, lab.client, key)
            if got != expected:
                why = " (a missing key answers 204 with an empty body)" \
                    if key == "never-saved" else ""
                raise CheckFailed(f"read_counter(client, {key!r}) returned {got!r}, expected "
                                  f"{expected}{why}")
    return "stored counters are read and a missing key counts as 0."


register(Exercise(
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
