"""The ASGI adapter (statelab/server/asgi.py): the token before the body, nothing waits behind a
store call, the background sweep lives between the lifespan's startup and shutdown.

Each test drives :class:`StateApp` as uvicorn would, with ``asyncio.run`` and in-memory
``receive``/``send`` callables; a store call that "takes long" waits on a threading.Event the
test sets, so nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.server.asgi import StateApp


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None
           ) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": b"", "headers": headers or []}


class Exchange:
    """One request: counts how often the app asked for the body, keeps what it sent."""

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.receives = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.receives += 1
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def payload(self) -> bytes:
        return bytes(self.sent[1]["body"])


async def _call(app: StateApp, method: str, path: str, body: bytes = b"",
                headers: list[tuple[bytes, bytes]] | None = None) -> Exchange:
    exchange = Exchange(body)
    await app(_scope(method, path, headers), exchange.receive, exchange.send)
    return exchange


def _memory_api(**kwargs: Any) -> StateAPI:
    store = Component(name="statestore", type="state.in-memory", version="v1", metadata={},
                      source="(tests)")
    return StateAPI([store], app_id="asgi", **kwargs)


def test_a_bad_token_is_answered_before_the_body_is_read() -> None:
    app = StateApp(_memory_api(api_token="secret"))
    upload = json.dumps([{"key": "k", "value": "x" * 100_000}]).encode()

    async def scenario() -> tuple[Exchange, Exchange, Exchange]:
        refused = await _call(app, "POST", "/v1.0/state/statestore", upload)
        wrong = await _call(app, "POST", "/v1.0/state/statestore", upload,
                            [(b"dapr-api-token", b"other")])
        # Go's textproto trims the spaces and tabs around a header value.
        accepted = await _call(app, "POST", "/v1.0/state/statestore", upload,
                               [(b"dapr-api-token", b" \tsecret \t")])
        return refused, wrong, accepted

    try:
        refused, wrong, accepted = asyncio.run(scenario())
    finally:
        app.close()
    for exchange in (refused, wrong):
        assert exchange.status == 401
        assert exchange.receives == 0  # not one chunk of the upload was read
    assert accepted.status == 204 and accepted.receives == 1


def test_health_and_metadata_answer_while_a_long_store_call_runs() -> None:
    api = _memory_api()
    app = StateApp(api)
    entered, release = threading.Event(), threading.Event()
    original = api.service.bulk_get

    def slow_bulk_get(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return original(*args, **kwargs)

    api.service.bulk_get = slow_bulk_get  # type: ignore[method-assign]

    async def scenario() -> dict[str, int]:
        bulk = asyncio.create_task(_call(app, "POST", "/v1.0/state/statestore/bulk",
                                         b'{"keys":["a"]}'))
        assert await asyncio.to_thread(entered.wait, 30)
        # The bulk call holds a pool thread; these must all answer before it is released.
        answers = {
            "healthz": (await asyncio.wait_for(_call(app, "GET", "/v1.0/healthz"), 10)).status,
            "outbound": (await asyncio.wait_for(
                _call(app, "GET", "/v1.0/healthz/outbound"), 10)).status,
            "metadata": (await asyncio.wait_for(_call(app, "GET", "/v1.0/metadata"), 10)).status,
            "save": (await asyncio.wait_for(_call(
                app, "POST", "/v1.0/state/statestore", b'[{"key":"a","value":1}]'), 10)).status,
            "get": (await asyncio.wait_for(
                _call(app, "GET", "/v1.0/state/statestore/a"), 10)).status,
        }
        assert not bulk.done()
        release.set()
        answers["bulk"] = (await asyncio.wait_for(bulk, 10)).status
        return answers

    try:
        answers = asyncio.run(scenario())
    finally:
        release.set()
        app.close()
    assert answers == {"healthz": 204, "outbound": 204, "metadata": 200, "save": 204,
                       "get": 200, "bulk": 200}


def test_light_calls_run_inline_only_while_the_pool_is_idle() -> None:
    api = _memory_api()
    app = StateApp(api)
    threads: list[str] = []
    original = api.service.get

    def recording_get(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    api.service.get = recording_get  # type: ignore[method-assign]

    async def scenario() -> None:
        await _call(app, "GET", "/v1.0/state/statestore/a")

    try:
        asyncio.run(scenario())
    finally:
        app.close()
    assert threads == [threading.current_thread().name]  # the loop's own thread


def test_the_sweep_runs_between_startup_and_shutdown() -> None:
    api = _memory_api()
    app = StateApp(api, sweep_interval=0.001)
    store = api.components[0].open()
    swept = threading.Event()
    original = store.sweep_expired  # type: ignore[attr-defined]

    def recording_sweep() -> None:
        swept.set()
        original()

    store.sweep_expired = recording_sweep  # type: ignore[attr-defined]
    app._sweepers = [store]  # type: ignore[list-item]  # noqa: SLF001 - the patched store

    async def scenario() -> list[str]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            outbox.append(message)

        lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        assert await asyncio.to_thread(swept.wait, 30)
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(lifespan, 10)
        return [m["type"] for m in outbox]

    before = set(threading.enumerate())
    assert asyncio.run(scenario()) == ["lifespan.startup.complete",
                                       "lifespan.shutdown.complete"]
    assert app._sweep_task is None  # noqa: SLF001 - the task is gone, not just cancelled
    for thread in set(threading.enumerate()) - before:
        thread.join(10)  # the pool's threads end once their work is done
        assert not thread.is_alive()


def test_a_large_answer_goes_out_in_pieces_that_add_up() -> None:
    """A bulk read of big values is sent 1 MiB at a time (the loop serves health meanwhile);
    the pieces, joined, are the answer, and Content-Length counts them all."""
    app = StateApp(_memory_api())
    value = "v" * (1536 * 1024)
    saved = json.dumps([{"key": "big", "value": value}]).encode()

    async def scenario() -> Exchange:
        assert (await _call(app, "POST", "/v1.0/state/statestore", saved)).status == 204
        return await _call(app, "POST", "/v1.0/state/statestore/bulk",
                           json.dumps({"keys": ["big", "big"]}).encode())

    exchange = asyncio.run(scenario())
    pieces = exchange.sent[1:]
    assert [len(p["body"]) for p in pieces[:-1]] == [1024 * 1024] * (len(pieces) - 1)
    assert [p.get("more_body", False) for p in pieces] == [True] * (len(pieces) - 1) + [False]
    body = b"".join(p["body"] for p in pieces)
    assert dict(exchange.sent[0]["headers"])[b"Content-Length"] == str(len(body)).encode()
    assert [item["data"] for item in json.loads(body)] == [value, value]
