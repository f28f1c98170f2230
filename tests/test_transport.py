"""The in-process httpx transport: the same answers as the sidecar, without a socket.

The default store is the process-wide embedded Redis named ``statestore`` (as after
``dapr init``), so each test uses keys of its own.
"""

from __future__ import annotations

import asyncio

import httpx

from statelab.dapr.http import StateAPI
from statelab.server.transport import DEFAULT_BASE_URL, StateTransport, in_process_client


def test_a_sync_client_saves_reads_and_conflicts() -> None:
    with in_process_client() as dapr:
        dapr.delete("/v1.0/state/statestore/sync-k")
        assert dapr.post("/v1.0/state/statestore", json=[{"key": "sync-k", "value": {"n": 1}}]
                         ).status_code == 204
        read = dapr.get("/v1.0/state/statestore/sync-k")
        assert (read.status_code, read.json(), read.headers["etag"]) == (200, {"n": 1}, "1")
        stale = dapr.post("/v1.0/state/statestore", json=[
            {"key": "sync-k", "value": 2, "etag": "7", "options": {"concurrency": "first-write"}}])
        assert stale.status_code == 409
        assert stale.json()["errorCode"] == "ERR_STATE_SAVE"


def test_keys_travel_escaped_as_over_a_socket() -> None:
    with in_process_client() as dapr:
        dapr.post("/v1.0/state/statestore", json=[{"key": "a/b c", "value": 1}])
        assert dapr.get("/v1.0/state/statestore/a%2Fb%20c").json() == 1
        assert dapr.get("/v1.0/state/statestore/a/b").status_code == 404  # another route


def test_an_async_client_works_too() -> None:
    async def run() -> tuple[int, bytes]:
        async with httpx.AsyncClient(base_url=DEFAULT_BASE_URL,
                                     transport=StateTransport()) as dapr:
            await dapr.post("/v1.0/state/statestore", json=[{"key": "async-k", "value": "v"}])
            reply = await dapr.get("/v1.0/state/statestore/async-k")
            return reply.status_code, reply.content

    assert asyncio.run(run()) == (200, b'"v"')


def test_the_body_limit_applies_as_on_the_sidecar() -> None:
    api = StateAPI(max_body_size=64)
    with in_process_client(api) as dapr:
        reply = dapr.post("/v1.0/state/statestore", json=[{"key": "big", "value": "x" * 100}])
        assert reply.status_code == 400
        assert reply.json()["message"] == "stream too large"
        assert dapr.get("/v1.0/state/statestore/big").status_code == 204  # nothing stored


def test_hooks_see_each_request_and_its_answer() -> None:
    seen: list[str] = []
    answered: list[int] = []
    transport = StateTransport(observe=lambda request: seen.append(request.method),
                               after=lambda request, reply: answered.append(reply.status))
    with httpx.Client(base_url=DEFAULT_BASE_URL, transport=transport) as dapr:
        dapr.get("/v1.0/state/statestore/missing")
        dapr.get("/v1.0/state/nostore/k")
    assert (seen, answered) == (["GET", "GET"], [204, 400])


def test_the_api_token_is_checked() -> None:
    with in_process_client(StateAPI(api_token="s3cret")) as dapr:
        assert dapr.get("/v1.0/state/statestore/never-saved").status_code == 401
        assert dapr.get("/v1.0/state/statestore/never-saved",
                        headers={"dapr-api-token": "s3cret"}).status_code == 204
        assert dapr.get("/v1.0/healthz").status_code == 204
