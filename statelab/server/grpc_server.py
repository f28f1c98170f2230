"""The gRPC door's server: grpcio on 127.0.0.1, next to the HTTP one, on the same service.

daprd listens for its gRPC API on 50001 (``DAPR_GRPC_PORT``) beside HTTP on 3500; the Python
SDK's ``DaprClient`` talks gRPC for state. :class:`GrpcServer` serves
:class:`~statelab.dapr.grpc.StateServicer` with grpcio's synchronous server on a thread pool
(the handlers block on the stores, and several clients and threads at once must be served),
with daprd's message limit (``--max-body-size``, 4 MiB) both ways, and no ``SO_REUSEPORT``: a
busy port must be seen as busy, not silently shared with another server. :meth:`GrpcServer.stop`
waits for the server and its pool, so a stopped sidecar leaves no thread and no port behind.

grpc and the ``dapr`` package are imported here, and this module is imported only when a
sidecar starts its gRPC door, so ``import statelab`` stays cheap.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import grpc
from dapr.proto.runtime.v1 import dapr_pb2_grpc

from statelab.dapr.grpc import StateServicer
from statelab.dapr.service import StateService
from statelab.errors import SidecarError

__all__ = ["DEFAULT_GRPC_PORT", "GrpcServer"]

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
        self._server = grpc.server(self._pool, options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", self.max_message_size),
            ("grpc.max_send_message_length", self.max_message_size),
        ])
        dapr_pb2_grpc.add_DaprServicer_to_server(  # type: ignore[no-untyped-call] # generated
            self.servicer, self._server)

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
