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

import pytest

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
    original = api.service.bulk_get_steps

    def slow_bulk_get(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return (yield from original(*args, **kwargs))

    api.service.bulk_get_steps = slow_bulk_get  # type: ignore[method-assign]

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
    store = api.components[0].open()
    original = store.get

    def recording_get(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    store.get = recording_get  # type: ignore[method-assign]

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


# -- issue 14: native asyncio stores are awaited on the loop ------------------------------------

def _real_redis_api(address: str) -> StateAPI:
    component = Component(name="statestore", type="state.redis", version="v1",
                          metadata={"redisHost": address, "redisDB": "9"}, source="(tests)")
    return StateAPI([component], app_id="asgi")


def _forbid_sync_calls(api: StateAPI) -> list[str]:
    """Make the synchronous store record (in which thread) every call it gets."""
    store = api.components[0].open()
    calls: list[str] = []
    for name in ("get", "set", "delete", "multi"):
        original = getattr(store, name)

        def recording(*args: Any, _original: Any = original, _name: str = name) -> Any:
            calls.append(f"{_name} in {threading.current_thread().name}")
            return _original(*args)

        setattr(store, name, recording)
    return calls


@pytest.mark.real_redis
def test_a_real_redis_is_awaited_on_the_loop_without_a_thread(redis_server: Any) -> None:
    api = _real_redis_api(redis_server.address)
    sync_calls = _forbid_sync_calls(api)
    app = StateApp(api)

    async def scenario() -> list[tuple[int, bytes]]:
        exchanges = [
            await _call(app, "POST", "/v1.0/state/statestore", b'[{"key":"k","value":1}]'),
            await _call(app, "GET", "/v1.0/state/statestore/k"),
            await _call(app, "POST", "/v1.0/state/statestore",
                        b'[{"key":"k","value":2,"etag":"7"}]'),
            await _call(app, "POST", "/v1.0/state/statestore/transaction",
                        b'{"operations":[{"operation":"upsert",'
                        b'"request":{"key":"t","value":3}}]}'),
            await _call(app, "DELETE", "/v1.0/state/statestore/k"),
        ]
        # A bulk read may answer megabytes: it runs on the synchronous store, in the pool.
        exchanges.append(await _call(app, "POST", "/v1.0/state/statestore/bulk",
                                     b'{"keys":["t"]}'))
        await app._close_natives()  # noqa: SLF001 - what the lifespan's shutdown does
        return [(e.status, e.payload) for e in exchanges]

    try:
        answers = asyncio.run(scenario())
    finally:
        app.close()
        redis_server.client(db=9).flushdb()
    assert [status for status, _ in answers] == [204, 200, 409, 204, 204, 200]
    assert answers[1][1] == b"1"
    assert json.loads(answers[2][1])["errorCode"] == "ERR_STATE_SAVE"
    assert json.loads(answers[5][1]) == [{"key": "t", "data": 3, "etag": "1"}]
    assert sync_calls == ["get in statelab-store_0"]


@pytest.mark.real_redis
def test_with_native_stores_off_every_call_goes_to_the_pool(redis_server: Any,
                                                            monkeypatch: Any) -> None:
    monkeypatch.setenv("STATELAB_ASYNC_STORES", "off")
    api = _real_redis_api(redis_server.address)
    sync_calls = _forbid_sync_calls(api)
    app = StateApp(api)

    async def scenario() -> list[int]:
        return [(await _call(app, "POST", "/v1.0/state/statestore",
                             b'[{"key":"k","value":1}]')).status,
                (await _call(app, "GET", "/v1.0/state/statestore/k")).status]

    try:
        assert asyncio.run(scenario()) == [204, 200]
    finally:
        app.close()
        redis_server.client(db=9).flushdb()
    assert [call.split(" in ")[0] for call in sync_calls] == ["set", "get"]
    assert all(call.split(" in ")[1].startswith("statelab-store") for call in sync_calls)


def test_a_strong_replicated_write_waits_on_the_loop_while_others_are_served() -> None:
    """The replicated store's strong write waits for its replicas with asyncio.sleep: a read
    sent meanwhile is answered first, and no thread of the pool is used."""
    component = Component(name="statestore", type="state.replicated", version="v1",
                          metadata={"replicas": "2", "lagDistribution": "fixed",
                                    "lagMinMs": "60000", "lagMaxMs": "60000"},
                          source="(tests)")
    api = StateAPI([component], app_id="asgi")
    store = component.open()
    written_in: list[str] = []
    original = store.write  # type: ignore[attr-defined]

    def recording_write(request: Any) -> Any:
        written_in.append(threading.current_thread().name)
        return original(request)

    store.write = recording_write  # type: ignore[attr-defined]
    app = StateApp(api)
    strong = b'[{"key":"k","value":1,"options":{"consistency":"strong"}}]'

    async def scenario() -> tuple[int, bool, int]:
        write = asyncio.create_task(_call(app, "POST", "/v1.0/state/statestore", strong))
        while not written_in:  # the write reached the store and now waits for the replicas
            await asyncio.sleep(0)
        read = await _call(app, "GET", "/v1.0/state/statestore/k?consistency=strong")
        waiting = not write.done()
        write.cancel()  # a 60 s lag: the point is made
        return read.status, waiting, len(written_in)

    try:
        read_status, waiting, writes = asyncio.run(scenario())
    finally:
        app.close()
    assert (read_status, waiting, writes) == (200, True, 1)
    assert written_in == [threading.current_thread().name]  # the loop's thread, not the pool
