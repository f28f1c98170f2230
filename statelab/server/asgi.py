"""The ASGI adapter: turns HTTP requests into :class:`StateAPI` calls, and never stalls.

A raw ASGI callable rather than Starlette: daprd routes on the *escaped* path (``raw_path``),
enforces a body limit while reading, and falls back to a 404 for every unknown route, so a
framework's router, request parsing and validation would only have to be worked around. The
adapter keeps the HTTP layer's cost near the floor (see ``bench/``).

Header names are handed to uvicorn in Go's canonical spelling (``Etag``), but uvicorn lowercases
them on the wire; HTTP header names are case-insensitive, so clients cannot tell.

Where each request runs (one rule: the event loop never waits on a store):

* A request is routed and authorised from its headers first (:meth:`StateAPI.begin`): a bad
  token, an unknown route or a bad escape is answered before any of the body is read, so an
  unauthenticated upload costs nothing.
* Health and metadata never touch a store: they are answered on the event loop at once, even
  while every store call is stuck on a frozen Redis.
* Store calls on an embedded store are CPU-bound under the GIL, and a thread hop costs about a
  quarter of a GET (``bench/bench_sidecar.py``), so a *light* call (a GET, a DELETE, a small
  save) runs inline on the loop, but only while no other store call is running in the pool
  (else it could wait on a lock that call holds). Everything else (bulk, transactions, big
  saves, and every call to a store that waits on a network server) runs in a thread pool, so
  one long request (a bulk read of ten 4 MiB values) leaves the loop free for others.
* Expired items nobody reads are swept in the background (:class:`ExpirySweeper` stores), in
  the pool, once a second, from an asyncio task that lives between the lifespan's startup and
  shutdown: no thread is left behind when the sidecar stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

from statelab.dapr.http import Response, StateAPI
from statelab.server.identity import CHALLENGE_HEADER, PROOF_HEADER, proof
from statelab.stores.base import ExpirySweeper

__all__ = ["SWEEP_INTERVAL", "StateApp"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
T = TypeVar("T")

#: Seconds between two sweeps of expired items (daprd's in-memory store: one second).
SWEEP_INTERVAL = 1.0
#: Answers larger than this are sent in pieces of this size (see ``StateApp._send``).
_SEND_CHUNK = 1024 * 1024


class StateApp:
    """An ASGI 3 application serving one :class:`StateAPI`.

    *offload* forces every store call into the pool (True) or lets light calls run inline
    (False); by default light calls run inline unless a store blocks on I/O. With a *secret*
    (``statelab run``: :mod:`statelab.server.identity`), ``GET /v1.0/healthz`` answers a
    ``Statelab-Challenge`` header with its proof.
    """

    def __init__(self, api: StateAPI, *, offload: bool | None = None, workers: int = 16,
                 sweep_interval: float = SWEEP_INTERVAL, secret: bytes | None = None) -> None:
        self.api = api
        self._secret = secret
        self._challenge = CHALLENGE_HEADER.lower().encode("latin-1")
        components = api.components or []
        if offload is None:
            offload = any(c.blocking for c in components)
        self._inline = not offload
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
        finish = partial(pending.finish, body, body_too_large=too_large)
        weight = pending.weight(len(body))
        if weight == "none" or (weight == "light" and self._inline and not self._in_pool):
            response = finish()
        else:
            response = await self._in_thread(finish)
        if self._secret is not None and scope["path"] == "/v1.0/healthz":
            response = self._prove(response, scope["headers"])
        await self._send(response, send)

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
