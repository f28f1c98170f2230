"""The lab: the learner's client on an in-process sidecar, with writers between its requests."""

from __future__ import annotations

import httpx
import pytest

from statelab.dapr.components import Component
from statelab.dapr.service import StateService
from statelab.exercises.framework import CheckFailed, RequestBudgetExceeded, run_answer
from statelab.exercises.lab import (
    MAX_REQUESTS,
    Interference,
    Lab,
    Timeout,
    competing_increment,
    say_runs,
)
from statelab.stores.memory import MemoryStore


def test_the_client_talks_dapr_http_to_a_redis_statestore() -> None:
    with Lab() as lab:
        assert str(lab.client.base_url) == "http://127.0.0.1:3500"
        saved = lab.client.post("/v1.0/state/statestore", json=[{"key": "k", "value": [1]}])
        assert saved.status_code == 204
        assert lab.value("k") == [1]
        assert lab.etag("k") == "1"  # Redis versions, not UUIDs
        assert lab.client.get("/v1.0/state/statestore/k").headers["etag"] == "1"
        assert [r.method for r in lab.requests] == ["POST", "GET"]
    assert lab.client.is_closed


def test_missing_keys_read_as_none() -> None:
    with Lab() as lab:
        assert lab.value("nope") is None and lab.etag("nope") is None


def test_components_replace_the_default_store() -> None:
    with Lab([Component.around(MemoryStore(), "memstore")]) as lab:
        lab.save("k", "v", store="memstore")
        assert lab.value("k", "memstore") == "v"
        assert lab.client.get("/v1.0/state/statestore/k").status_code == 400  # E2: no such store


def test_interference_runs_right_after_the_nth_request() -> None:
    seen: list[tuple[int, object]] = []

    def spy(service: StateService) -> None:
        seen.append((len(lab.requests), service.get("statestore", "n")))

    with Lab(interference=[Interference(2, competing_increment("n")), Interference(1, spy)]
             ) as lab:
        for _ in range(3):
            lab.client.get("/v1.0/state/statestore/n")
        assert seen == [(1, None)]
        assert lab.value("n") == 1
        assert lab.client.get("/v1.0/state/statestore/n").json() == 1


def test_the_competing_writer_honours_etags() -> None:
    with Lab() as lab:
        lab.save("n", 10)
        competing_increment("n")(lab.service)
        competing_increment("n")(lab.service)
        assert lab.value("n") == 12 and lab.etag("n") == "3"


def test_tick_runs_before_each_request_is_answered() -> None:
    ticks: list[int] = []
    with Lab(tick=lambda: ticks.append(len(lab.requests))) as lab:
        lab.client.get("/v1.0/state/statestore/a")
        lab.client.get("/v1.0/state/statestore/a")
    assert ticks == [1, 2]


def test_a_request_budget_stops_endless_loops() -> None:
    with Lab() as lab:
        for _ in range(MAX_REQUESTS):
            lab.client.get("/v1.0/state/statestore/a")
        with pytest.raises(RequestBudgetExceeded, match="^your function sent more than 60 "
                           "requests; does a loop ever end\\?$"):
            lab.client.get("/v1.0/state/statestore/a")


def test_the_budget_ends_a_loop_that_swallows_every_exception() -> None:
    def swallow_everything(client: httpx.Client) -> None:
        while True:
            try:
                client.get("/v1.0/state/statestore/a")
            except Exception:  # noqa: BLE001, S112 - the mistake under test
                continue

    with Lab() as lab, pytest.raises(CheckFailed, match="more than 60 requests"):
        run_answer(swallow_everything, lab.client)


def test_the_transcript_numbers_requests_with_dapr_s_answers() -> None:
    with Lab(interference=[Interference(1, competing_increment("hits"))]) as lab:
        lab.save("hits", 1)
        etag = lab.client.get("/v1.0/state/statestore/hits").headers["etag"]
        lab.client.post("/v1.0/state/statestore", json=[
            {"key": "hits", "value": 2, "etag": etag, "options": {"concurrency": "first-write"}}])
        lab.client.delete("/v1.0/state/statestore/hits", headers={"If-Match": "2"},
                          params={"concurrency": "first-write"})
        lab.client.post("/v1.0/state/statestore", content=b"not json")
        lab.client.post("/v1.0/state/statestore/transaction", json={"operations": []})
        assert lab.transcript() == (
            "1 GET hits -> 200; 2 POST statestore [hits, etag '1', first-write] -> 409; "
            "3 DELETE hits ?concurrency=first-write (If-Match '2') -> 204; "
            "4 POST statestore (a body that is not JSON) -> 400; 5 POST transaction -> 204")


def test_runs_of_the_same_line_are_said_once() -> None:
    assert say_runs([]) == "no requests"
    assert say_runs(["a", "b", "b", "c", "c", "c", "c"]) == "1 a; 2 b; 3 b; 4-7 c (4 times)"


def test_runs_of_the_same_pair_are_said_once() -> None:
    lines = ["GET", "POST 409", "GET", "POST 409", "GET", "POST 409", "GET", "POST 204"]
    assert say_runs(lines) == ("1-6 alternately GET and POST 409 (3 times each); 7 GET; "
                               "8 POST 204")
    assert say_runs(["a", "b", "a", "b", "c"]) == "1 a; 2 b; 3 a; 4 b; 5 c"


def test_answer_names_the_schedule_and_the_requests_that_led_to_a_failure() -> None:
    def fails(client: httpx.Client) -> None:
        client.get("/v1.0/state/statestore/a")
        raise ValueError("boom")

    with Lab() as lab, pytest.raises(CheckFailed) as failure:
        lab.answer(3, fails, lab.client)
    assert str(failure.value) == ("schedule 3: your function raised ValueError: boom. Your "
                                  "requests and Dapr's answers: 1 GET a -> 204.")


def test_runs_of_the_same_triple_are_said_once() -> None:
    """A transfer's loop: read, read, refused transaction."""
    lines = ["GET a", "GET b", "POST 500"] * 3 + ["GET a"]
    assert say_runs(lines) == ("1-9 in turn GET a, GET b and POST 500 (3 times each); "
                               "10 GET a")
    assert say_runs(["x", "x", "x", "y"]) == "1-3 x (3 times); 4 y"


def test_a_transaction_is_described_by_its_operations() -> None:
    with Lab() as lab:
        lab.save("a", 1)
        lab.client.post("/v1.0/state/statestore/transaction", json={"operations": [
            {"operation": "upsert", "request": {"key": "a", "value": 2, "etag": "1"}},
            {"operation": "delete", "request": {"key": "b"}}, "odd"]})
        lab.client.post("/v1.0/state/statestore/transaction", content=b"{")
        assert lab.transcript() == (
            "1 POST transaction [upsert a, etag '1'; delete b; 'odd'] -> 400; "
            "2 POST transaction (a body that is not JSON) -> 400")


def test_a_timeout_after_dapr_handled_the_request_loses_only_the_answer() -> None:
    with Lab(interference=[Interference(1, competing_increment("n"))],
             timeouts=[Timeout(1, reached=True)]) as lab:
        with pytest.raises(httpx.ReadTimeout, match="the answer was lost"):
            lab.client.post("/v1.0/state/statestore", json=[{"key": "n", "value": 5}])
        assert lab.value("n") == 6  # saved, then the other writer incremented it
        assert lab.transcript() == "1 POST statestore [n] -> 204, answer lost (ReadTimeout)"


def test_a_timeout_before_the_request_reached_dapr_changes_nothing() -> None:
    with Lab(interference=[Interference(1, competing_increment("n"))],
             timeouts=[Timeout(1, reached=False)]) as lab:
        with pytest.raises(httpx.ReadTimeout, match="never reached Dapr"):
            lab.client.post("/v1.0/state/statestore", json=[{"key": "n", "value": 5}])
        assert lab.value("n") == 1  # only the other writer's increment, after the request
        lab.client.get("/v1.0/state/statestore/n")
        assert lab.transcript() == ("1 POST statestore [n] -> never reached Dapr (ReadTimeout); "
                                    "2 GET n -> 200")
