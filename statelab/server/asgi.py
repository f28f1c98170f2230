"""The ASGI adapter: turns HTTP requests into :meth:`StateAPI.handle` calls.

A raw ASGI callable rather than Starlette: daprd routes on the *escaped* path (``raw_path``),
enforces a body limit while reading, and falls back to a 404 for every unknown route, so a
framework's router, request parsing and validation would only have to be worked around. The
adapter is about 60 lines and keeps the HTTP layer's cost near the floor (see ``bench/``).

Header names are handed to uvicorn in Go's canonical spelling (``Etag``), but uvicorn lowercases
them on the wire; HTTP header names are case-insensitive, so clients cannot tell.

Stores backed by a network server (a real Redis) block on I/O, so their calls run in a small
thread pool; embedded stores are CPU-bound under the GIL and run inline, which is faster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import quote

from statelab.dapr.http import Response, StateAPI

__all__ = ["StateApp"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class StateApp:
    """An ASGI 3 application serving one :class:`StateAPI`."""

    def __init__(self, api: StateAPI, *, offload: bool | None = None, workers: int = 16) -> None:
        self.api = api
        if offload is None:
            offload = any(c.blocking for c in api.components or [])
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="statelab-store") \
            if offload else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body, too_large = await self._read_body(receive)
        raw_path = scope.get("raw_path")
        target = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        call = partial(self.api.handle, scope["method"], target, headers, body,
                       body_too_large=too_large)
        if self._executor is None:
            response = call()
        else:
            response = await asyncio.get_running_loop().run_in_executor(self._executor, call)
        await self._send(response, send)

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
        await send({"type": "http.response.body", "body": response.body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
