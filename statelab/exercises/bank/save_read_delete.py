"""Notebook 02's exercises: save an order and read it back; a missing counter reads as 0.

The checkers judge what Dapr stored and answered, never the shape of a request:

- *save-and-read* must return the order as Dapr gives it back. The Redis store writes floats
  with 6 decimals, so an answer that returns what it sent (and never reads) fails; and another
  writer (the kitchen) changes the order right after each single one of the learner's
  requests, so the value returned must be one that Dapr answered to a read made after the
  learner's save was stored. Order ids include a ``/`` and a ``+``, which a hand-built URL
  gets wrong (404 ``ERR_DIRECT_INVOKE``; a ``+`` in a path reaches Dapr as a space).
- *read-or-default* must tell Dapr's three answers apart: 200 with the value, 204 for a missing
  key (0), and an error, which is not a missing key: when Redis cannot be reached Dapr answers
  500, and an answer that turns every non-200 into 0 says "0" for a counter that holds 7.

Each case runs in a fresh lab, so a learner's earlier mistake cannot make a later case pass,
and each message quotes that case's requests and Dapr's answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService, original_key
from statelab.exercises.framework import (
    CheckFailed,
    Exercise,
    RequestBudgetExceeded,
    register,
    run_answer,
)
from statelab.exercises.lab import MAX_REQUESTS, Interference, Lab
from statelab.stores.base import GetResult, StoreError
from statelab.stores.redis.model import RedisModelStore

STATE = "/v1.0/state/statestore"

#: Orders saved without interference: the float is rounded by Dapr's Redis store, the last
#: two ids need quoting in a URL.
ORDERS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("1", {"item": "tea", "qty": 2}),
    ("42", {"item": "cake", "qty": 1, "note": "crème", "price": 4.1666667}),
    ("2024/07", {"item": "jam", "qty": 3}),
    ("7+1", {"item": "scone", "qty": 8}),
)
#: The order the kitchen changes, and what it changes it to.
RACED = ("99", {"item": "soup", "qty": 1})
COOKING = {"item": "soup", "qty": 1, "status": "cooking"}


def as_stored(value: Any) -> Any:
    """*value* as Dapr's Redis store keeps it: saved over HTTP in a scratch lab, decoded."""
    with Lab() as scratch:
        scratch.client.post(STATE, json=[{"key": "k", "value": value}]).raise_for_status()
        return scratch.value("k")


def _read_back(lab: Lab, key: str, after: int) -> list[Any]:
    """The values Dapr answered for *key* (a GET's body, a bulk read's ``data``) to the
    learner's requests after the first *after* ones."""
    said: list[Any] = []
    for answer in lab.answers[after:]:
        if answer.status != 200:
            continue
        try:
            body = json.loads(answer.body)
        except ValueError:
            continue
        if isinstance(body, list) and all(isinstance(item, dict) for item in body):
            said += [item["data"] for item in body if item.get("key") == key and "data" in item]
        else:
            said.append(body)
    return said


def _differences(returned: Any, stored: Any) -> str:
    """`` (price 4.1666667 is stored as 4.166667)``: the fields that differ, if both are dicts."""
    if not isinstance(returned, dict) or not isinstance(stored, dict):
        return ""
    changed = [f"{name} {returned[name]!r} is stored as {stored[name]!r}" for name in returned
               if name in stored and returned[name] != stored[name]]
    changed += [f"{name} is {stored[name]!r}" for name in stored if name not in returned]
    return f" ({'; '.join(changed)})" if changed else ""


def _first_line(failure: CheckFailed) -> str:
    """A failure's first line, without its final full stop (httpx adds a line with a link)."""
    return str(failure).splitlines()[0].rstrip(".")


def _quoting(lab: Lab) -> str:
    """Why a read of a key with ``/`` or ``+`` went wrong, from the learner's own requests."""
    for request, answer in zip(lab.requests, lab.answers, strict=False):
        path = request.url.raw_path.split(b"?", 1)[0]
        if request.method == "GET" and path.startswith(STATE.encode()):
            if answer.status == 404 and path.count(b"/") > 4:
                return (" (a literal / in the URL made Dapr answer 404 ERR_DIRECT_INVOKE: a key "
                        "with a slash must travel as %2F, so quote it)")
            if b"+" in path:
                return (" (a + in a URL path reaches Dapr as a space, so it read another key: "
                        "quote the key)")
    return ""


def _run_order(fn: Callable[..., Any], case: int, order_id: str, order: dict[str, Any],
               kitchen_after: int | None = None) -> None:
    key = f"order-{order_id}"
    expected = as_stored(order)
    stored_after: list[Any] = []  # the stored value after each request, before the kitchen

    def probe(service: StateService) -> None:
        found = service.get("statestore", key)
        stored_after.append(None if found is None else json.loads(found.data))

    def kitchen(service: StateService) -> None:
        service.save("statestore", [SaveItem(key, COOKING)])

    steps = [Interference(n, probe) for n in range(1, MAX_REQUESTS + 1)]
    if kitchen_after is not None:
        steps.append(Interference(kitchen_after, kitchen))
    with Lab(interference=steps) as lab:
        where = f"order {order_id!r}" if kitchen_after is None else (
            f"schedule {case}: the kitchen saved {COOKING!r} under {key!r} right after your "
            f"request {kitchen_after}")
        try:
            returned = run_answer(fn, lab.client, order_id, order)
        except CheckFailed as failure:
            raise CheckFailed(f"{where}: {_first_line(failure)}{_quoting(lab)}. Your "
                              f"requests and Dapr's answers: {lab.transcript()}.") from None
        said = f"Your requests and Dapr's answers: {lab.transcript()}."
        landed = next((n for n, value in enumerate(stored_after, 1) if value == expected), None)
        if landed is None:
            stored = lab.value(key)
            if stored is None and not lab.requests:
                raise CheckFailed(f"after save_order(client, {order_id!r}, ...) nothing is "
                                  f"stored under the key {key!r}")
            if stored is None:
                raise CheckFailed(f"{where}: nothing is stored under the key {key!r}"
                                  f"{_quoting(lab)}. {said}")
            text = " (a string: send the dict itself as the value)" \
                if isinstance(stored, str) else ""
            raise CheckFailed(f"{where}: the key {key!r} holds {stored!r}{text}, expected "
                              f"{expected!r}. {said}")
        read = _read_back(lab, key, landed)
        # What a read after the save answered, or (nothing could tell them apart) the value
        # stored when the function returned.
        if any(returned == value for value in read) or returned == lab.value(key):
            return
        _explain_return(where, key, returned, order, read, lab, said, landed)


def _explain_return(where: str, key: str, returned: Any, sent: Any, read: list[Any],
                    lab: Lab, said: str, landed: int) -> None:
    if isinstance(returned, dict) and "errorCode" in returned:
        raise CheckFailed(f"{where}: save_order returned Dapr's error answer {returned!r}"
                          f"{_quoting(lab)}. {said}")
    if isinstance(returned, (str, bytes)) and any(
            returned in (a.body, a.body.decode("utf-8", "replace")) for a in lab.answers):
        raise CheckFailed(f"{where}: save_order returned the body's text {returned!r}; return "
                          f"the decoded value (reply.json()). {said}")
    stored = lab.value(key)
    if not read and any(answer.status >= 300 for answer in lab.answers[landed:]):
        raise CheckFailed(f"{where}: save_order returned {returned!r}, but no read of {key!r} "
                          f"after the save was answered with a value{_quoting(lab)}, and Dapr's "
                          f"store holds {stored!r}. {said}")
    if not read:
        origin = ", what it sent," if returned == sent else ""
        raise CheckFailed(f"{where}: save_order returned {returned!r}{origin} without reading "
                          f"{key!r} back after saving it, but Dapr's store holds {stored!r}"
                          f"{_differences(returned, stored)}. {said}")
    raise CheckFailed(f"{where}: save_order returned {returned!r}, but Dapr answered "
                      f"{read[-1]!r} when you read {key!r} back{_differences(returned, read[-1])}"
                      f". {said}")


def _check_save_and_read(fn: Callable[..., Any]) -> str:
    for case, (order_id, order) in enumerate(ORDERS):
        _run_order(fn, case, order_id, order)
    for point in range(1, 5):
        _run_order(fn, len(ORDERS) + point - 1, *RACED, kitchen_after=point)
    return ("orders are saved under order-<id> and you return what Dapr reads back (rounded "
            "floats, ids with / and + included), even when the kitchen changes the order "
            "right after any of your first 4 requests.")


register(Exercise(
    id="save-and-read", notebook="02-save-read-delete", title="Save an order and read it back",
    task="""
    Write `save_order(client, order_id, order)`. It saves the dict `order` under the key
    `order-<order_id>` in the store `statestore`, then reads it back and returns what Dapr
    answered. `client` is an `httpx.Client` whose base URL is the sidecar's.
    """,
    hints=("A save is a POST to /v1.0/state/statestore whose body is a JSON array of "
           "{key, value} items; a read is a GET of /v1.0/state/statestore/<key>.",
           "Order ids may contain a slash or a plus. In the URL, a key must be one path "
           "segment: use urllib.parse.quote(key, safe='') so '/' travels as %2F and '+' as "
           "%2B. And return what the read answered, not what you sent: Redis rounds floats.",
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
        reply.raise_for_status()
        return reply.json()
    """,
    checker=_check_save_and_read))


# -- read-or-default ------------------------------------------------------------------------

#: What go-redis says when Redis cannot be reached; daprd puts it in its ERR_STATE_GET answer.
UNREACHABLE = "dial tcp 127.0.0.1:6379: connect: connection refused"


class UnreachableRedis(RedisModelStore):
    """The Redis model store, except that reading the keys in :attr:`down` fails as when Redis
    cannot be reached: daprd then answers 500 ``ERR_STATE_GET``, never 204."""

    def __init__(self, down: set[str]) -> None:
        super().__init__()
        #: Keys as the learner names them (without Dapr's ``appid||`` prefix).
        self.down = down

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        if original_key(key) in self.down:
            raise StoreError(UNREACHABLE)
        return super().get(key, metadata, consistency)


#: (key, stored value or None for missing, whether Redis is unreachable for it)
COUNTERS: tuple[tuple[str, int | None, bool], ...] = (
    ("visits", 5, False), ("zero", 0, False), ("never-saved", None, False),
    ("visits/2024-07", 12, False), ("orders", 7, True))


def _check_read_or_default(fn: Callable[..., Any]) -> str:
    for key, stored, down in COUNTERS:
        store = UnreachableRedis({key} if down else set())
        with Lab([Component.around(store)]) as lab:
            if stored is not None:
                lab.save(key, stored)
            call = f"read_counter(client, {key!r})"
            if down:
                _expect_error(fn, lab, key, stored, call)
                continue
            try:
                got = run_answer(fn, lab.client, key)
            except CheckFailed as failure:
                raise CheckFailed(f"{call}: {_first_line(failure)}{_quoting(lab)}. Your "
                                  f"requests and Dapr's answers: {lab.transcript()}.") from None
            expected = 0 if stored is None else stored
            if got == expected and isinstance(got, int):
                continue
            why = " (a missing key answers 204 with an empty body)" if stored is None else ""
            said = "" if not lab.requests and got is None else (
                f"{_quoting(lab)}. Your requests and Dapr's answers: {lab.transcript()}.")
            raise CheckFailed(f"{call} returned {got!r}, expected {expected}{why}{said}")
    return ("stored counters are read (a key with a slash included), a missing key (204) "
            "counts as 0, and an error answer is raised, not taken for a missing key.")


def _expect_error(fn: Callable[..., Any], lab: Lab, key: str, stored: int | None,
                  call: str) -> None:
    """Redis is unreachable for *key*: any exception is right, a number is not."""
    try:
        got = fn(lab.client, key)
    except RequestBudgetExceeded as budget:
        raise CheckFailed(f"{call}: {budget} Your requests and Dapr's answers: "
                          f"{lab.transcript()}.") from None
    except Exception:  # noqa: BLE001 - raising is the right answer here
        return
    errors = [f"{a.status} {json.loads(a.body).get('errorCode')}" for a in lab.answers
              if a.status >= 400 and a.body.startswith(b"{")]
    answered = f"Dapr answered {errors[0]} (Redis could not be reached), not 204, and" \
        if errors else "Redis could not be reached, yet"
    raise CheckFailed(f"{call} returned {got!r}, but {answered} the counter still holds "
                      f"{stored}. Your requests and Dapr's answers: {lab.transcript()}. Only "
                      "a 204 means missing: let an error answer raise "
                      "(reply.raise_for_status()).")


register(Exercise(
    id="read-or-default", notebook="02-save-read-delete", title="Read a counter, 0 if missing",
    task="""
    Write `read_counter(client, key)`: return the integer stored under `key` in `statestore`,
    or `0` when the key does not exist. If Dapr answers an error, raise: a failed read is not
    a missing key.
    """,
    hints=("What status does Dapr answer for a key that was never saved? And for a read that "
           "failed?",
           "A missing key gives 204 No Content with an empty body, so reply.json() would fail. "
           "An error (404, 500) is not a missing key: raise it. Keys may contain a slash: "
           "quote(key, safe='').",
           "reply = client.get(...); if reply.status_code == 204: return 0; "
           "reply.raise_for_status(); return reply.json()"),
    solution_code="""
    from urllib.parse import quote

    def read_counter(client, key):
        reply = client.get(f"/v1.0/state/statestore/{quote(key, safe='')}")
        if reply.status_code == 204:
            return 0
        reply.raise_for_status()
        return reply.json()
    """,
    checker=_check_read_or_default))
