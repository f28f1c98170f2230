"""Notebook 06's exercises: read your own writes, take ETags from the primary."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.consistency"
IDS = ["read-your-writes", "fresh-etags"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"06-choose-consistency"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


REPLICATED = "/v1.0/state/replicated"
RYW = "read-your-writes"


def read_back(reply: Any) -> Any:
    return reply.json() if reply.status_code == 200 else None


def eventual_save_then_read(client: Any, key: str, value: Any) -> Any:
    client.post(REPLICATED, json=[{"key": key, "value": value}])
    return read_back(client.get(f"{REPLICATED}/{key}"))  # no consistency: a replica answers


def strong_on_the_item_s_top_level(client: Any, key: str, value: Any) -> Any:
    """Dapr reads a save's consistency from the item's options only: this one is ignored."""
    client.post(REPLICATED, json=[{"key": key, "value": value, "consistency": "strong"}])
    return read_back(client.get(f"{REPLICATED}/{key}"))


def strong_as_a_header(client: Any, key: str, value: Any) -> Any:
    strong = {"consistency": "strong"}
    client.post(REPLICATED, json=[{"key": key, "value": value}], headers=strong)
    return read_back(client.get(f"{REPLICATED}/{key}", headers=strong))


def strong_in_the_save_s_query(client: Any, key: str, value: Any) -> Any:
    client.post(REPLICATED, json=[{"key": key, "value": value}], params={"consistency": "strong"})
    return read_back(client.get(f"{REPLICATED}/{key}"))


def strong_only_when_missing(client: Any, key: str, value: Any) -> Any:
    """Falls back to a strong read only when the replica has nothing: an old value passes."""
    client.post(REPLICATED, json=[{"key": key, "value": value}])
    reply = client.get(f"{REPLICATED}/{key}")
    if reply.status_code == 204:
        reply = client.get(f"{REPLICATED}/{key}", params={"consistency": "strong"})
    return reply.json()


def polling_until_it_shows(client: Any, key: str, value: Any) -> Any:
    client.post(REPLICATED, json=[{"key": key, "value": value}])
    while read_back(client.get(f"{REPLICATED}/{key}")) != value:
        pass
    return value


def never_saving(client: Any, key: str, value: Any) -> Any:
    return value


EVENTUAL_CASE_0 = (
    "case 0: the key was missing; save 'draft', then read it. Your requests and Dapr's "
    "answers: 1 POST replicated [doc] -> 204; 2 GET doc -> 204. You returned None, the "
    "primary holds 'draft': a node without the key answered it, and your save reaches the "
    "replicas 200 ms later: Dapr saw neither a strong read (the consistency query parameter "
    "of a GET) nor a strong save (options.consistency in the save body) that waits for them.")


@pytest.mark.parametrize(("answer", "sentence"), [
    (eventual_save_then_read, EVENTUAL_CASE_0),
    (strong_on_the_item_s_top_level, EVENTUAL_CASE_0),
    (strong_as_a_header, EVENTUAL_CASE_0),
    (strong_in_the_save_s_query, "1 POST replicated ?consistency=strong [doc] -> 204; 2 GET doc "
                                 "-> 204. You returned None, the primary holds 'draft'"),
    (strong_only_when_missing, "case 1: every node held {'title': 'v1'}; save {'title': "
     "'v2'}, then read it. Your requests and Dapr's answers: 1 POST replicated [doc] -> 204; "
     "2 GET doc -> 200. You returned {'title': 'v1'}, the primary holds {'title': 'v2'}: "
     "replica-1 answered it, and your save reaches the replicas 200 ms later"),
    (polling_until_it_shows, "case 0: your function sent more than 60 requests; does a loop "
     "ever end? Your requests and Dapr's answers: 1 POST replicated [doc] -> 204; 2-60 GET doc "
     "-> 204 (59 times); 61 GET doc -> no answer."),
    (never_saving, "case 0: the key was missing; save 'draft', then read it. Your requests and "
     "Dapr's answers: no requests. You returned 'draft', the primary holds None: you never "
     "saved 'draft'."),
])
def test_read_your_writes_failures(answer: Any, sentence: str) -> None:
    check_fails(RYW, answer, sentence)


def strong_write_then_any_read(client: Any, key: str, value: Any) -> Any:
    """Notebook 06: a strong save answers once every replica has it, so any read sees it."""
    client.post(REPLICATED, json=[{"key": key, "value": value,
                                   "options": {"consistency": "strong"}}])
    return client.get(f"{REPLICATED}/{quote(key)}").json()


def both_strong_in_the_url(client: Any, key: str, value: Any) -> Any:
    options = {"consistency": "strong", "concurrency": "last-write"}
    client.post(REPLICATED, json=[{"key": key, "value": value, "options": options}])
    return client.get(f"{REPLICATED}/{key}?consistency=strong").json()


@pytest.mark.parametrize("answer", [strong_write_then_any_read, both_strong_in_the_url])
def test_read_your_writes_other_right_answers_pass(answer: Any) -> None:
    result = exercise(RYW).check(answer)
    assert result.passed, result.message


ETAGS = "fresh-etags"
FIRST_WRITE = {"concurrency": "first-write"}


def eventual_decrement(client: Any, key: str) -> None:
    while True:
        reply = client.get(f"{REPLICATED}/{key}")
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
            "options": FIRST_WRITE}])
        if saved.status_code == 204:
            return


def strong_read_without_etag(client: Any, key: str) -> None:
    reply = client.get(f"{REPLICATED}/{key}", params={"consistency": "strong"})
    client.post(REPLICATED, json=[{"key": key, "value": reply.json() - 1}])


def strong_only_the_first_time(client: Any, key: str) -> None:
    reply = client.get(f"{REPLICATED}/{key}", params={"consistency": "strong"})
    while True:
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
            "options": FIRST_WRITE}])
        if saved.status_code == 204:
            return
        reply = client.get(f"{REPLICATED}/{key}")


def strong_write_eventual_read(client: Any, key: str) -> None:
    """A strong save does not make the next read's ETag fresh once another client wrote."""
    while True:
        reply = client.get(f"{REPLICATED}/{key}")
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
            "options": {"concurrency": "first-write", "consistency": "strong"}}])
        if saved.status_code == 204:
            return


def strong_bulk_read(client: Any, key: str) -> None:
    """A bulk read takes no consistency (Dapr ignores the query parameter): replicas answer."""
    while True:
        (item,) = client.post(f"{REPLICATED}/bulk", json={"keys": [key]},
                              params={"consistency": "strong"}).json()
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": item["data"] - 1, "etag": item["etag"], "options": FIRST_WRITE}])
        if saved.status_code == 204:
            return


def blind_decrement(client: Any, key: str) -> None:
    reply = client.get(f"{REPLICATED}/{key}", params={"consistency": "strong"})
    client.post(REPLICATED, json=[{"key": key, "value": reply.json() - 2}])


WASTED_AFTER_ONE = ("Dapr refused 15 of your saves with 409 though only 1 other write(s) got "
                    "in: the ETags you sent were older than the primary's, read from a "
                    "replica; a strong read gets the primary's.")


@pytest.mark.parametrize(("answer", "sentence"), [
    (eventual_decrement, "schedule 0: your function sent more than 60 requests; does a loop "
     "ever end? Your requests and Dapr's answers: 1 GET stock -> 200; 2 POST replicated "
     "[stock, etag '1', first-write] -> 204; 3-32 alternately GET stock -> 200 and POST "
     "replicated [stock, etag '1', first-write] -> 409 (15 times each); 33 GET stock"),
    (strong_read_without_etag, "schedule 1: the stock was 7 on every node (replicas 30 ms "
     "behind the primary); you decremented it 3 times and another client took one right after "
     "your request 1. Your requests and Dapr's answers: 1-6 alternately GET stock "
     "?consistency=strong -> 200 and POST replicated [stock] -> 500 (3 times each). The "
     "primary holds 6, expected 3: a decrement returned without Dapr accepting its save."),
    (strong_only_the_first_time, "2-31 alternately POST replicated [stock, etag '1', "
     "first-write] -> 409 and GET stock -> 200 (15 times each); "),
    (strong_only_the_first_time, WASTED_AFTER_ONE),
    (strong_write_eventual_read, WASTED_AFTER_ONE),
    (strong_bulk_read, "3-32 alternately POST bulk ?consistency=strong -> 200 and POST "
     "replicated [stock, etag '1', first-write] -> 409 (15 times each)"),
    (blind_decrement, "schedule 0: the stock was 7 on every node (replicas 30 ms behind the "
     "primary); you decremented it 3 times and no other client wrote. Your requests and "
     "Dapr's answers: 1-6 alternately GET stock ?consistency=strong -> 200 and POST "
     "replicated [stock] -> 204 (3 times each). The primary holds 1, expected 4: that is not "
     "one decrement per call."),
])
def test_fresh_etags_failures(answer: Any, sentence: str) -> None:
    check_fails(ETAGS, answer, sentence)


def capped_quoted_strong_both_ways(client: Any, key: str) -> None:
    """A for loop with a cap, a quoted key, the text parsed by hand, strong reads and writes."""
    for _ in range(10):
        reply = client.get(f"{REPLICATED}/{quote(key, safe='')}", params={"consistency": "strong"})
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": int(reply.text) - 1, "etag": reply.headers["ETag"],
            "options": {"consistency": "strong", "concurrency": "first-write"}}])
        if saved.is_success:
            return
        if saved.status_code != 409:
            saved.raise_for_status()
    raise RuntimeError("gave up after 10 conflicts")


def strong_read_in_the_url_by_error_code(client: Any, key: str) -> None:
    """The query string written by hand; a conflict told by Dapr's error code."""
    while True:
        reply = client.get(f"{REPLICATED}/{key}?consistency=strong")
        saved = client.post(REPLICATED, json=[{
            "key": key, "value": reply.json() - 1, "etag": reply.headers["etag"],
            "options": FIRST_WRITE}])
        if saved.status_code == 204:
            return
        if saved.json()["errorCode"] != "ERR_STATE_SAVE":
            saved.raise_for_status()


@pytest.mark.parametrize("answer", [capped_quoted_strong_both_ways,
                                    strong_read_in_the_url_by_error_code])
def test_fresh_etags_other_right_answers_pass(answer: Any) -> None:
    result = exercise(ETAGS).check(answer)
    assert result.passed, result.message
