"""The ASGI adapter: turns HTTP requests into :class:`StateAPI` calls, and never stalls.

A raw ASGI callable rather than Starlette: daprd routes on the *escaped* path (``raw_path``),
enforces a body limit while reading, and falls back to a 404 for every unknown route, so a
framework's router, request parsing and validation would only have to be worked around. The
adapter keeps the HTTP layer's cost near the floor (see ``bench/``).

Header names are handed to uvicorn in Go's canonical spelling (``Etag``), but uvicorn lowercases
them on the wire; HTTP header names are case-insensitive, so clients cannot tell.

Where each request runs (one rule: the event loop never waits on a store, and never hops to a
thread where it can await instead):

* A request is routed and authorised from its headers first (:meth:`StateAPI.begin`): a bad
  token, an unknown route or a bad escape is answered before any of the body is read, so an
  unauthenticated upload costs nothing.
* Health and metadata never touch a store: they are answered on the event loop at once, even
  while every store call is stuck on a frozen Redis.
* A component with a native asyncio store (a real Redis through ``redis.asyncio``, the
  replicated store whose strong writes wait with ``asyncio.sleep``) is *awaited* on the loop
  for every request whose work between store calls is small (:meth:`Pending.awaitable`: one
  key's get or delete, a save or a transaction with a small body): the operation's steps run
  on the loop and each store call is awaited (:func:`statelab.dapr.steps.run_async`).
* Store calls on an embedded store are CPU-bound under the GIL, and a thread hop costs about a
  quarter of a GET (``bench/bench_sidecar.py``), so a *light* call (a GET, a DELETE, a small
  save) runs inline on the loop, but only while no other store call is running in the pool
  (else it could wait on a lock that call holds).
* Everything else (bulk reads, big bodies, a component that blocks and has no asyncio store)
  runs in a thread pool on the synchronous store, so one long request (a bulk read of ten
  4 MiB values) leaves the loop free for others.
* Expired items nobody reads are swept in the background (:class:`ExpirySweeper` stores), in
  the pool, once a second, from an asyncio task that lives between the lifespan's startup and
  shutdown: no thread is left behind when the sidecar stops.

``STATELAB_ASYNC_STORES=off`` in the environment turns the native asyncio stores off (every
call to a blocking store then goes to the pool, as before they existed): a switch for
comparing the two in ``bench/bench_sidecar.py``, not a setting a learner needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from statelab.dapr.components import Component
from statelab.dapr.http import Pending, Response, StateAPI
from statelab.server.identity import CHALLENGE_HEADER, PROOF_HEADER, proof
from statelab.stores.base import AsyncStore, ExpirySweeper

__all__ = ["ASYNC_STORES_SWITCH", "SWEEP_INTERVAL", "StateApp", "native_stores_enabled"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
T = TypeVar("T")

#: Seconds between two sweeps of expired items (daprd's in-memory store: one second).
SWEEP_INTERVAL = 1.0
#: The environment variable that turns native asyncio stores off when set to ``off``.
ASYNC_STORES_SWITCH = "STATELAB_ASYNC_STORES"


def native_stores_enabled() -> bool:
    """Do the doors await native asyncio stores? Yes, unless ``STATELAB_ASYNC_STORES=off``
    (read when a door is built, so a benchmark can start one process each way)."""
    return os.environ.get(ASYNC_STORES_SWITCH, "").lower() != "off"


#: Answers larger than this are sent in pieces of this size (see ``StateApp._send``).
_SEND_CHUNK = 1024 * 1024


class StateApp:
    """An ASGI 3 application serving one :class:`StateAPI`.

    *offload* forces every synchronous store call into the pool (True) or lets light calls
    run inline even on a blocking store (False); by default light calls run inline unless the
    component blocks on I/O. *native* (default: unless ``STATELAB_ASYNC_STORES=off``) awaits
    the components' native asyncio stores. With a *secret* (``statelab run``:
    :mod:`statelab.server.identity`), ``GET /v1.0/healthz`` answers a ``Statelab-Challenge``
    header with its proof.

    One application serves one event loop at a time, as under an ASGI server; its asyncio
    stores are built on that loop at first use and closed at the lifespan's shutdown.
    """

    def __init__(self, api: StateAPI, *, offload: bool | None = None, workers: int = 16,
                 sweep_interval: float = SWEEP_INTERVAL, secret: bytes | None = None,
                 native: bool | None = None) -> None:
        self.api = api
        self._secret = secret
        self._challenge = CHALLENGE_HEADER.lower().encode("latin-1")
        components = api.components or []
        self._components: dict[str, Component] = {c.name: c for c in components}
        blocking = {c.name for c in components if c.blocking}
        if native is None:
            native = native_stores_enabled()
        #: Components that may have a native asyncio store (those that wait on I/O or time).
        self._awaitable = frozenset(blocking) if native else frozenset()
        #: Components whose light calls may run inline on the loop.
        self._inline = frozenset(
            self._components.keys() - blocking if offload is None
            else () if offload else self._components.keys())
        #: The native asyncio store of each component (None: it has none), and their loop.
        self._natives: dict[str, AsyncStore | None] = {}
        self._natives_loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="statelab-store")
        #: Store calls (and sweeps) now running in the pool; light calls go inline only at 0.
        self._in_pool = 0
        self._sweepers: list[ExpirySweeper] = []
        for component in components:
            store = component.open()
            if not component.blocking and isinstance(store, ExpirySweeper):
                self._sweepers.append(store)
        self._sweep_interval = sweep_interval
        self._sweep_task: asyncio.Task[None] | None = None
        self._closed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        raw_path = scope.get("raw_path")
        target = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        pending = self.api.begin(scope["method"], target, headers)
        if pending.answer is not None:  # decided by the headers: the body is never read
            await self._send(pending.answer, send)
            return
        body, too_large = await self._read_body(receive)
        response = await self._answer(pending, body, too_large)
        if self._secret is not None and scope["path"] == "/v1.0/healthz":
            response = self._prove(response, scope["headers"])
        await self._send(response, send)

    async def _answer(self, pending: Pending, body: bytes, too_large: bool) -> Response:
        """Where the request runs: see the module's docs. Per-component facts are read once,
        in ``__init__``: a request pays for a few set lookups, not for the registry."""
        size = len(body)
        weight = pending.weight(size)
        name = None if weight == "none" else pending.store_name
        if name is None or name not in self._components:  # no store call (unknown store: E2)
            return pending.finish(body, body_too_large=too_large)
        if name in self._awaitable and pending.awaitable(size) \
                and self._native_store(name) is not None:
            return await pending.finish_async(self._native_of, body, body_too_large=too_large)
        if weight == "light" and name in self._inline and not self._in_pool:
            return pending.finish(body, body_too_large=too_large)
        return await self._in_thread(partial(pending.finish, body, body_too_large=too_large))

    def _native_store(self, name: str) -> AsyncStore | None:
        """The component's asyncio store on the running loop, built at first use."""
        loop = asyncio.get_running_loop()
        if self._natives_loop is not loop:  # a new loop: connections of another are unusable
            self._natives = {}
            self._natives_loop = loop
        if name not in self._natives:
            self._natives[name] = self._components[name].asynchronous()
        return self._natives[name]

    def _native_of(self, component: Component) -> AsyncStore | None:
        return self._natives.get(component.name)

    async def _close_natives(self) -> None:
        natives, self._natives = self._natives, {}
        for store in natives.values():
            if store is not None:
                await store.aclose()

    def _prove(self, response: Response, headers: list[tuple[bytes, bytes]]) -> Response:
        assert self._secret is not None
        for name, value in headers:
            if name == self._challenge:
                answer = proof(self._secret, value.decode("latin-1"))
                return dataclasses.replace(
                    response, headers=(*response.headers, (PROOF_HEADER, answer)))
        return response

    async def _in_thread(self, call: Callable[[], T]) -> T:
        self._in_pool += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        finally:
            self._in_pool -= 1

    async def _read_body(self, receive: Receive) -> tuple[bytes, bool]:
        """Read at most ``max_body_size`` bytes; drain (not keep) the rest."""
        limit = self.api.max_body_size
        chunks: list[bytes] = []
        size = 0
        too_large = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            if not too_large:
                size += len(chunk)
                if size > limit:
                    too_large = True
                    chunks.clear()
                else:
                    chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), too_large

    @staticmethod
    async def _send(response: Response, send: Send) -> None:
        # Go's canonical names (``Etag``) go to uvicorn, whose httptools writer lowercases them.
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.status != 204:
            headers.append((b"Content-Length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = response.body
        if len(body) <= _SEND_CHUNK:
            await send({"type": "http.response.body", "body": body})
            return
        # A large answer (a bulk read of big values) goes out in pieces: uvicorn waits for the
        # socket to drain between them, and the event loop answers /v1.0/healthz meanwhile.
        view = memoryview(body)
        for start in range(0, len(body), _SEND_CHUNK):
            end = start + _SEND_CHUNK
            await send({"type": "http.response.body", "body": bytes(view[start:end]),
                        "more_body": end < len(body)})

    # -- background sweep of expired items ------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            for store in self._sweepers:
                await self._in_thread(store.sweep_expired)

    def start_background(self) -> None:
        """Start the sweep on the running loop (the lifespan's startup calls this)."""
        if self._sweepers and self._sweep_task is None and not self._closed:
            self._sweep_task = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop_background(self) -> None:
        task, self._sweep_task = self._sweep_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_background()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop_background()
                await self._close_natives()
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Stop taking store work; calls still running finish on their own (a store call to
        a frozen Redis ends at the component's read timeout)."""
        self._closed = True
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            self._sweep_task = None
        self._executor.shutdown(wait=False, cancel_futures=True)
