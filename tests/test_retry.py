"""Notebook 05's exercises: an increment that retries on conflict; backoff with jitter."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import quote

import grpc
import httpx
import pytest
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._state import Concurrency, StateOptions

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.retry"
IDS = ["increment-with-retry", "backoff-delays", "sdk-increment-with-retry",
       "increment-after-timeout"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"05-retry-on-conflict"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


STATE = "/v1.0/state/statestore"
INC = "increment-with-retry"


def read(client: Any, key: str) -> tuple[int, dict[str, Any]]:
    """The counter (missing: 0) and a first-write save item carrying its ETag, if any."""
    reply = client.get(f"{STATE}/{key}")
    value = reply.json() if reply.status_code == 200 else 0
    item: dict[str, Any] = {"key": key, "value": value + 1,
                            "options": {"concurrency": "first-write"}}
    if "etag" in reply.headers:
        item["etag"] = reply.headers["etag"]
    return value, item


def naive_increment(client: Any, key: str) -> None:
    reply = client.get(f"{STATE}/{key}")
    client.post(STATE, json=[{"key": key, "value": reply.json() + 1}])


def check_then_act(client: Any, key: str) -> None:
    """Checks that nobody wrote (the ETag did not move), then writes without an ETag."""
    while True:
        first = client.get(f"{STATE}/{key}")
        value = first.json() if first.status_code == 200 else 0
        if client.get(f"{STATE}/{key}").headers.get("etag") == first.headers.get("etag"):
            client.post(STATE, json=[{"key": key, "value": value + 1}])
            return


def retrying_without_reading_again(client: Any, key: str) -> None:
    _, item = read(client, key)
    while client.post(STATE, json=[item]).status_code != 204:
        pass


def swallowing_every_error(client: Any, key: str) -> None:
    try:
        _, item = read(client, key)
        client.post(STATE, json=[item]).raise_for_status()
    except:  # noqa: E722, S110 - the mistake under test
        pass


def dropping_the_etag_after_a_conflict(client: Any, key: str) -> None:
    """Re-reads, but after the first conflict saves without the ETag (or first-write)."""
    conflicts = 0
    while True:
        value, item = read(client, key)
        if conflicts:
            item = {"key": key, "value": value + 1}
        if client.post(STATE, json=[item]).status_code == 204:
            return
        conflicts += 1


def taking_500_for_success(client: Any, key: str) -> None:
    while True:
        _, item = read(client, key)
        if client.post(STATE, json=[item]).status_code != 409:
            return


def no_retry_increment(client: Any, key: str) -> None:
    _, item = read(client, key)
    client.post(STATE, json=[item])


def twice(client: Any, key: str) -> None:
    exercise(INC).reference()(client, key)
    exercise(INC).reference()(client, key)


def endless(client: Any, key: str) -> None:
    while True:
        client.get(f"{STATE}/{key}")


@pytest.mark.parametrize(("answer", "sentence"), [
    (naive_increment, "schedule 1: the counter held 10; another writer incremented it right "
     "after your request 1. Your requests and Dapr's answers: 1 GET hits -> 200; 2 POST "
     "statestore [hits] -> 204. The counter holds 11, expected 12: a save that Dapr accepted "
     "overwrote the other writer's increment."),
    (check_then_act, "schedule 2: the counter held 10; another writer incremented it right "
     "after your request 2. Your requests and Dapr's answers: 1 GET hits -> 200; 2 GET hits "
     "-> 200; 3 POST statestore [hits] -> 204. The counter holds 11, expected 12: a save that "
     "Dapr accepted overwrote the other writer's increment."),
    (retrying_without_reading_again, "schedule 1: your function sent more than 60 requests; "
     "does a loop ever end? Your requests and Dapr's answers: 1 GET hits -> 200; 2-60 POST "
     "statestore [hits, etag '1', first-write] -> 409 (59 times); 61 POST statestore [hits, "
     "etag '1', first-write] -> no answer."),
    (swallowing_every_error, "2 POST statestore [hits, etag '1', first-write] -> 409. The "
     "counter holds 11, expected 12: your function returned without saving its increment "
     "(Dapr answered 409 to your last save)."),
    (dropping_the_etag_after_a_conflict, "schedule 8: the counter held 10; another writer "
     "incremented it right after your requests 1 and 3. Your requests and Dapr's answers: 1 "
     "GET hits -> 200; 2 POST statestore [hits, etag '1', first-write] -> 409; 3 GET hits -> "
     "200; 4 POST statestore [hits] -> 204. The counter holds 12, expected 13: a save that "
     "Dapr accepted overwrote the other writer's increment."),
    (taking_500_for_success, "the key was missing; another writer incremented it right after "
     "your request 1. Your requests and Dapr's answers: 1 GET hits -> 204; 2 POST statestore "
     "[hits, first-write] -> 500. The counter holds 1, expected 2: your function returned "
     "without saving its increment (Dapr answered 500 to your last save)."),
    (no_retry_increment, "schedule 1: the counter held 10; another writer incremented it "
     "right after your request 1. Your requests and Dapr's answers: 1 GET hits -> 200; 2 POST "
     "statestore [hits, etag '1', first-write] -> 409. The counter holds 11, expected 12: "
     "your function returned without saving its increment (Dapr answered 409 to your last "
     "save)."),
    (twice, "schedule 0: the counter held 10; no other writer got in. Your requests and "
     "Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag '1', first-write] -> "
     "204; 3 GET hits -> 200; 4 POST statestore [hits, etag '2', first-write] -> 204. The "
     "counter holds 12, expected 11: that is not one increment per writer."),
    (endless, "schedule 0: your function sent more than 60 requests; does a loop ever end? "
     "Your requests and Dapr's answers: 1-60 GET hits -> 200 (60 times); 61 GET hits -> no "
     "answer."),
])
def test_increment_failures(answer: Any, sentence: str) -> None:
    check_fails(INC, answer, sentence)


def capped_quoted_text(client: Any, key: str) -> None:
    """A for loop with a cap, a quoted key, the body's text parsed by hand, and the ETag
    header spelt ETag; a strong write does no harm."""
    url = f"{STATE}/{quote(key, safe='')}"
    for _ in range(25):
        current = client.get(url)
        item: dict[str, Any] = {"key": key, "options": {"concurrency": "first-write"}}
        if current.status_code == 204:
            item["value"] = 1
        else:
            item.update(value=int(current.text) + 1, etag=current.headers["ETag"])
            item["options"]["consistency"] = "strong"
        saved = client.post(STATE, json=[item])
        if saved.is_success:
            return
        if saved.status_code not in (409, 500):
            saved.raise_for_status()
    raise RuntimeError("gave up after 25 conflicts")


def recursive_by_error_code(client: Any, key: str, depth: int = 0) -> None:
    """Reads twice before it writes, raises for any failure and retries (recursively) when
    Dapr's error code says the save failed."""
    client.get(f"{STATE}/{key}")  # a warm-up read: extra requests are fine
    _, item = read(client, key)
    try:
        client.post(STATE, json=[item]).raise_for_status()
    except httpx.HTTPStatusError as error:
        if error.response.json()["errorCode"] != "ERR_STATE_SAVE" or depth > 20:
            raise
        recursive_by_error_code(client, key, depth + 1)


@pytest.mark.parametrize("answer", [capped_quoted_text, recursive_by_error_code])
def test_increment_other_right_answers_pass(answer: Any) -> None:
    result = exercise(INC).check(answer)
    assert result.passed, result.message


BACKOFF = "backoff-delays"


def ceiling(failures: int) -> float:
    return min(1000.0, 10.0 * 2 ** failures)


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda failures, rng: ceiling(failures) / 2 + rng.random() * ceiling(failures) / 2,
     "after 0 failure(s), your 200 delays fell 0/0/106/94 in the four quarters of [0, 10] ms; "
     "none was below 5 ms: that is equal jitter (half the ceiling plus a random half); full "
     "jitter draws from the whole range."),
    (lambda failures, rng: random.random() * ceiling(failures),  # noqa: S311 - under test
     "for a generator seeded the same (0): draw from rng only (not the global random "
     "module), so a seeded run repeats"),
    (lambda failures, rng: random.Random(failures).random() * ceiling(failures),  # noqa: S311
     "backoff_ms(0, rng) returned 8.44422 ms without drawing from rng (its state did not "
     "change): the jitter must come from the generator you are given"),
    (lambda failures, rng: rng.random() * 10 * 2 ** failures,
     "backoff_ms(7, rng) returned 1080.86 ms (rng seeded 0); after 7 failure(s) a delay must "
     "lie in [0, 1000] ms, the ceiling min(1000, 10 * 2**failures)"),
    (lambda failures, rng: rng.random() * 10,
     "after 1 failure(s), your 200 delays fell 106/94/0/0 in the four quarters of [0, 20] ms; "
     "none reached the top quarter: the ceiling is 10 * 2**failures ms (here 20), doubling "
     "with every failure up to 1000."),
    (lambda failures, rng: min(1000, rng.random() * 10 * 2 ** failures),
     "after 8 failure(s), your 200 delays fell 24/18/20/138 in the four quarters of [0, 1000] "
     "ms; 120 were exactly 1000 ms: cap the ceiling, then draw below it"),
    (lambda failures, rng: 10 * 2 ** failures, "returned 10 ms without drawing from rng"),
    (lambda failures, rng: rng.random() * 5, "after 0 failure(s), your 200 delays fell "
     "106/94/0/0 in the four quarters of [0, 10] ms; none reached the top quarter"),
    (lambda failures, rng: "x", "backoff_ms(0, rng) returned 'x': it must return a number of "
                                "milliseconds"),
    (lambda failures, rng: -1, "backoff_ms(0, rng) returned -1 ms (rng seeded 0); after 0 "
                               "failure(s) a delay must lie in [0, 10] ms"),
])
def test_backoff_failures(answer: Any, sentence: str) -> None:
    check_fails(BACKOFF, answer, sentence)


@pytest.mark.parametrize("answer", [
    lambda failures, rng: rng.uniform(0, min(1000, 10 * 2 ** failures)),
    lambda failures, rng: rng.randint(0, min(1000, 10 * 2 ** failures)),  # whole milliseconds
    lambda failures, rng: round(rng.random() * ceiling(failures)),
])
def test_backoff_other_right_answers_pass(answer: Any) -> None:
    result = exercise(BACKOFF).check(answer)
    assert result.passed, result.message


# -- the same increment with the official SDK: wrong answers fail, other right answers pass --

SDK = "sdk-increment-with-retry"
FIRST_WRITE = StateOptions(concurrency=Concurrency.first_write)


def sdk_without_etag(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    client.save_state("statestore", key, str(int(state.data) + 1))


def sdk_swallowing_every_error(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    try:
        client.save_state("statestore", key, str(int(state.data) + 1), etag=state.etag,
                          options=FIRST_WRITE)
    except Exception:  # noqa: BLE001, S110 - the mistake under test
        pass


def sdk_retrying_without_reading_again(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    while True:
        try:
            client.save_state("statestore", key, str(int(state.data) + 1), etag=state.etag,
                              options=FIRST_WRITE)
            return
        except DaprGrpcError:
            continue


def sdk_fresh_etag_stale_value(client: Any, key: str) -> None:
    first = int(client.get_state("statestore", key).data)
    while True:
        state = client.get_state("statestore", key)
        try:
            client.save_state("statestore", key, str(first + 1), etag=state.etag,
                              options=FIRST_WRITE)
            return
        except DaprGrpcError:
            continue


def sdk_check_then_act(client: Any, key: str) -> None:
    state = client.get_state("statestore", key)
    if client.get_state("statestore", key).etag == state.etag:  # "nobody wrote": too late
        client.save_state("statestore", key, str(int(state.data) + 1))


@pytest.mark.parametrize(("answer", "sentence"), [
    (sdk_without_etag, "schedule 1: your function raised DaprGrpcError INTERNAL: failed "
                       "saving state in state store statestore: failed to set key myapp||hits"),
    (sdk_swallowing_every_error, "2 SaveState(hits, stale etag '1') -> ABORTED. The counter holds "
                                 "11, expected 12: your function returned without saving its "
                                 "increment."),
    (sdk_retrying_without_reading_again, "your function sent more than 60 requests; does a "
                                         "loop ever end? Your calls and Dapr's answers: 1 "
                                         "GetState(hits) -> OK; 2-60 SaveState(hits, "
                                         "stale etag '1') -> ABORTED (59 times)."),
    (sdk_fresh_etag_stale_value, "an increment was lost"),
    (sdk_check_then_act, "2 GetState(hits) -> OK. The counter holds 11, expected 12: your "
                         "function returned without saving its increment."),
])
def test_sdk_increment_failures(answer: Any, sentence: str) -> None:
    check_fails(SDK, answer, sentence)


def sdk_capped_json_default_concurrency(client: Any, key: str) -> None:
    """A for loop with a cap, JSON both ways, and no options: on Redis an ETag is checked
    with the default concurrency too."""
    for _ in range(20):
        state = client.get_state("statestore", key)
        try:
            client.save_state("statestore", key, json.dumps(state.json() + 1), etag=state.etag)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.ABORTED:
                continue
            raise
        return
    raise RuntimeError("gave up after 20 conflicts")


def sdk_bulk_read_and_error_code(client: Any, key: str) -> None:
    """Reads with get_bulk_state and tells a conflict by its Dapr error code."""
    while True:
        (item,) = client.get_bulk_state("statestore", [key]).items
        try:
            client.save_state("statestore", key, str(int(item.data) + 1).encode(),
                              etag=item.etag, options=FIRST_WRITE)
            break
        except DaprGrpcError as error:
            if error.error_code() != "ERR_STATE_SAVE":
                raise


@pytest.mark.parametrize("answer", [sdk_capped_json_default_concurrency,
                                    sdk_bulk_read_and_error_code])
def test_sdk_increment_other_right_answers_pass(answer: Any) -> None:
    result = exercise(SDK).check(answer)
    assert result.passed, result.message


# -- an increment whose answer may be lost: wrong answers fail, other right answers pass --

TIMEOUT = "increment-after-timeout"


def read_answered(client: Any, url: str) -> httpx.Response:
    """A read, sent again while it times out (a read changes nothing)."""
    while True:
        try:
            return client.get(url)
        except httpx.TimeoutException:
            continue


def tagged_item(key: str, reply: httpx.Response, op_id: str) -> dict[str, Any]:
    counter = reply.json()
    return {"key": key, "etag": reply.headers["etag"],
            "value": {"count": counter["count"] + 1, "ops": [*counter["ops"], op_id]},
            "options": {"concurrency": "first-write"}}


def retrying_blindly(client: Any, key: str, op_id: str) -> None:
    """Retries a timed-out save from a fresh read, never asking whether it landed."""
    while True:
        try:
            reply = client.get(f"{STATE}/{key}")
            saved = client.post(STATE, json=[tagged_item(key, reply, op_id)])
        except httpx.TimeoutException:
            continue
        if saved.status_code == 204:
            return


def giving_up_after_a_timeout(client: Any, key: str, op_id: str) -> None:
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        try:
            saved = client.post(STATE, json=[tagged_item(key, reply, op_id)])
        except httpx.TimeoutException:
            return  # "it probably landed"
        if saved.status_code == 204:
            return


def not_handling_timeouts(client: Any, key: str, op_id: str) -> None:
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        if client.post(STATE, json=[tagged_item(key, reply, op_id)]).status_code == 204:
            return


def swallowing_every_error_of_a_save(client: Any, key: str, op_id: str) -> None:
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        try:
            client.post(STATE, json=[tagged_item(key, reply, op_id)]).raise_for_status()
            return
        except httpx.HTTPStatusError:
            continue  # a conflict: go round again
        except:  # noqa: E722 - the mistake under test: the timeout is swallowed as success
            return


def checking_the_last_id_only(client: Any, key: str, op_id: str) -> None:
    """Asks whether the save landed, but looks at the newest id only."""
    while True:
        try:
            reply = client.get(f"{STATE}/{key}")
            if reply.json()["ops"][-1:] == [op_id]:
                return
            saved = client.post(STATE, json=[tagged_item(key, reply, op_id)])
        except httpx.TimeoutException:
            continue
        if saved.status_code == 204:
            return


def conflict_after_a_timeout_means_it_landed(client: Any, key: str, op_id: str) -> None:
    """Resends a timed-out save unchanged and takes a 409 to mean its first copy landed."""
    timed_out = False
    while True:
        item = tagged_item(key, read_answered(client, f"{STATE}/{key}"), op_id)
        while True:
            try:
                saved = client.post(STATE, json=[item])
                break
            except httpx.TimeoutException:
                timed_out = True
        if saved.status_code == 204 or (saved.status_code == 409 and timed_out):
            return


def moved_etag_means_it_landed(client: Any, key: str, op_id: str) -> None:
    """After a timeout, reads again: the ETag moved, so the save "must have" landed."""
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        try:
            saved = client.post(STATE, json=[tagged_item(key, reply, op_id)])
        except httpx.TimeoutException:
            again = read_answered(client, f"{STATE}/{key}")
            if again.headers["etag"] != reply.headers["etag"]:
                return
            continue
        if saved.status_code == 204:
            return


def dropping_the_ids(client: Any, key: str, op_id: str) -> None:
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        item = tagged_item(key, reply, op_id)
        item["value"] = reply.json()["count"] + 1
        if client.post(STATE, json=[item]).status_code == 204:
            return


LOST_409 = ("schedule 22: your request 2 timed out after Dapr answered 409 (the answer was "
            "lost); another writer incremented the counter right after your request 1. Your "
            "requests and Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag '1', "
            "first-write] -> 409, answer lost (ReadTimeout)")


def only_my_id(client: Any, key: str, op_id: str) -> None:
    """The reference loop, but it keeps only its own id: other writers cannot find theirs."""
    while True:
        try:
            reply = client.get(f"{STATE}/{key}")
            if op_id in reply.json()["ops"]:
                return
            item = tagged_item(key, reply, op_id)
            item["value"]["ops"] = [op_id]
            saved = client.post(STATE, json=[item])
        except httpx.TimeoutException:
            continue
        if saved.status_code == 204:
            return


def without_my_id(client: Any, key: str, op_id: str) -> None:
    """Counts right when nothing times out, but never stores its id."""
    while True:
        reply = read_answered(client, f"{STATE}/{key}")
        item = tagged_item(key, reply, op_id)
        item["value"]["ops"] = reply.json()["ops"]
        if client.post(STATE, json=[item]).status_code == 204:
            return


@pytest.mark.parametrize(("answer", "sentence"), [
    (only_my_id, "schedule 0: none of your requests timed out; no other writer got in. Your "
     "requests and Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag '1', "
     "first-write] -> 204. The count is right (11), but ops holds ['op-mine'], without the ids "
     "'op-1', 'op-2' of other increments: a writer whose save times out looks for its id "
     "there."),
    (without_my_id, "schedule 0: none of your requests timed out; no other writer got in. Your "
     "requests and Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag '1', "
     "first-write] -> 204. The count is right (11), but ops holds ['op-1', 'op-2'], not your "
     "op_id 'op-mine' once: after a timeout, that id is what tells you whether your save "
     "landed."),
    (retrying_blindly, "schedule 21: your request 2 timed out after Dapr answered 204 (the "
     "answer was lost); no other writer got in. Your requests and Dapr's answers: 1 GET hits "
     "-> 200; 2 POST statestore [hits, etag '1', first-write] -> 204, answer lost "
     "(ReadTimeout); 3 GET hits -> 200; 4 POST statestore [hits, etag '2', first-write] -> "
     "204. The count is 12, expected 11: Dapr applied 2 of your saves, so your one increment "
     "counted twice."),
    (giving_up_after_a_timeout, LOST_409 + ". The count is 11, expected 12: Dapr applied none "
     "of your saves: your increment was lost."),
    (not_handling_timeouts, "schedule 21: your function raised ReadTimeout: timed out (Dapr "
     "handled the request; the answer was lost). Your requests and Dapr's answers: 1 GET hits "
     "-> 200; 2 POST statestore [hits, etag '1', first-write] -> 204, answer lost "
     "(ReadTimeout)."),
    (swallowing_every_error_of_a_save, LOST_409 + ". The count is 11, expected 12: Dapr "
     "applied none of your saves: your increment was lost."),
    (checking_the_last_id_only, "schedule 23: your request 2 timed out after Dapr answered 204 "
     "(the answer was lost); another writer incremented the counter right after your request "
     "2. Your requests and Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag "
     "'1', first-write] -> 204, answer lost (ReadTimeout); 3 GET hits -> 200; 4 POST "
     "statestore [hits, etag '3', first-write] -> 204. The count is 13, expected 12: Dapr "
     "applied 2 of your saves, so your one increment counted twice."),
    (conflict_after_a_timeout_means_it_landed, LOST_409 + "; 3 POST statestore [hits, etag "
     "'1', first-write] -> 409. The count is 11, expected 12: Dapr applied none of your saves: "
     "your increment was lost."),
    (moved_etag_means_it_landed, LOST_409 + "; 3 GET hits -> 200. The count is 11, expected "
     "12: Dapr applied none of your saves: your increment was lost."),
    (dropping_the_ids, "schedule 0: none of your requests timed out; no other writer got in. "
     "Your requests and Dapr's answers: 1 GET hits -> 200; 2 POST statestore [hits, etag '1', "
     "first-write] -> 204. 'hits' holds 11: keep the counter as {\"count\": n, \"ops\": [...]}, "
     "adding 1 to count and your op_id to ops."),
])
def test_increment_after_timeout_failures(answer: Any, sentence: str) -> None:
    check_fails(TIMEOUT, answer, sentence)


def capped_quoted_checks_only_after_a_timeout(client: Any, key: str, op_id: str) -> None:
    """A for loop with a cap and a quoted key; it asks whether its save landed only after a
    timeout, and parses the body's text by hand."""
    url = f"{STATE}/{quote(key, safe='')}"
    unsure = False
    for _ in range(30):
        try:
            reply = client.get(url)
        except httpx.TransportError:
            continue
        counter = json.loads(reply.text)
        if unsure and op_id in counter["ops"]:
            return
        counter["count"] += 1
        counter["ops"] = [*counter["ops"], op_id][-20:]
        try:
            saved = client.post(STATE, json=[{"key": key, "value": counter,
                                              "etag": reply.headers["ETag"],
                                              "options": {"concurrency": "first-write"}}])
        except httpx.TransportError:
            unsure = True
            continue
        unsure = False  # Dapr answered: 204 done, 409 not applied
        if saved.is_success:
            return
        if saved.status_code != 409:
            saved.raise_for_status()
    raise RuntimeError("gave up after 30 attempts")


def bulk_reads_and_a_helper(client: Any, key: str, op_id: str) -> None:
    """Reads with the bulk API and keeps the question "did it land?" in a helper."""
    def current() -> dict[str, Any]:
        while True:
            try:
                reply = client.post(f"{STATE}/bulk", json={"keys": [key]})
            except httpx.ReadTimeout:
                continue
            item: dict[str, Any] = reply.json()[0]
            return item

    def landed() -> bool:
        return op_id in current()["data"]["ops"]

    while True:
        item = current()
        data = item["data"]
        body = [{"key": key, "etag": item["etag"], "options": {"concurrency": "first-write"},
                 "value": {"count": data["count"] + 1, "ops": [*data["ops"][-19:], op_id]}}]
        try:
            saved = client.post(STATE, json=body)
        except httpx.ReadTimeout:
            if landed():
                return
            continue
        if saved.status_code == 204:
            return
        if saved.status_code != 409:
            saved.raise_for_status()


@pytest.mark.parametrize("answer", [capped_quoted_checks_only_after_a_timeout,
                                    bulk_reads_and_a_helper])
def test_increment_after_timeout_other_right_answers_pass(answer: Any) -> None:
    result = exercise(TIMEOUT).check(answer)
    assert result.passed, result.message
