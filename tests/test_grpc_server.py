"""The gRPC door's lifecycle (statelab/server/grpc_server.py and its use in sidecar.py).

Started and stopped with the sidecar; a busy port moves and is said; ``DAPR_GRPC_PORT`` is
exported and restored; stopping leaves no thread and no port behind; ``import statelab`` does
not import grpcio.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from typing import Any

import grpc
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2
from support import free_port

from statelab.dapr.components import Component
from statelab.dapr.service import StateService
from statelab.errors import SidecarError
from statelab.server.grpc_server import AsyncGrpcServer, GrpcServer, grpc_door
from statelab.server.sidecar import start


def _get(endpoint: str) -> bytes:
    with grpc.insecure_channel(endpoint) as channel:
        return bytes(dapr_pb2_grpc.DaprStub(channel).GetState(
            state_pb2.GetStateRequest(store_name="statestore", key="k"), timeout=10).data)


def test_start_exports_the_port_and_stop_restores_and_frees_everything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAPR_GRPC_PORT", "777")
    before = {t.ident for t in threading.enumerate()}
    sidecar = start(0, "lifecycle", quiet=True, grpc_port=0)
    port = sidecar.grpc_port
    assert port and sidecar.grpc_endpoint == f"127.0.0.1:{port}"
    assert os.environ["DAPR_GRPC_PORT"] == str(port)
    assert _get(sidecar.grpc_endpoint) == b""
    sidecar.stop()
    assert os.environ["DAPR_GRPC_PORT"] == "777"
    assert sidecar.grpc_port is None and sidecar.grpc_endpoint is None
    leftover = [t for t in threading.enumerate()
                if t.ident not in before and t.is_alive()]
    assert leftover == []
    with socket.socket() as again:  # the port is free again
        again.bind(("127.0.0.1", port))


def test_unset_variable_is_removed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAPR_GRPC_PORT", raising=False)
    with start(0, "unset", quiet=True, grpc_port=0):
        assert "DAPR_GRPC_PORT" in os.environ
    assert "DAPR_GRPC_PORT" not in os.environ


def test_a_busy_port_moves_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        busy = holder.getsockname()[1]
        with start(0, "moved", grpc_port=busy) as sidecar:
            moved = sidecar.grpc_port
            assert moved not in (None, busy)
            assert sidecar.grpc_moved_from == busy
            assert f"(gRPC port {busy} was busy)" in repr(sidecar)
            assert _get(sidecar.grpc_endpoint) == b""
    err = capsys.readouterr().err
    assert (f"gRPC port {busy} is in use by another program; statelab uses port {moved} "
            "instead.\n") in err
    assert "Failed to add port" not in err  # grpc's core never tried the busy port


def test_no_grpc_when_asked() -> None:
    with start(0, "nogrpc", quiet=True, grpc_port=None) as sidecar:
        assert sidecar.grpc is None and sidecar.grpc_endpoint is None


def test_server_alone_reports_a_busy_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        server = GrpcServer(StateService())
        assert server.endpoint is None
        with pytest.raises(SidecarError, match="cannot bind the gRPC port"):
            server.start(holder.getsockname()[1])
        assert not server.running
    port = free_port()
    assert server.start(port) == port and server.running
    server.stop()
    assert not server.running


def test_both_doors_share_one_service() -> None:
    import httpx

    with start(0, "shared", quiet=True, grpc_port=0) as sidecar:
        sidecar.reset()
        assert httpx.post(f"{sidecar.state_url}/statestore",
                          json=[{"key": "k", "value": {"n": 1}}]).status_code == 204
        assert _get(sidecar.grpc_endpoint) == b'{"n":1}'


def test_import_statelab_does_not_import_grpc() -> None:
    code = ("import sys, statelab; statelab.Sidecar; "
            "print(sorted(m for m in ('grpc', 'dapr', 'google.protobuf') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out == "[]\n"


# -- issue 14: grpc.aio for stores that wait on I/O ----------------------------------------------

def _replicated_service() -> StateService:
    """A component that waits on time (strong writes): the asyncio server serves it."""
    return StateService([Component(name="statestore", type="state.replicated", version="v1",
                                   metadata={"lagDistribution": "fixed", "lagMeanMs": "0"},
                                   source="(test)")])


def test_the_door_is_asyncio_when_a_store_waits_on_io(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(grpc_door(StateService())) is GrpcServer  # embedded: CPU-bound calls
    assert type(grpc_door(_replicated_service())) is AsyncGrpcServer
    monkeypatch.setenv("STATELAB_ASYNC_STORES", "off")
    assert type(grpc_door(_replicated_service())) is GrpcServer


def test_the_asyncio_server_serves_then_frees_its_thread_port_and_stores() -> None:
    before = {t.ident for t in threading.enumerate()}
    service = _replicated_service()
    server = AsyncGrpcServer(service)
    port = server.start(0)
    assert server.running and server.endpoint == f"127.0.0.1:{port}"
    with grpc.insecure_channel(server.endpoint) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        strong = common_pb2.StateOptions(consistency=common_pb2.StateOptions.CONSISTENCY_STRONG)
        stub.SaveState(state_pb2.SaveStateRequest(store_name="statestore", states=[
            common_pb2.StateItem(key="k", value=b"v", options=strong)]), timeout=10)
        answer = stub.GetState(state_pb2.GetStateRequest(
            store_name="statestore", key="k",
            consistency=common_pb2.StateOptions.CONSISTENCY_STRONG), timeout=10)
        assert answer.data == b"v" and answer.etag == "1"
    server.stop()
    assert not server.running and server.endpoint is None
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_the_asyncio_server_reports_a_busy_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        server = AsyncGrpcServer(_replicated_service())
        with pytest.raises(SidecarError, match="cannot bind the gRPC port"):
            server.start(holder.getsockname()[1])
        assert not server.running


@pytest.mark.parametrize("server_class", [GrpcServer, AsyncGrpcServer])
def test_a_message_that_does_not_parse_is_internal_as_from_grpc_go(
        server_class: type[GrpcServer] | type[AsyncGrpcServer],
        caplog: pytest.LogCaptureFixture) -> None:
    server = server_class(_replicated_service())
    server.start(0)
    try:
        assert server.endpoint is not None
        with grpc.insecure_channel(server.endpoint) as channel:
            for method in ("SaveState", "GetState", "PublishEvent"):
                raw = channel.unary_unary(f"/dapr.proto.runtime.v1.Dapr/{method}",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
                with pytest.raises(grpc.RpcError) as caught:
                    raw(b"\x12\xff\xff\xff", timeout=10)  # a truncated field
                assert caught.value.code() == grpc.StatusCode.INTERNAL
                assert caught.value.details().startswith(
                    "grpc: error unmarshalling request: Error parsing message")
            assert _get(server.endpoint) == b""  # and the server keeps serving
    finally:
        server.stop()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no traceback logged


def test_slow_calls_hold_no_thread_on_the_asyncio_server() -> None:
    """40 strong writes wait a minute for their replicas (more than the threaded server's 32
    workers); a read sent meanwhile is answered at once, and the writes are still waiting."""
    service = StateService([Component(name="statestore", type="state.replicated",
                                      version="v1", source="(test)",
                                      metadata={"lagDistribution": "fixed",
                                                "lagMinMs": "60000", "lagMaxMs": "60000"})])
    store = service.component("statestore").open()
    original = store.write  # type: ignore[attr-defined]
    written: list[str] = []
    all_waiting = threading.Event()

    def counting_write(request: Any) -> Any:
        acknowledgement = original(request)
        written.append(request.key)
        if len(written) == 40:
            all_waiting.set()
        return acknowledgement

    store.write = counting_write  # type: ignore[attr-defined]
    server = AsyncGrpcServer(service)
    server.start(0)
    try:
        assert server.endpoint is not None
        with grpc.insecure_channel(server.endpoint) as channel:
            stub = dapr_pb2_grpc.DaprStub(channel)
            strong = common_pb2.StateOptions(
                consistency=common_pb2.StateOptions.CONSISTENCY_STRONG)
            writes = [stub.SaveState.future(state_pb2.SaveStateRequest(
                store_name="statestore",
                states=[common_pb2.StateItem(key=f"k{i}", value=b"v", options=strong)]))
                for i in range(40)]
            assert all_waiting.wait(30)  # every write is on the primary, waiting for replicas
            answer = stub.GetState(state_pb2.GetStateRequest(
                store_name="statestore", key="k0",
                consistency=common_pb2.StateOptions.CONSISTENCY_STRONG), timeout=10)
            assert answer.data == b"v"  # on the primary, while its write waits for replicas
            assert not any(write.done() for write in writes)
            for write in writes:
                write.cancel()
    finally:
        server.stop(grace=0)
