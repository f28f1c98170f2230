"""Notebook 04's exercises: update with the current ETag; create a key only if absent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.etags"
IDS = ["update-if-unchanged", "create-if-absent"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"04-use-etags"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"
FIRST_WRITE = {"concurrency": "first-write"}


def check_passes(exercise_id: str, answer: Any) -> None:
    result = exercise(exercise_id).check(answer)
    assert result.passed, result.message


# -- update-if-unchanged: wrong answers -------------------------------------------------------

def last_write(client: Any, key: str, value: Any, etag: str) -> bool:
    reply = client.post(STATE, json=[{"key": key, "value": value, "etag": etag,
                                      "options": {"concurrency": "last-write"}}])
    return bool(reply.status_code == 204)


def etag_in_a_header(client: Any, key: str, value: Any, etag: str) -> bool:
    reply = client.post(STATE, json=[{"key": key, "value": value, "options": FIRST_WRITE}],
                        headers={"If-Match": etag})
    if reply.status_code == 409:
        return False
    reply.raise_for_status()
    return True


def empty_etag(client: Any, key: str, value: Any, etag: str) -> bool:
    reply = client.post(STATE, json=[{"key": key, "value": value, "etag": "",
                                      "options": FIRST_WRITE}])
    return bool(reply.status_code == 204)


def true_whatever_dapr_says(client: Any, key: str, value: Any, etag: str) -> bool:
    client.post(STATE, json=[{"key": key, "value": value, "etag": etag, "options": FIRST_WRITE}])
    return True


def swallows_every_error(client: Any, key: str, value: Any, etag: str) -> bool:
    try:
        client.post(STATE, json=[{"key": key, "value": value, "etag": etag,
                                  "options": FIRST_WRITE}]).raise_for_status()
    except Exception:  # noqa: BLE001 - the mistake under test
        return False
    return True


def check_then_act(client: Any, key: str, value: Any, etag: str) -> bool:
    if client.get(f"{STATE}/{key}").headers.get("etag") != etag:
        return False
    client.post(STATE, json=[{"key": key, "value": value}]).raise_for_status()
    return True


def retries_with_a_fresh_etag(client: Any, key: str, value: Any, etag: str) -> bool:
    """Confuses this with the increment of notebook 5: a conflict is not to be retried here."""
    while True:
        reply = client.post(STATE, json=[{"key": key, "value": value, "etag": etag,
                                          "options": FIRST_WRITE}])
        if reply.status_code == 204:
            return True
        etag = client.get(f"{STATE}/{key}").headers["etag"]


STALE = "schedule 1: another writer saved {'name': 'Bob'} before your function ran, so etag '1' "
LOST = ("'profile' now holds {'name': 'Ada L.'}: your save (answered 204) replaced the other "
        "writer's {'name': 'Bob'}, so their update is lost.")
NO_STORE = ("schedule 6: the sidecar has no store named statestore (its component did not "
            "load). Your requests and Dapr's answers: 1 POST statestore [profile, etag '1', "
            "first-write] -> 400. Your function returned False, reporting a conflict that did "
            "not happen: let an error other than 409 raise.")


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda c, k, v, e: None,
     "schedule 0: nobody else wrote, so etag '1' was current. Your requests and Dapr's "
     "answers: no requests. 'profile' still holds {'name': 'Ada'}: nothing was saved, and your "
     "function returned None."),
    (last_write, STALE + "was stale. Your requests and Dapr's answers: 1 POST statestore "
                 "[profile, etag '1', last-write] -> 204. " + LOST),
    (etag_in_a_header, "1 POST statestore (If-Match '1') [profile, first-write] -> 204. " + LOST),
    (empty_etag, "1 POST statestore [profile, etag '', first-write] -> 204. " + LOST),
    (true_whatever_dapr_says,
     STALE + "was stale. Your requests and Dapr's answers: 1 POST statestore [profile, etag "
     "'1', first-write] -> 409. 'profile' holds {'name': 'Bob'}: your value was not saved, but "
     "your function returned True instead of False."),
    (swallows_every_error, NO_STORE),
    (lambda c, k, v, e: c.post(STATE, json=[{"key": k, "value": v, "etag": e,
                                             "options": FIRST_WRITE}]).status_code == 204,
     NO_STORE),
    (check_then_act, "schedule 2: another writer saved {'name': 'Bob'} right after your request "
                     "1, so etag '1' then became stale. Your requests and Dapr's answers: 1 GET "
                     "profile -> 200; 2 POST statestore [profile] -> 204. " + LOST),
    (retries_with_a_fresh_etag, "1 POST statestore [profile, etag '1', first-write] -> 409; 2 "
                                "GET profile -> 200; 3 POST statestore [profile, etag '2', "
                                "first-write] -> 204. " + LOST),
])
def test_update_if_unchanged_failures(answer: Any, sentence: str) -> None:
    check_fails("update-if-unchanged", answer, sentence)


# -- update-if-unchanged: right answers written differently -----------------------------------

def default_concurrency_by_hand(client: Any, key: str, value: Any, etag: str) -> bool:
    """No options (on Redis, and in memory, an ETag is checked with the default concurrency
    too), a body encoded by hand, and requests-style status checks."""
    reply = client.request("POST", STATE, content=json.dumps(
        [{"key": key, "value": value, "etag": etag}]),
        headers={"content-type": "application/json"})
    if reply.is_success:
        return True
    if reply.status_code == 409:
        return False
    raise RuntimeError(f"Dapr answered {reply.status_code}: {reply.text}")


def reads_before_it_writes(client: Any, key: str, value: Any, etag: str) -> bool:
    """Gives up early when the ETag already moved; saves with PUT and a conditional write."""
    current = client.get(f"{STATE}/{quote(key, safe='')}")
    current.raise_for_status()
    if current.headers.get("etag") != etag:
        return False
    reply = client.put(STATE, json=[{"key": key, "value": value, "etag": etag,
                                     "options": FIRST_WRITE}])
    if reply.status_code in (200, 201, 204):
        return True
    if reply.status_code == 409:
        return False
    reply.raise_for_status()
    raise RuntimeError(f"unexpected status {reply.status_code}")


@pytest.mark.parametrize("answer", [default_concurrency_by_hand, reads_before_it_writes])
def test_update_if_unchanged_other_right_answers_pass(answer: Any) -> None:
    check_passes("update-if-unchanged", answer)


# -- create-if-absent: wrong answers -----------------------------------------------------------

def first_write_without_etag(client: Any, key: str, value: Any) -> bool:
    reply = client.post(STATE, json=[{"key": key, "value": value, "options": FIRST_WRITE}])
    return bool(reply.status_code == 204)


def etag_zero(client: Any, key: str, value: Any) -> bool:
    reply = client.post(STATE, json=[{"key": key, "value": value, "etag": "0",
                                      "options": FIRST_WRITE}])
    if reply.status_code == 409:
        return False
    reply.raise_for_status()
    return True


def get_then_save(client: Any, key: str, value: Any) -> bool:
    if client.get(f"{STATE}/{key}").status_code != 204:
        return False
    client.post(STATE, json=[{"key": key, "value": value}]).raise_for_status()
    return True


def sentinel_but_true_always(client: Any, key: str, value: Any) -> bool:
    client.post(STATE, json=[{"key": key, "value": value, "etag": "999999999",
                              "options": FIRST_WRITE}])
    return True


def sentinel_swallowing_errors(client: Any, key: str, value: Any) -> bool:
    try:
        client.post(STATE, json=[{"key": key, "value": value, "etag": "999999999",
                                  "options": FIRST_WRITE}]).raise_for_status()
    except Exception:  # noqa: BLE001 - the mistake under test
        return False
    return True


PLAIN = ("schedule 1: seat-1 already held 'Cy', saved by another writer with a plain save (no "
         "first-write flag). Your requests and Dapr's answers: ")
TAKEN = ("'seat-1' now holds 'Dee': your save (answered 204) replaced the other writer's 'Cy', "
         "so their update is lost.")


@pytest.mark.parametrize(("answer", "sentence"), [
    (first_write_without_etag,
     PLAIN + "1 POST statestore [seat-1, first-write] -> 204. " + TAKEN),
    (etag_zero, PLAIN + "1 POST statestore [seat-1, etag '0', first-write] -> 204. " + TAKEN),
    (get_then_save, "schedule 3: another writer created seat-1 with 'Cy' (a plain save, if it "
                    "was still missing) right after your request 1. Your requests and Dapr's "
                    "answers: 1 GET seat-1 -> 204; 2 POST statestore [seat-1] -> 204. " + TAKEN),
    (sentinel_but_true_always,
     PLAIN + "1 POST statestore [seat-1, etag '999999999', first-write] -> 409. 'seat-1' holds "
     "'Cy': your value was not saved, but your function returned True instead of False."),
    (sentinel_swallowing_errors,
     "schedule 7: the sidecar has no store named statestore (its component did not load). Your "
     "requests and Dapr's answers: 1 POST statestore [seat-1, etag '999999999', first-write] -> "
     "400. Your function returned False, reporting a conflict that did not happen"),
    (lambda c, k, v: None, "schedule 0: nobody else created seat-1. Your requests and Dapr's "
                           "answers: no requests. 'seat-1' is still missing: nothing was saved, "
                           "and your function returned None."),
])
def test_create_if_absent_failures(answer: Any, sentence: str) -> None:
    check_fails("create-if-absent", answer, sentence)


# -- create-if-absent: right answers written differently --------------------------------------

def reads_first_then_sentinel(client: Any, key: str, value: Any) -> bool:
    """Reads first (a 200 means taken, no write needed), then still writes conditionally: a
    creator may get in between the read and the save."""
    found = client.get(f"{STATE}/{quote(key, safe='')}")
    if found.status_code == 200:
        return False
    found.raise_for_status()
    reply = client.post(STATE, json=[{"key": key, "value": value, "etag": "999999999",
                                      "options": FIRST_WRITE}])
    if reply.status_code == 409:
        return False
    reply.raise_for_status()
    return True


def other_sentinel_default_concurrency(client: Any, key: str, value: Any) -> bool:
    """Another impossible version, no options, and its own error handling."""
    reply = client.post(STATE, json=[{"key": key, "value": value, "etag": "987654321"}])
    if reply.status_code == 409:
        return False
    if not reply.is_success:
        raise RuntimeError(reply.json()["message"])
    return True


@pytest.mark.parametrize("answer", [reads_first_then_sentinel,
                                    other_sentinel_default_concurrency])
def test_create_if_absent_other_right_answers_pass(answer: Any) -> None:
    check_passes("create-if-absent", answer)
