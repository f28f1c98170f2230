"""``statelab run`` and ``python -m statelab run`` (DESIGN.md public interfaces)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from support import free_port


def launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "statelab", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_prints_the_url_serves_and_stops_cleanly(signum: int) -> None:
    port, grpc_port = free_port(), free_port()
    process = launch("--port", str(port), "--app-id", "cliapp", "--grpc-port", str(grpc_port))
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == (f"statelab sidecar for app 'cliapp' listening on http://127.0.0.1:{port} "
                    f"and gRPC on 127.0.0.1:{grpc_port} "
                    "(state stores: statestore (state.redis))\n")
    url = re.search(r"http://\S+", line).group(0)  # type: ignore[union-attr]
    with httpx.Client(base_url=url) as client:
        assert client.post("/v1.0/state/statestore", json=[{"key": "k", "value": 1}]
                           ).status_code == 204
        assert client.get("/v1.0/metadata").json()["id"] == "cliapp"
    process.send_signal(signum)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert out == "statelab sidecar stopped\n"
    assert err == ""


def test_run_with_components_and_token(tmp_path: Path) -> None:
    (tmp_path / "mem.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: cache}\n"
        "spec: {type: state.in-memory, version: v1, metadata: []}\n")
    port = free_port()
    process = launch("--port", str(port), "--components", str(tmp_path), "--api-token", "t")
    try:
        assert process.stdout is not None
        assert "(state stores: cache (state.in-memory))" in process.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/v1.0/state/cache/k").status_code == 401
            assert client.get("/v1.0/state/cache/k", headers={"dapr-api-token": "t"}
                              ).status_code == 204
    finally:
        process.terminate()
        process.communicate(timeout=15)
    assert process.returncode == 0


def test_bad_components_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
        "spec: {type: state.cassandra, version: v1}\n")
    process = launch("--port", "0", "--components", str(tmp_path))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    assert err.startswith("statelab: bad.yaml: spec.type: 'state.cassandra' is not supported")
    assert "Traceback" not in err


def test_help_lists_run() -> None:
    result = subprocess.run([sys.executable, "-m", "statelab", "--help"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0
    assert "run" in result.stdout


def test_run_grpc_port_zero_picks_a_free_port_and_serves_the_sdk() -> None:
    """``--grpc-port 0``: the chosen port is printed; the SDK's stub answers on it."""
    from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2
    import grpc

    port = free_port()
    process = launch("--port", str(port), "--grpc-port", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"and gRPC on 127\.0\.0\.1:(\d+) ", line)
        assert found is not None, line
        with grpc.insecure_channel(f"127.0.0.1:{found.group(1)}") as channel:
            stub = dapr_pb2_grpc.DaprStub(channel)
            answer = stub.GetState(state_pb2.GetStateRequest(store_name="statestore", key="k"))
            assert answer.data == b"" and answer.etag == ""
    finally:
        process.terminate()
        process.communicate(timeout=15)
    assert process.returncode == 0


def test_start_attached_to_statelab_run_exports_its_grpc_port(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``statelab run`` publishes its gRPC port (``statelab.grpcPort``, reserved); a start()
    that attaches exports it, so ``DaprClient()`` reaches the process over gRPC as well."""
    import os

    from dapr.clients import DaprClient
    from dapr.conf import settings

    import statelab

    port = free_port()
    process = launch("--port", str(port), "--grpc-port", "0")
    try:
        assert process.stdout is not None
        found = re.search(r"and gRPC on 127\.0\.0\.1:(\d+) ", process.stdout.readline())
        assert found is not None
        grpc_port = found.group(1)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/v1.0/metadata").json()["extended"]["statelab.grpcPort"] \
                == grpc_port
            client.put("/v1.0/metadata/statelab.grpcPort", content=b"1")  # reserved: ignored
            assert client.get("/v1.0/metadata").json()["extended"]["statelab.grpcPort"] \
                == grpc_port
        monkeypatch.delenv("DAPR_GRPC_PORT", raising=False)
        attached = statelab.start(port, quiet=True)
        try:
            assert not attached.owned
            assert os.environ["DAPR_GRPC_PORT"] == grpc_port
            monkeypatch.setattr(settings, "DAPR_HTTP_PORT", port)
            monkeypatch.setattr(settings, "DAPR_HTTP_ENDPOINT", None)
            monkeypatch.setattr(settings, "DAPR_API_TOKEN", None)
            with DaprClient(address=f"127.0.0.1:{os.environ['DAPR_GRPC_PORT']}") as sdk:
                sdk.save_state("statestore", "attached", "yes")
                assert sdk.get_state("statestore", "attached").data == b"yes"
        finally:
            attached.stop()
        assert "DAPR_GRPC_PORT" not in os.environ  # put back as it was
    finally:
        process.terminate()
        process.communicate(timeout=15)
