"""An httpx transport that answers from the state API in this process: Dapr without a socket.

Hand it to an ``httpx.Client`` (or ``httpx.AsyncClient``) and the client's requests go straight
to :meth:`StateAPI.handle`, with the same status codes, headers and bodies the sidecar sends
over HTTP. Test suites use it to test their own Dapr code without a port; the exercises use it
to put competing writers between a learner's requests::

    api = StateAPI()
    with httpx.Client(base_url="http://127.0.0.1:3500", transport=StateTransport(api)) as dapr:
        dapr.post("/v1.0/state/statestore", json=[{"key": "k", "value": 1}])

Like httpx's ``MockTransport``, it is a small class; *observe* sees each request before it is
answered and *after* sees each answer, which is how a caller records or interferes.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from statelab.dapr.http import Response, StateAPI

__all__ = ["DEFAULT_BASE_URL", "StateTransport", "in_process_client"]

#: Where daprd listens by default; any base URL works, nothing is dialled.
DEFAULT_BASE_URL = "http://127.0.0.1:3500"


class StateTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers httpx requests from a :class:`StateAPI` (a new default one if none is given)."""

    def __init__(self, api: StateAPI | None = None, *,
                 observe: Callable[[httpx.Request], None] | None = None,
                 after: Callable[[httpx.Request, Response], None] | None = None) -> None:
        self.api = api if api is not None else StateAPI()
        self.observe = observe
        self.after = after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._answer(request, await request.aread())

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        if self.observe is not None:
            self.observe(request)
        # The body limit applies as on the sidecar: an oversized body is not handed over.
        too_large = len(body) > self.api.max_body_size
        reply = self.api.handle(request.method, request.url.raw_path.decode("latin-1"),
                                list(request.headers.items()), b"" if too_large else body,
                                body_too_large=too_large)
        if self.after is not None:
            self.after(request, reply)
        return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body,
                              request=request)


def in_process_client(api: StateAPI | None = None, base_url: str = DEFAULT_BASE_URL
                      ) -> httpx.Client:
    """An ``httpx.Client`` whose requests are answered in-process by *api*."""
    return httpx.Client(base_url=base_url, transport=StateTransport(api))
