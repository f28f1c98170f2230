"""Notebook 08's exercises: fix the Dapr 1.4 how-to's save and delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.real_dapr"
IDS = ["fix-howto-save", "fix-howto-delete"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"08-move-to-real-dapr"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"
SAVE = "fix-howto-save"
DELETE = "fix-howto-delete"
STRONG = {"consistency": "strong"}
BOTH = {"consistency": "strong", "concurrency": "first-write"}


def the_how_to_s_save(client: Any) -> None:
    """The notebook's starter: the body built as a string and passed to json=."""
    state = '[{ "key": "key1", "value": "Some Data", "options": { "consistency": "strong" }}]'
    client.post(STATE, json=state)


EVENTUAL = ("Dapr answered request 1 while replica-1 and replica-2 did not have it yet: that "
            "save was eventual. A strong save answers once every replica has it; Dapr reads "
            "consistency from the item's \"options\" only (a header, a query parameter or a "
            "field beside \"options\" is ignored).")


@pytest.mark.parametrize(("answer", "sentence"), [
    (the_how_to_s_save, "Your requests and Dapr's answers: 1 POST statestore (a body that is not "
     "a JSON array) -> 400. Dapr refused request 1: 400 ERR_MALFORMED_REQUEST: json: cannot "
     "unmarshal string into Go value of type []state.SetRequest. key1 holds nothing; expected "
     "'Some Data'."),
    (lambda c: c.post(STATE, json=[{"key": "key1", "value": "Some Data"}],
                      headers=STRONG),
     "Your requests and Dapr's answers: 1 POST statestore [key1] -> 204. " + EVENTUAL),
    (lambda c: c.post(STATE, json=[{"key": "key1", "value": "Some Data", **STRONG}]),
     "1 POST statestore [key1] -> 204. " + EVENTUAL),
    (lambda c: c.post(STATE, json=[{"key": "key1", "value": "Some Data"}], params=STRONG),
     "1 POST statestore ?consistency=strong [key1] -> 204. " + EVENTUAL),
    (lambda c: c.post(STATE, json=[{"key": "key1", "value": "Some Data",
                                    "options": {"consistency": "Strong"}}]),
     "1 POST statestore [key1, Strong] -> 500. Dapr refused request 1: 500 ERR_STATE_SAVE: "
     "failed saving state in state store statestore: unrecognized consistency model 'Strong'. "
     "key1 holds nothing; expected 'Some Data'."),
    (lambda c: c.post(STATE, json=[{"key": "k1", "value": "Some Data", "options": STRONG}]),
     "1 POST statestore [k1, strong] -> 204. key1 holds nothing; expected 'Some Data'."),
    (lambda c: c.post(STATE, json='[{"key": "key1"}]').raise_for_status(),
     "your function raised HTTPStatusError: Client error '400 Bad Request'"),
])
def test_fix_howto_save_failures(answer: Any, sentence: str) -> None:
    check_fails(SAVE, answer, sentence)


def save_eventual_then_strong(client: Any) -> None:
    """Right in the end, but its first save answered before the replicas had it."""
    client.post(STATE, json=[{"key": "key1", "value": "Some Data"}])
    client.post(STATE, json=[{"key": "key1", "value": "Some Data", "options": STRONG}])


def test_every_save_must_be_strong_not_only_the_last() -> None:
    check_fails(SAVE, save_eventual_then_strong, "1 POST statestore [key1] -> 204; 2 POST "
                "statestore [key1, strong] -> 204. Dapr answered request 1 while replica-1 "
                "and replica-2 did not have it yet")


@pytest.mark.parametrize("answer", [
    # the how-to's own text, parsed once: the smallest fix
    lambda c: c.post(STATE, json=json.loads(
        '[{ "key": "key1", "value": "Some Data", "options": { "consistency": "strong" }}]')),
    # the text sent as it is, to the full URL, with both options
    lambda c: c.post("http://127.0.0.1:3500" + STATE, headers={"content-type": "application/json"},
                     content='[{"key": "key1", "value": "Some Data", "options": '
                             '{"concurrency": "last-write", "consistency": "strong"}}]'),
])
def test_fix_howto_save_other_right_answers_pass(answer: Any) -> None:
    result = exercise(SAVE).check(answer)
    assert result.passed, result.message


def the_how_to_s_delete(client: Any, key: str) -> None:
    """The notebook's starter: options as headers, no ETag at all."""
    client.delete(f"{STATE}/{key}", headers={"consistency": "strong",
                                             "concurrency": "first-write"})


def read_then_delete(headers: Any, params: Any = BOTH) -> Any:
    """Reads the key, then deletes it with ``headers(reply)`` and *params*; True on 204."""
    def delete_state(client: Any, key: str) -> bool:
        reply = client.get(f"{STATE}/{key}")
        return bool(client.delete(f"{STATE}/{key}", headers=headers(reply),
                                  params=params).status_code == 204)
    return delete_state


def success_taken_for_200(client: Any, key: str) -> bool:
    etag = client.get(f"{STATE}/{key}").headers["etag"]
    reply = client.delete(f"{STATE}/{key}", headers={"If-Match": etag}, params=BOTH)
    return bool(reply.status_code == 200)


def retrying_until_deleted_blindly(client: Any, key: str) -> bool:
    """On a 409 it drops the ETag: the other writer's value goes, unread."""
    etag = client.get(f"{STATE}/{key}").headers["etag"]
    reply = client.delete(f"{STATE}/{key}", headers={"If-Match": etag}, params=BOTH)
    if reply.status_code == 409:
        reply = client.delete(f"{STATE}/{key}", params=STRONG)
    return bool(reply.status_code == 204)


def claims_success_always(client: Any, key: str) -> bool:
    etag = client.get(f"{STATE}/{key}").headers["etag"]
    client.delete(f"{STATE}/{key}", headers={"If-Match": etag}, params=BOTH)
    return True


ONE_WRITER = ("schedule 1: another writer saved key1 after your request 1. Your requests and "
              "Dapr's answers: 1 GET key1 -> 200; ")
UNREAD = ("deleted version 3 of key1, which none of your reads had returned: a delete without "
          "the ETag you read (an empty If-Match counts as none) deletes whatever is there, even "
          "a value saved after your read.")


@pytest.mark.parametrize(("answer", "sentence"), [
    (the_how_to_s_delete, "schedule 0: nobody else wrote. Your requests and Dapr's answers: "
     "1 DELETE key1 -> 204. Request 1 deleted version 2 of key1, which none of your reads had "
     "returned"),
    (read_then_delete(lambda reply: {}), ONE_WRITER + "2 DELETE key1 ?consistency=strong&"
     "concurrency=first-write -> 204. Request 2 " + UNREAD),
    (read_then_delete(lambda reply: {"If-Match": ""}), ONE_WRITER + "2 DELETE key1 ?consistency="
     "strong&concurrency=first-write (If-Match '') -> 204. Request 2 " + UNREAD),
    (retrying_until_deleted_blindly, ONE_WRITER + "2 DELETE key1 ?consistency=strong&concurrency"
     "=first-write (If-Match '2') -> 409; 3 DELETE key1 ?consistency=strong -> 204. Request 3 "
     + UNREAD),
    (read_then_delete(lambda reply: {"If-Match": reply.headers["etag"], **BOTH}, {}),
     "schedule 0: nobody else wrote. Your requests and Dapr's answers: 1 GET key1 -> 200; "
     "2 DELETE key1 (If-Match '2') -> 204. Dapr answered request 2 while replica-1 and "
     "replica-2 still held key1: that delete was eventual. Dapr reads a delete's consistency "
     "from the query string only (?consistency=strong); a header of that name is ignored."),
    (lambda c, k: c.delete(f"{STATE}/{k}", headers={"If-Match": "1"}, params=BOTH).is_success,
     "1 DELETE key1 ?consistency=strong&concurrency=first-write (If-Match '1') -> 409. Dapr "
     "refused request 1: 409 ERR_STATE_DELETE: failed deleting state with key key1: possible "
     "etag mismatch. error from state store: ERR user_script:5: failed to delete myapp||key1 "
     "script: dbc166423eb285569a0e62bb4ea0a4969eed7867, on @user_script:5. key1 still holds "
     "'New Data': nothing was deleted, though nobody else had changed it."),
    (read_then_delete(lambda reply: {"If-Match": reply.headers["etag"]},
                      {"consistency": "Strong"}),
     "2 DELETE key1 ?consistency=Strong (If-Match '2') -> 500. Dapr refused request 2: 500 "
     "ERR_STATE_DELETE: failed deleting state with key key1: unrecognized consistency model "
     "'Strong'. key1 still holds 'New Data'"),
    (success_taken_for_200, "schedule 0: nobody else wrote. Your requests and Dapr's answers: "
     "1 GET key1 -> 200; 2 DELETE key1 ?consistency=strong&concurrency=first-write (If-Match "
     "'2') -> 204. Dapr deleted key1 (request 2), but your function returned False; return "
     "True when the delete succeeded."),
    (claims_success_always, ONE_WRITER + "2 DELETE key1 ?consistency=strong&concurrency="
     "first-write (If-Match '2') -> 409. key1 still holds 'Other Data', but your function "
     "returned True; return False when Dapr refuses the delete."),
])
def test_fix_howto_delete_failures(answer: Any, sentence: str) -> None:
    check_fails(DELETE, answer, sentence)


def endless_delete(client: Any, key: str) -> bool:
    while True:
        etag = client.get(f"{STATE}/{key}").headers.get("etag", "1")
        if client.delete(f"{STATE}/{key}", headers={"If-Match": "x" + etag},
                         params=BOTH).status_code == 204:
            return True


def test_a_delete_loop_that_never_ends_is_stopped() -> None:
    check_fails(DELETE, endless_delete, "schedule 0: your function sent more than 60 requests; "
                "does a loop ever end? Your requests and Dapr's answers: 1-60 alternately GET "
                "key1 -> 200 and DELETE key1 ?consistency=strong&concurrency=first-write "
                "(If-Match 'x2') -> 409 (30 times each); 61 GET key1 -> no answer.")


def delete_with_query_string_and_lowercase_header(client: Any, key: str) -> bool:
    """Quotes the key, writes the query string by hand, reads the ETag with
    ``headers.get('etag')`` and sends ``if-match`` in lower case; raises on a 409."""
    url = f"{STATE}/{quote(key)}"
    etag = client.get(url, params=STRONG).headers.get("etag")
    reply = client.delete(url + "?concurrency=first-write&consistency=strong",
                          headers={"if-match": etag})
    reply.raise_for_status()
    return True


def delete_read_in_bulk_and_retried(client: Any, key: str) -> bool:
    """Reads the ETag with a bulk read, omits first-write (an ETag is checked anyway), and on a
    409 reads again and retries, at most five times."""
    for _ in range(5):
        item = client.post(f"{STATE}/bulk", json={"keys": [key]}).json()[0]
        reply = client.delete(f"{STATE}/{key}", headers={"IF-MATCH": item["etag"]},
                              params=STRONG)
        if reply.status_code == 204:
            return True
        if reply.status_code != 409:
            reply.raise_for_status()
    return False


def delete_as_in_the_playground(client: Any, key: str) -> bool:
    """Notebook 08's playground: a strong read, ``headers["ETag"]``, both options as params."""
    url = f"/v1.0/state/statestore/{key}"
    reply = client.get(url, params={"consistency": "strong"})
    reply = client.delete(url, params={"concurrency": "first-write", "consistency": "strong"},
                          headers={"If-Match": reply.headers["ETag"]})
    return bool(reply.status_code == 204)


@pytest.mark.parametrize("answer", [delete_with_query_string_and_lowercase_header,
                                    delete_read_in_bulk_and_retried,
                                    delete_as_in_the_playground])
def test_fix_howto_delete_other_right_answers_pass(answer: Any) -> None:
    result = exercise(DELETE).check(answer)
    assert result.passed, result.message


def test_checks_repeat_exactly_and_leave_no_state_behind() -> None:
    first, second = (exercise(DELETE).check(the_how_to_s_delete) for _ in range(2))
    assert first.message == second.message
    assert exercise(SAVE).check(exercise(SAVE).reference()).passed
