"""Notebook 02's exercises: save and read an order, a missing counter reads as 0.

Known-wrong answers fail with a message that says what happened; right answers written
differently from the reference pass."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from statelab.exercises.bank.save_read_delete import as_stored
from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.save_read_delete"
IDS = ["save-and-read", "read-or-default"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"02-save-read-delete"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


def check_passes(exercise_id: str, answer: Any) -> None:
    result = exercise(exercise_id).check(answer)
    assert result.passed, result.message


STATE = "/v1.0/state/statestore"


def test_the_redis_store_rounds_the_float_the_check_relies_on() -> None:
    assert as_stored({"price": 4.1666667}) == {"price": 4.166667}


# -- save-and-read: wrong answers ---------------------------------------------------------------

def save(client: Any, order_id: str, order: Any) -> None:
    client.post(STATE, json=[{"key": f"order-{order_id}", "value": order}]).raise_for_status()


def never_reads_back(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    return order


def reads_back_but_returns_what_it_sent(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    client.get(f"{STATE}/{quote(f'order-{order_id}', safe='')}").raise_for_status()
    return order


def imitates_the_rounding(client: Any, order_id: str, order: Any) -> Any:
    """Rounds floats as Redis does instead of asking Dapr: right until someone else writes."""
    save(client, order_id, order)
    return {name: round(v, 6) if isinstance(v, float) else v for name, v in order.items()}


def unquoted(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    return client.get(f"{STATE}/order-{order_id}").json()


def quotes_the_slash_only(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    return client.get(f"{STATE}/" + f"order-{order_id}".replace("/", "%2F")).json()


def swallows_the_read_error(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    try:
        reply = client.get(f"{STATE}/order-{order_id}")
        reply.raise_for_status()
        return reply.json()
    except Exception:  # noqa: BLE001 - the mistake under test
        return None


def returns_the_text(client: Any, order_id: str, order: Any) -> Any:
    save(client, order_id, order)
    return client.get(f"{STATE}/{quote(f'order-{order_id}', safe='')}").text


def saves_a_json_string(client: Any, order_id: str, order: Any) -> Any:
    key = f"order-{order_id}"
    client.post(STATE, json=[{"key": key, "value": json.dumps(order)}])
    return client.get(f"{STATE}/{quote(key, safe='')}").json()


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, i, o: None,
     "after save_order(client, '1', ...) nothing is stored under the key 'order-1'"),
    (never_reads_back,
     "order '42': save_order returned {'item': 'cake', 'qty': 1, 'note': 'crème', 'price': "
     "4.1666667}, what it sent, without reading 'order-42' back after saving it, but Dapr's "
     "store holds {'item': 'cake', 'qty': 1, 'note': 'crème', 'price': 4.166667} (price "
     "4.1666667 is stored as 4.166667). Your requests and Dapr's answers: 1 POST statestore "
     "[order-42] -> 204."),
    (reads_back_but_returns_what_it_sent,
     "but Dapr answered {'item': 'cake', 'qty': 1, 'note': 'crème', 'price': 4.166667} when you "
     "read 'order-42' back (price 4.1666667 is stored as 4.166667). Your requests and Dapr's "
     "answers: 1 POST statestore [order-42] -> 204; 2 GET order-42 -> 200."),
    (imitates_the_rounding,
     "schedule 4: the kitchen saved {'item': 'soup', 'qty': 1, 'status': 'cooking'} under "
     "'order-99' right after your request 1: save_order returned {'item': 'soup', 'qty': 1}, "
     "what it sent, without reading 'order-99' back after saving it, but Dapr's store holds "
     "{'item': 'soup', 'qty': 1, 'status': 'cooking'} (status is 'cooking')."),
    (unquoted,
     "order '2024/07': save_order returned Dapr's error answer {'errorCode': 'ERR_DIRECT_INVOKE'"),
    (unquoted, "(a literal / in the URL made Dapr answer 404 ERR_DIRECT_INVOKE: a key with a "
               "slash must travel as %2F, so quote it). Your requests and Dapr's answers: 1 POST "
               "statestore [order-2024/07] -> 204; 2 GET order-2024/07 -> 404."),
    (quotes_the_slash_only,
     "order '7+1': your function raised JSONDecodeError"),
    (quotes_the_slash_only,
     "(a + in a URL path reaches Dapr as a space, so it read another key: quote the key). Your "
     "requests and Dapr's answers: 1 POST statestore [order-7+1] -> 204; 2 GET order-7+1 -> 204."),
    (swallows_the_read_error,
     "order '2024/07': save_order returned None, but no read of 'order-2024/07' after the save "
     "was answered with a value (a literal / in the URL made Dapr answer 404 ERR_DIRECT_INVOKE: "
     "a key with a slash must travel as %2F, so quote it), and Dapr's store holds {'item': "
     "'jam', 'qty': 3}. Your requests and Dapr's answers: 1 POST statestore [order-2024/07] -> "
     "204; 2 GET order-2024/07 -> 404."),
    (returns_the_text,
     "save_order returned the body's text '{\"item\":\"tea\",\"qty\":2}'; return the decoded "
     "value (reply.json())"),
    (saves_a_json_string,
     "the key 'order-1' holds '{\"item\": \"tea\", \"qty\": 2}' (a string: send the dict itself "
     "as the value), expected {'item': 'tea', 'qty': 2}"),
])
def test_save_and_read_failures(answer: Any, sentence: str) -> None:
    check_fails("save-and-read", answer, sentence)


# -- save-and-read: right answers written differently ------------------------------------------

def bulk_read_and_put(client: Any, order_id: str, order: Any) -> Any:
    """Saves with PUT and reads back with a bulk get: no key in the URL, nothing to quote."""
    key = f"order-{order_id}"
    assert client.put(STATE, json=[{"key": key, "value": order}]).is_success
    (item,) = client.post(f"{STATE}/bulk", json={"keys": [key]}).json()
    return item["data"]


def reads_first_and_quote_plus(client: Any, order_id: str, order: Any) -> Any:
    """Reads before it writes (to log the old order), quotes with quote_plus, checks statuses
    by hand and decodes with json.loads."""
    path = f"{STATE}/{quote_plus(f'order-{order_id}')}"
    before = client.get(path)
    if before.status_code not in (200, 204):
        raise RuntimeError(before.text)
    saved = client.request("POST", STATE, content=json.dumps(
        [{"key": f"order-{order_id}", "value": order}]).encode(),
        headers={"Content-Type": "application/json"})
    if saved.status_code != 204:
        raise RuntimeError(saved.text)
    reply = client.get(path)
    if reply.status_code != 200:
        raise RuntimeError(f"read back answered {reply.status_code}")
    return json.loads(reply.content)


@pytest.mark.parametrize("answer", [bulk_read_and_put, reads_first_and_quote_plus])
def test_save_and_read_other_right_answers_pass(answer: Any) -> None:
    check_passes("save-and-read", answer)


# -- read-or-default ------------------------------------------------------------------------

def json_on_204(client: Any, key: str) -> Any:
    return client.get(f"{STATE}/{quote(key, safe='')}").json()


def zero_unless_200(client: Any, key: str) -> Any:
    """The old reference without raise_for_status: every non-200 answer reads as 0."""
    reply = client.get(f"{STATE}/{quote(key, safe='')}")
    return reply.json() if reply.status_code == 200 else 0


def swallows_every_error(client: Any, key: str) -> Any:
    try:
        return client.get(f"{STATE}/{quote(key, safe='')}").json()
    except Exception:  # noqa: BLE001 - the mistake under test
        return 0


def none_when_missing(client: Any, key: str) -> Any:
    reply = client.get(f"{STATE}/{quote(key, safe='')}")
    reply.raise_for_status()
    return reply.json() if reply.content else None


def unquoted_key(client: Any, key: str) -> Any:
    reply = client.get(f"{STATE}/{key}")
    if reply.status_code == 204:
        return 0
    reply.raise_for_status()
    return reply.json()


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k: None, "read_counter(client, 'visits') returned None, expected 5"),
    (json_on_204, "read_counter(client, 'never-saved'): your function raised JSONDecodeError: "
                  "Expecting value: line 1 column 1 (char 0) (did it call .json() on a 204 "
                  "answer? A missing key has an empty body). Your requests and Dapr's answers: "
                  "1 GET never-saved -> 204."),
    (zero_unless_200, "read_counter(client, 'orders') returned 0, but Dapr answered 500 "
                      "ERR_STATE_GET (Redis could not be reached), not 204, and the counter "
                      "still holds 7. Your requests and Dapr's answers: 1 GET orders -> 500. "
                      "Only a 204 means missing"),
    (swallows_every_error, "read_counter(client, 'orders') returned {'errorCode': "
                           "'ERR_STATE_GET', 'message': 'fail to get orders from state store "
                           "statestore: dial tcp 127.0.0.1:6379: connect: connection refused'}"),
    (none_when_missing, "read_counter(client, 'never-saved') returned None, expected 0 (a "
                        "missing key answers 204 with an empty body). Your requests and Dapr's "
                        "answers: 1 GET never-saved -> 204."),
    (unquoted_key, "read_counter(client, 'visits/2024-07'): your function raised "
                   "HTTPStatusError: Client error '404 Not Found'"),
    (unquoted_key, "(a literal / in the URL made Dapr answer 404 ERR_DIRECT_INVOKE"),
])
def test_read_or_default_failures(answer: Any, sentence: str) -> None:
    check_fails("read-or-default", answer, sentence)


def test_a_runaway_loop_on_an_error_is_stopped() -> None:
    def retries_forever(client: Any, key: str) -> Any:
        while True:
            reply = client.get(f"{STATE}/{quote(key, safe='')}")
            if reply.status_code in (200, 204):
                return reply.json() if reply.content else 0

    check_fails("read-or-default", retries_forever, "read_counter(client, 'orders'): your "
                "function sent more than 60 requests; does a loop ever end?")


def text_and_is_success(client: Any, key: str) -> Any:
    """Parses the text itself and uses ``is_success`` rather than raise_for_status."""
    reply = client.get(STATE + "/" + quote(key, safe=""))
    if not reply.is_success:
        raise RuntimeError(f"Dapr answered {reply.status_code}: {reply.text}")
    return int(reply.text) if reply.text else 0


def bulk_read(client: Any, key: str) -> Any:
    """A bulk read: a missing key is an item without ``data``; no key in the URL."""
    reply = client.post(f"{STATE}/bulk", json={"keys": [key]})
    reply.raise_for_status()
    (item,) = reply.json()
    if "error" in item:
        raise RuntimeError(item["error"])
    return item.get("data", 0)


@pytest.mark.parametrize("answer", [text_and_is_success, bulk_read])
def test_read_or_default_other_right_answers_pass(answer: Any) -> None:
    check_passes("read-or-default", answer)
