"""Which process on a busy port start() trusts (statelab/server/identity.py, issue 13).

Only a ``statelab run`` of this user that proves it knows the secret it published (a 0600 file
in the user's runtime dir) is reused; an impostor never receives the token; a server that
trickles its answer cannot hold start() up; a token mismatch either way is no reuse.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import free_port

from statelab.server.identity import Identity, proof, read_secret, runtime_dir
from statelab.server.sidecar import start

IMITATION = (b'{"id":"myapp","runtimeVersion":"1.18.3","components":[{"name":"statestore",'
             b'"type":"state.redis","version":"v1","capabilities":[]}],"extended":'
             b'{"statelab":"0.2","statelab.role":"process"}}')


@pytest.fixture
def stale_key() -> Iterator[Identity]:
    """A key file for a port, as a killed ``statelab run`` leaves behind."""
    identity = Identity(free_port())
    if not identity.publish():
        pytest.skip("no private runtime directory on this platform")
    yield identity
    identity.withdraw()


def test_a_published_key_is_private_and_read_back(stale_key: Identity) -> None:
    assert stale_key.path is not None
    assert stale_key.path.stat().st_mode & 0o777 == 0o600
    folder = runtime_dir()
    assert folder is not None and folder.stat().st_mode & 0o777 == 0o700
    assert read_secret(stale_key.port) == stale_key.secret
    os.chmod(stale_key.path, 0o644)  # readable by others: no longer a proof of anything
    assert read_secret(stale_key.port) is None


class _Imitation(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Statelab-Proof", "0" * 64)
        self.end_headers()
        self.wfile.write(IMITATION)

    def log_message(self, *args: object) -> None:
        pass


def test_an_impostor_is_not_reused_and_never_sees_the_token(stale_key: Identity) -> None:
    _Imitation.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", stale_key.port), _Imitation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mine = start(stale_key.port, "myapp", api_token="T0k3n", quiet=True, grpc_port=None)
        try:
            assert mine.owned and mine.port != stale_key.port
        finally:
            mine.stop()
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Imitation.seen) == 1  # one challenge, then nothing
    assert "statelab-challenge" in _Imitation.seen[0]
    assert not any("dapr-api-token" in headers for headers in _Imitation.seen)


def test_without_a_key_file_the_holder_is_not_even_asked() -> None:
    _Imitation.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imitation)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mine = start(port, "myapp", quiet=True, grpc_port=None)
        mine.stop()
        assert mine.port != port
    finally:
        server.shutdown()
        server.server_close()
    assert _Imitation.seen == []


def test_a_trickling_server_cannot_hold_start_up(stale_key: Identity) -> None:
    listener = socket.create_server(("127.0.0.1", stale_key.port))
    done = threading.Event()

    def trickle() -> None:
        conns = []
        listener.settimeout(0.05)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
                conns.append(conn)
            except OSError:
                pass
            for conn in conns:  # one byte of a never-ending answer, every 50 ms
                try:
                    conn.sendall(b"H")
                except OSError:
                    pass
        for conn in conns:
            conn.close()

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        began = time.monotonic()
        mine = start(stale_key.port, "myapp", quiet=True, grpc_port=None)
        took = time.monotonic() - began
        mine.stop()
        assert mine.port != stale_key.port
        assert took < 10  # the probe is bounded to about a second (it was over 30 s)
    finally:
        done.set()
        thread.join(10)
        listener.close()


def _run(port: int, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "statelab", "run", "--port", str(port), "--grpc-port", "0",
         *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None and "listening on" in process.stdout.readline()
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=15)


def test_a_token_mismatch_is_no_reuse_either_way() -> None:
    port = free_port()
    before = os.environ.get("DAPR_API_TOKEN")
    process = _run(port, "--api-token", "A")
    try:
        for token in ("B", None, ""):
            other = start(port, "myapp", api_token=token, quiet=True, grpc_port=None)
            try:
                assert other.owned and other.port != port, token
            finally:
                other.stop()
        same = start(port, "myapp", api_token="A", quiet=True, grpc_port=None)
        assert not same.owned and same.port == port
        assert os.environ["DAPR_API_TOKEN"] == "A"
        same.stop()
        assert os.environ.get("DAPR_API_TOKEN") == before  # detaching puts it back
    finally:
        _stop(process)
    port = free_port()
    process = _run(port)
    try:
        asked = start(port, "myapp", api_token="T", quiet=True, grpc_port=None)
        try:
            assert asked.owned and asked.port != port  # it has no token; T was asked for
        finally:
            asked.stop()
    finally:
        _stop(process)


def test_statelab_run_withdraws_its_key_when_it_stops() -> None:
    port = free_port()
    process = _run(port)
    try:
        assert read_secret(port) is not None
    finally:
        _stop(process)
    assert read_secret(port) is None


def test_the_proof_is_an_hmac_of_the_challenge() -> None:
    secret = b"k" * 32
    assert proof(secret, "abc") != proof(secret, "abd")
    assert proof(secret, "abc") != proof(b"j" * 32, "abc")
    assert len(proof(secret, "abc")) == 64


def test_a_runtime_dir_others_can_read_is_not_trusted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "runtime"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(shared))  # not private: not used
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    folder = runtime_dir(create=True)
    assert folder == tmp_path / f"statelab-{os.getuid()}"
    os.chmod(folder, 0o755)  # a folder others can list is no place for a secret
    assert runtime_dir() is None
