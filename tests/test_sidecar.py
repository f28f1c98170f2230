"""The in-kernel sidecar: start, reuse, stop, ports, environment (DESIGN.md public interfaces)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Iterator

import httpx
import pytest

import statelab
from statelab.dapr.components import Component
from statelab.errors import SidecarError
from statelab.dapr.http import StateAPI
from statelab.server.sidecar import Sidecar, running_sidecars, serve, start, stop_all
from statelab.stores.memory import MemoryStore
from support import free_port


@pytest.fixture
def sidecar() -> Iterator[Sidecar]:
    # gRPC on a free port: another test module's sidecar may hold 50001 (its move is tested
    # in test_grpc_server.py), and this repr must not depend on the order of modules.
    running = start(0, "sidecar-tests", quiet=True, grpc_port=0)
    yield running
    running.stop()


def test_start_serves_the_state_api(sidecar: Sidecar) -> None:
    assert sidecar.url == f"http://127.0.0.1:{sidecar.port}"
    assert sidecar.state_url == f"{sidecar.url}/v1.0/state"
    assert os.environ["DAPR_HTTP_PORT"] == str(sidecar.port)
    with httpx.Client(base_url=sidecar.url) as client:
        assert client.get("/v1.0/healthz").status_code == 204
        assert client.post("/v1.0/state/statestore", json=[{"key": "k", "value": 1}]
                           ).status_code == 204
        reply = client.get("/v1.0/state/statestore/k")
        assert (reply.status_code, reply.text, reply.headers["etag"]) == (200, "1", "1")
    assert repr(sidecar) == (f"<Sidecar app_id='sidecar-tests' url='{sidecar.url}' running; "
                             "stores: statestore (state.redis)>")


def test_start_is_idempotent(sidecar: Sidecar) -> None:
    assert start(0, "sidecar-tests", quiet=True, grpc_port=0) is sidecar
    assert sidecar in running_sidecars()


def test_new_settings_on_the_same_port_replace_the_sidecar() -> None:
    port = free_port()
    first = start(port, "first-app", quiet=True)
    replacement = start(port, "other-app", quiet=True)
    try:
        assert replacement is not first
        assert not first.running
        assert (replacement.app_id, replacement.port) == ("other-app", port)
    finally:
        replacement.stop()


def test_port_zero_never_replaces_another_sidecar(sidecar: Sidecar) -> None:
    other = start(0, "other-app", quiet=True)
    try:
        assert other is not sidecar and other.port != sidecar.port
        assert sidecar.running and other.running
    finally:
        other.stop()


def test_embedded_data_survives_stop_and_start() -> None:
    first = start(0, "survivor", quiet=True)
    with httpx.Client(base_url=first.url) as client:
        client.post("/v1.0/state/statestore", json=[{"key": "kept", "value": "yes"}])
    first.stop()
    assert not first.running
    second = start(0, "survivor", quiet=True)
    try:
        with httpx.Client(base_url=second.url) as client:
            assert client.get("/v1.0/state/statestore/kept").text == '"yes"'
    finally:
        second.stop()


def test_stop_frees_the_port() -> None:
    port = free_port()
    running = start(port, "freed", quiet=True)
    assert running.port == port
    running.stop()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    running.stop()  # stopping twice is harmless


def test_a_port_held_by_another_program_moves_to_a_free_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        busy = blocker.getsockname()[1]
        moved = start(busy, "mover")
        try:
            assert moved.port != busy
            assert f"Port {busy} is in use by another program; statelab uses port " \
                   f"{moved.port} instead." in capsys.readouterr().err
            assert start(busy, "mover") is moved  # asking again reuses it
        finally:
            moved.stop()


def test_a_statelab_sidecar_in_another_process_is_reused() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "statelab", "run", "--port", str(port),
                                "--app-id", "shared"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
        attached = start(port, "shared")
        assert not attached.owned
        assert attached.api is None
        assert repr(attached) == f"<Sidecar app_id='shared' url='http://127.0.0.1:{port}' " \
                                 "(attached)>"
        with pytest.raises(SidecarError, match="another process"):
            attached.redis()
        attached.stop()  # does not stop the other process
        with httpx.Client(base_url=attached.url) as client:
            assert client.get("/v1.0/healthz").status_code == 204
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_a_statelab_sidecar_with_other_stores_is_not_reused(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Another kernel's sidecar (default stores) holds the port; asking for a second store
    starts an own sidecar on a free port instead of attaching to one that lacks it."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "statelab", "run", "--port", str(port),
                                "--app-id", "shared"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
        wanted = [Component(name="statestore", type="state.redis", version="v1", metadata={},
                            source="(test)"),
                  Component(name="memstore", type="state.in-memory", version="v1",
                            metadata={}, source="(test)")]
        own = start(port, "shared", wanted)
        try:
            assert own.owned and own.port != port
            assert f"Port {port} is in use by another program; statelab uses port " \
                   f"{own.port} instead." in capsys.readouterr().err
            with httpx.Client(base_url=own.url) as client:
                assert client.post("/v1.0/state/memstore", json=[{"key": "k", "value": 1}]
                                   ).status_code == 204
        finally:
            own.stop()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_statelab_dapr_url_points_at_a_real_daprd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATELAB_DAPR_URL", "http://127.0.0.1:3999/")
    external = start()
    assert (external.url, external.port, external.owned) == ("http://127.0.0.1:3999", 3999,
                                                             False)


def test_redis_inspection_and_reset(sidecar: Sidecar) -> None:
    with httpx.Client(base_url=sidecar.url) as client:
        client.post("/v1.0/state/statestore", json=[{"key": "order-1", "value": {"qty": 1}}])
    # §10, §11.1: what Dapr really stores.
    assert sidecar.redis().hgetall("sidecar-tests||order-1") == {b"data": b'{"qty":1}',
                                                                 b"version": b"1"}
    sidecar.reset()
    assert sidecar.redis().exists("sidecar-tests||order-1") == 0
    with pytest.raises(SidecarError, match="no state store named 'nope'"):
        sidecar.component("nope")


def test_api_token_is_required_and_exported() -> None:
    guarded = start(0, "guarded", api_token="s3cret", quiet=True)
    try:
        assert os.environ["DAPR_API_TOKEN"] == "s3cret"
        with httpx.Client(base_url=guarded.url) as client:
            denied = client.get("/v1.0/state/statestore/k")
            assert (denied.status_code, denied.text) == (401, "invalid api token\n")  # §1
            assert client.get("/v1.0/healthz").status_code == 204
            allowed = client.get("/v1.0/state/statestore/k", headers={"dapr-api-token": "s3cret"})
            assert allowed.status_code == 204
    finally:
        guarded.stop()
    assert "DAPR_API_TOKEN" not in os.environ  # stop() restores the environment


def test_in_memory_components_and_stop_all() -> None:
    memory = Component(name="mem", type="state.in-memory", version="v1", metadata={},
                       source="(test)")
    running = start(0, "mem-app", [memory], quiet=True)
    assert "mem (state.in-memory)" in repr(running)
    stop_all()
    assert not running.running
    assert running_sidecars() == []


def test_context_manager_stops() -> None:
    with start(0, "ctx", quiet=True) as running:
        assert running.running
    assert not running.running


def test_lazy_public_api() -> None:
    assert statelab.start is start
    assert statelab.Sidecar is Sidecar


def test_a_sidecar_inside_another_kernel_is_not_borrowed() -> None:
    port = free_port()
    code = ("import statelab, sys; statelab.start(%d, 'kernelapp'); print('ready', flush=True); "
            "sys.stdin.read()" % port)
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        mine = start(port, "kernelapp", quiet=True, grpc_port=0)  # HTTP's move only
        try:
            assert mine.owned and mine.port != port and mine.moved_from == port
            assert repr(mine).endswith(f"running (port {port} was busy); "
                                       "stores: statestore (state.redis)>")
        finally:
            mine.stop()
    finally:
        process.communicate("", timeout=10)


def test_stopping_a_second_sidecar_points_the_environment_back_at_the_first() -> None:
    first = start(free_port(), "env-first", quiet=True)
    second = start(free_port(), "env-second", quiet=True)
    try:
        assert os.environ["DAPR_HTTP_PORT"] == str(second.port)
        second.stop()
        assert os.environ["DAPR_HTTP_PORT"] == str(first.port)
    finally:
        second.stop()
        first.stop()
    assert "DAPR_HTTP_PORT" not in os.environ or os.environ["DAPR_HTTP_PORT"] not in (
        str(first.port), str(second.port))


def test_a_store_note_shows_in_describe_repr_and_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    from statelab.stores.redis import fakeredis_direct

    monkeypatch.setattr(fakeredis_direct, "fakeredis_version", lambda: "2.99.1")
    sidecar = start(port=0, app_id="notes", components=[
        Component(name="untested", type="state.redis", version="v1", metadata={},
                  source="(test)")])
    try:
        [note] = sidecar.notes()
        assert note.startswith("untested: fakeredis 2.99.1 is not in the tested list")
        assert "using Lua scripts" in note
        assert f"  note: {note}" in sidecar.describe().splitlines()
        assert repr(sidecar).endswith(f"; {note}>")
    finally:
        sidecar.stop()


def test_describe_lists_the_stores() -> None:
    sidecar = start(port=0, app_id="described")
    try:
        lines = sidecar.describe().splitlines()
        assert lines[0] == f"statelab sidecar for app 'described' at {sidecar.url} (running)"
        assert lines[1:] == [f"  gRPC API at {sidecar.grpc_endpoint}",
                             "  state store statestore (state.redis)"]
        assert sidecar.notes() == []
    finally:
        sidecar.stop()


def test_serve_gives_a_private_sidecar_over_an_api_you_built() -> None:
    api = StateAPI([Component.around(MemoryStore(), "memstore")], app_id="private")
    before = dict(os.environ)
    with serve(api) as private:
        assert private not in running_sidecars()
        assert dict(os.environ) == before  # nothing exported: DaprClient() never finds it
        assert private.grpc_port is not None
        with httpx.Client(base_url=private.url) as client:
            assert client.post("/v1.0/state/memstore", json=[{"key": "k", "value": 1}]
                               ).status_code == 204
        assert api.service.get("memstore", "k") is not None
        stop_all()  # leaves it alone
        assert private.running
    assert not private.running and private.grpc_port is None
