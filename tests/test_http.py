"""The ASGI adapter: raw paths, body limits, header spelling, lifespan, offloading."""

from __future__ import annotations

import asyncio
import http.client
from typing import Any

import httpx
import pytest

from statelab.dapr.http import StateAPI
from statelab.dapr.components import Component
from statelab.server.asgi import StateApp
from statelab.server.sidecar import start


def memory_api(**kwargs: Any) -> StateAPI:
    return StateAPI([Component(name="s", type="state.in-memory", version="v1", metadata={},
                               source="(test)")], **kwargs)


async def call(app: StateApp, method: str, url: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://statelab") as client:
        return await client.request(method, url, **kwargs)


@pytest.mark.parametrize("offload", [False, True])
def test_round_trip_in_process(offload: bool) -> None:
    app = StateApp(memory_api(), offload=offload)

    async def scenario() -> tuple[int, int, str]:
        saved = await call(app, "POST", "/v1.0/state/s", json=[{"key": "a/b", "value": 1}])
        read = await call(app, "GET", "/v1.0/state/s/a%2Fb")  # the escaped path is routed
        return saved.status_code, read.status_code, read.text

    try:
        assert asyncio.run(scenario()) == (204, 200, "1")
    finally:
        app.close()


def test_body_over_the_limit_is_drained_and_rejected() -> None:
    app = StateApp(memory_api(max_body_size=64))

    async def scenario() -> httpx.Response:
        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 50
        return await call(app, "POST", "/v1.0/state/s", content=chunks())

    reply = asyncio.run(scenario())
    assert reply.status_code == 400
    assert reply.json() == {"errorCode": "ERR_MALFORMED_REQUEST", "message": "stream too large"}


def test_lifespan_protocol() -> None:
    app = StateApp(memory_api())
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]


def test_wire_headers_use_go_spelling() -> None:
    """§4 and §19.9: an unquoted Etag, no body and no Content-Type on 204.

    Go writes ``Etag``; uvicorn lowercases header names on the wire. Header names are
    case-insensitive in HTTP, so this is the one byte-level difference a client can see.
    """
    sidecar = start(0, "wire", quiet=True)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.port, timeout=10)
        request_and_check(conn)
    finally:
        sidecar.stop()


def request_and_check(conn: http.client.HTTPConnection) -> None:
    try:
        conn.request("POST", "/v1.0/state/statestore", body=b'[{"key":"k","value":1}]')
        saved = conn.getresponse()
        assert (saved.status, saved.read(), saved.getheader("Content-Type")) == (204, b"", None)
        conn.request("GET", "/v1.0/state/statestore/k")
        read = conn.getresponse()
        names = [name.lower() for name, _ in read.getheaders()]
        assert {"etag", "content-type", "content-length"} <= set(names)
        assert read.getheader("Etag") == "1"
        assert read.read() == b"1"
        assert "server" not in names
    finally:
        conn.close()


# -- issue 13: the token as Go reads it, reserved metadata ----------------------------------------

@pytest.mark.parametrize("sent", ["t0k", " t0k", "t0k\t", " \t t0k \t "])
def test_the_token_is_compared_with_surrounding_spaces_trimmed(sent: str) -> None:
    api = StateAPI(api_token="t0k")
    assert api.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": sent}
                       ).status == 204


@pytest.mark.parametrize("sent", ["t0 k", "T0K", "t0k1", ""])
def test_any_other_token_is_refused(sent: str) -> None:
    api = StateAPI(api_token="t0k")
    assert api.request("GET", "/v1.0/state/statestore/k", headers={"dapr-api-token": sent}
                       ).status == 401


def test_an_empty_token_is_no_token() -> None:
    assert StateAPI(api_token="").api_token is None
    assert StateAPI(api_token="").request("GET", "/v1.0/state/statestore/k").status == 204


def test_reserved_attributes_are_out_of_reach_of_put_metadata() -> None:
    api = StateAPI(extended={"statelab": "0.2", "statelab.role": "kernel"})
    for name in ("statelab.role", "statelab", "daprRuntimeVersion"):
        assert api.request("PUT", f"/v1.0/metadata/{name}", content="process").status == 204
    assert api.request("PUT", "/v1.0/metadata/mine", content="yes").status == 204
    extended = api.request("GET", "/v1.0/metadata").json()["extended"]
    assert extended == {"statelab": "0.2", "statelab.role": "kernel",
                        "daprRuntimeVersion": "1.18.3", "mine": "yes"}


def test_begin_decides_from_the_headers_and_weighs_the_work() -> None:
    api = StateAPI(api_token="t")
    assert api.begin("POST", "/v1.0/state/statestore", {}).answer is not None  # 401
    assert api.begin("GET", "/v1.0/healthz", {}).answer is None  # public
    auth = {"dapr-api-token": "t"}
    assert api.begin("GET", "/v1.0/nowhere", auth).weight(0) == "none"
    assert api.begin("GET", "/v1.0/healthz", auth).weight(0) == "none"
    assert api.begin("GET", "/v1.0/metadata", auth).weight(0) == "none"
    assert api.begin("GET", "/v1.0/state/statestore/k", auth).weight(0) == "light"
    assert api.begin("POST", "/v1.0/state/statestore", auth).weight(100) == "light"
    assert api.begin("POST", "/v1.0/state/statestore", auth).weight(1 << 20) == "heavy"
    assert api.begin("POST", "/v1.0/state/statestore/bulk", auth).weight(10) == "heavy"
    assert api.begin("POST", "/v1.0/state/statestore/transaction", auth).weight(10) == "heavy"
