"""The sidecar's network in a browser tab: httpx requests answered in-process by origin.

JupyterLite runs the kernel in Pyodide, in a web worker: nothing can listen on a port and no
thread can serve. So in a browser :func:`statelab.start` puts its sidecar on this *tab
network* instead of a socket: an origin such as ``http://127.0.0.1:3500`` names a
:class:`~statelab.dapr.http.StateAPI`, and :func:`route_httpx` makes httpx's default
transports (the ones ``httpx.Client()`` and ``httpx.get`` build by themselves) answer those
origins through :class:`~statelab.server.transport.StateTransport`. The notebooks' code then
reads the same in both editions: ``httpx.Client(base_url=sidecar.url)`` works unchanged.

Any other origin gets ``httpx.ConnectError``, what a refused connection raises, with a
sentence saying why: httpx's own transport needs sockets, which a browser tab does not have,
so nothing is lost by answering for it. Outside a browser nothing here is installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from statelab.dapr.http import StateAPI
from statelab.server.transport import StateTransport

__all__ = ["TabNetwork", "route_httpx", "tab_network"]


def _origin(url: httpx.URL) -> str:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, 0)
    return f"{url.scheme}://{url.host}:{port}"


def _served_origin(host: str, port: int) -> str:
    return _origin(httpx.URL(f"http://{host}:{port}"))


class TabNetwork:
    """Origins served in this tab: ``http://host:port`` -> the state API that answers it."""

    def __init__(self, first_port: int = 3500) -> None:
        #: Where "any free port" starts: daprd's HTTP port.
        self.first_port = first_port
        self._served: dict[str, StateTransport] = {}
        self._lock = threading.Lock()

    def listen(self, host: str, port: int, api: StateAPI) -> None:
        """Answer ``http://host:port`` with *api* (a port already served is an error)."""
        origin = _served_origin(host, port)
        with self._lock:
            if origin in self._served:
                raise OSError(f"{origin} is already served in this tab")
            self._served[origin] = StateTransport(api)

    def close(self, host: str, port: int) -> None:
        with self._lock:
            self._served.pop(_served_origin(host, port), None)

    def serves(self, host: str, port: int) -> bool:
        return _served_origin(host, port) in self._served

    def free_port(self, host: str, wanted: int) -> int:
        """*wanted* if nothing serves it (0 means any), else the next port up that is free."""
        port = wanted or self.first_port
        while self.serves(host, port):
            port += 1
        return port

    def transport_for(self, request: httpx.Request) -> StateTransport:
        transport = self._served.get(_origin(request.url))
        if transport is None:
            served = ", ".join(sorted(self._served)) or "none yet: run statelab.start()"
            raise httpx.ConnectError(
                f"nothing answers at {_origin(request.url)} in this browser tab: a tab has no "
                f"network sockets, only statelab's in-tab sidecars answer ({served})",
                request=request)
        return transport


_network = TabNetwork()


def tab_network() -> TabNetwork:
    """The one network of this process (one tab, one kernel)."""
    return _network


def route_httpx(network: TabNetwork | None = None) -> Callable[[], None]:
    """Make httpx's default transports answer from *network*; returns what undoes it.

    ``httpx.Client()`` builds an ``httpx.HTTPTransport`` by itself, so that is the class to
    teach: its request methods (public API) are replaced for the process. Only ever called in
    a browser, where the replaced methods could not open a connection anyway (and by tests,
    which undo it). Calling it again while routed changes nothing.
    """
    served = network if network is not None else _network
    routed: Any = httpx.HTTPTransport
    routed_async: Any = httpx.AsyncHTTPTransport
    before = routed.handle_request, routed_async.handle_async_request
    if getattr(before[0], "tab_network", None) is served:
        return lambda: None

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        return served.transport_for(request).handle_request(request)

    async def handle_async_request(self: httpx.AsyncHTTPTransport,
                                   request: httpx.Request) -> httpx.Response:
        return await served.transport_for(request).handle_async_request(request)

    handle_request.tab_network = served  # type: ignore[attr-defined]  # marks our routing
    routed.handle_request = handle_request
    routed_async.handle_async_request = handle_async_request

    def undo() -> None:
        routed.handle_request, routed_async.handle_async_request = before

    return undo
