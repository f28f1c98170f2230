"""The gRPC door's server: grpcio on 127.0.0.1, next to the HTTP one, on the same service.

daprd listens for its gRPC API on 50001 (``DAPR_GRPC_PORT``) beside HTTP on 3500; the Python
SDK's ``DaprClient`` talks gRPC for state. Two servers, one contract, chosen by
:func:`grpc_door` from the stores behind the service:

* :class:`GrpcServer`: grpcio's synchronous server on a thread pool, for embedded stores (their
  calls are CPU-bound under the GIL: a pool serves several clients and threads at once, and
  one long call does not hold up the others);
* :class:`AsyncGrpcServer`: ``grpc.aio`` on an event loop of its own thread, when a component
  waits on the network or on time (a real Redis, the replicated store): each RPC's store
  calls are awaited on that loop's native asyncio stores, with no thread between the loop and
  Redis (:class:`~statelab.dapr.grpc.AsyncStateServicer`).

Both have daprd's message limit (``--max-body-size``, 4 MiB) both ways, and no
``SO_REUSEPORT``: a busy port must be seen as busy, not silently shared with another server.
``stop()`` waits for the server and its threads, so a stopped sidecar leaves no thread and no
port behind.

grpc and the ``dapr`` package are imported here, and this module is imported only when a
sidecar starts its gRPC door, so ``import statelab`` stays cheap.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
from dapr.proto.runtime.v1 import dapr_pb2_grpc

from statelab.dapr.components import Component
from statelab.dapr.grpc import AsyncStateServicer, StateServicer
from statelab.dapr.service import StateService
from statelab.errors import SidecarError
from statelab.server.asgi import native_stores_enabled
from statelab.stores.base import AsyncStore

__all__ = ["DEFAULT_GRPC_PORT", "AsyncGrpcServer", "GrpcServer", "grpc_door"]

#: daprd's ``DefaultDaprAPIGRPCPort``.
DEFAULT_GRPC_PORT = 50001
#: Enough for the benchmark's 16 clients with room for slow store calls.
_WORKERS = 32


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class _Collected:
    """Stands in for a server while the generated ``add_DaprServicer_to_server`` registers:
    keeps the method handlers it builds, so they can be wrapped before the real server
    gets them."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        """The same handlers come again through ``add_registered_method_handlers``."""

    def add_registered_method_handlers(self, service: str,
                                       handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.service, self.handlers = service, dict(handlers)


class _Malformed:
    """A request message that does not parse: the handler answers it as grpc-go does."""

    def __init__(self, error: Exception) -> None:
        self.message = f"grpc: error unmarshalling request: {error}"


def _tolerant(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(raw: bytes) -> Any:
        try:
            return parse(raw)
        except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError, answered as daprd
            return _Malformed(exc)
    return deserialize


def _register(servicer: StateServicer, server: Any, *, asynchronous: bool) -> None:
    """Serve *servicer* on *server*, answering a request that does not parse with INTERNAL
    ``grpc: error unmarshalling request: ...`` as daprd's grpc-go server does, on both
    servers alike (grpcio's synchronous server would say "Exception deserializing request!",
    its asyncio server UNKNOWN, and both would log a traceback)."""
    collected = _Collected()
    dapr_pb2_grpc.add_DaprServicer_to_server(  # type: ignore[no-untyped-call] # generated
        servicer, collected)
    wrapped = {}
    for name, handler in collected.handlers.items():
        behaviour = handler.unary_unary
        wrapped[name] = handler._replace(  # a namedtuple's public _replace
            request_deserializer=_tolerant(handler.request_deserializer),
            unary_unary=_async_guard(behaviour) if asynchronous else _guard(behaviour))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(collected.service, wrapped),))
    server.add_registered_method_handlers(collected.service, wrapped)


def _guard(behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, _Malformed):
            context.abort(grpc.StatusCode.INTERNAL, request.message)
        return behaviour(request, context)
    return handle


def _async_guard(behaviour: Callable[[Any, Any], Awaitable[Any]]
                 ) -> Callable[[Any, Any], Awaitable[Any]]:
    async def handle(request: Any, context: Any) -> Any:
        if isinstance(request, _Malformed):
            await context.abort(grpc.StatusCode.INTERNAL, request.message)
        return await behaviour(request, context)
    return handle


def _options(max_message_size: int) -> list[tuple[str, Any]]:
    return [("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", max_message_size),
            ("grpc.max_send_message_length", max_message_size)]


def grpc_door(service: StateService, *, host: str = "127.0.0.1", api_token: str | None = None,
              max_message_size: int = 4 * 1024 * 1024) -> GrpcServer | AsyncGrpcServer:
    """The server for *service*: asyncio when a component waits on I/O or time (unless
    ``STATELAB_ASYNC_STORES=off``), else the threaded one."""
    if native_stores_enabled() and any(component.blocking for component in service.components):
        return AsyncGrpcServer(service, host=host, api_token=api_token,
                               max_message_size=max_message_size)
    return GrpcServer(service, host=host, api_token=api_token,
                      max_message_size=max_message_size)


class GrpcServer:
    """The gRPC door of one sidecar. :meth:`start` binds and serves; :meth:`stop` undoes it."""

    def __init__(self, service: StateService, *, host: str = "127.0.0.1",
                 api_token: str | None = None, max_message_size: int = 4 * 1024 * 1024,
                 workers: int = _WORKERS) -> None:
        self.host = host
        self.servicer = StateServicer(service, api_token)
        self.max_message_size = max_message_size
        self.workers = workers
        self.port: int | None = None
        self._server: grpc.Server | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def endpoint(self) -> str | None:
        """``host:port``, as ``DaprClient(address=...)`` and ``DAPR_GRPC_ENDPOINT`` take it."""
        return None if self.port is None else f"{self.host}:{self.port}"

    def _build(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.workers,
                                        thread_name_prefix="statelab-grpc")
        self._server = grpc.server(self._pool, options=_options(self.max_message_size))
        _register(self.servicer, self._server, asynchronous=False)

    def try_start(self, port: int) -> bool:
        """Bind *port* (0: any free one) and serve; False if the port is taken.

        A taken port is seen with a plain socket first: grpc's core would log the failed bind
        on file descriptor 2, which Jupyter shows in the cell, and stored outputs must not
        change when a second kernel finds 50001 busy."""
        if port and not _port_is_free(self.host, port):
            return False
        self._build()
        assert self._server is not None
        try:
            bound = self._server.add_insecure_port(f"{self.host}:{port}")
        except RuntimeError:  # grpcio >= 1.53 raises "Failed to bind"; older ones return 0
            bound = 0
        if not bound:
            self._discard()
            return False
        self.port = bound
        self._server.start()
        return True

    def start(self, port: int) -> int:
        """Serve on *port*, or raise :class:`SidecarError`; returns the bound port."""
        if not self.try_start(port):
            raise SidecarError(f"cannot bind the gRPC port {self.host}:{port}")
        assert self.port is not None
        return self.port

    def _discard(self, grace: float | None = None) -> None:
        if self._server is not None:
            self._server.stop(grace).wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._server = None
        self._pool = None

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving: calls in flight get *grace* seconds, then the pool's threads end and
        the port is free again."""
        self._discard(grace)
        self.port = None

    @property
    def running(self) -> bool:
        return self._server is not None and self.port is not None


class AsyncGrpcServer:
    """The gRPC door on ``grpc.aio``, for stores that wait on I/O: the same contract as
    :class:`GrpcServer`. Its event loop runs in a thread of its own (never the kernel's: a
    notebook's synchronous ``DaprClient`` call would deadlock on it), and the native asyncio
    stores it awaits are built on that loop and closed with it."""

    def __init__(self, service: StateService, *, host: str = "127.0.0.1",
                 api_token: str | None = None, max_message_size: int = 4 * 1024 * 1024
                 ) -> None:
        self.host = host
        self.service = service
        self.max_message_size = max_message_size
        self.servicer = AsyncStateServicer(service, api_token, stores=self._native_of)
        self.port: int | None = None
        self._natives: dict[str, AsyncStore | None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._grace: float | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str | None:
        return None if self.port is None else f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self.port is not None

    def _native_of(self, component: Component) -> AsyncStore | None:
        return self._natives.get(component.name)

    def try_start(self, port: int) -> bool:
        """Bind *port* (0: any free one) and serve; False if the port is taken."""
        if port and not _port_is_free(self.host, port):
            return False
        bound: list[int] = []
        failure: list[BaseException] = []
        ready = threading.Event()

        def main() -> None:
            try:
                asyncio.run(self._serve(port, bound, ready))
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
            finally:
                ready.set()

        self._thread = threading.Thread(target=main, name="statelab-grpc-aio", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        if not bound:
            self._thread.join()
            self._thread = None
            return False
        self.port = bound[0]
        return True

    async def _serve(self, port: int, bound: list[int], ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = grpc.aio.server(options=_options(self.max_message_size))
        _register(self.servicer, server, asynchronous=True)
        try:
            try:
                chosen = server.add_insecure_port(f"{self.host}:{port}")
            except RuntimeError:  # grpcio >= 1.53 raises "Failed to bind"
                chosen = 0
            if not chosen:
                return
            self._natives = {c.name: c.asynchronous() for c in self.service.components}
            await server.start()
            bound.append(chosen)
            ready.set()
            await self._stopping.wait()
            await server.stop(self._grace)
        finally:
            natives, self._natives = self._natives, {}
            for store in natives.values():
                if store is not None:
                    await store.aclose()

    def start(self, port: int) -> int:
        """Serve on *port*, or raise :class:`SidecarError`; returns the bound port."""
        if not self.try_start(port):
            raise SidecarError(f"cannot bind the gRPC port {self.host}:{port}")
        assert self.port is not None
        return self.port

    def stop(self, grace: float | None = 1.0) -> None:
        """Stop serving: calls in flight get *grace* seconds, then the loop, its stores'
        connections and the thread end, and the port is free again."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is not None and loop is not None and stopping is not None:
            self._grace = grace
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # the loop has already ended
                pass
            thread.join()
        self._thread = None
        self._loop = None
        self.port = None
