"""Go's limit on a request's head (statelab/server/header_limit.py): 1 MiB plus 4096 bytes of
slack, answered ``431 Request Header Fields Too Large`` as net/http writes it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from statelab.server.header_limit import MAX_HEAD_BYTES, TOO_LARGE_ANSWER
from statelab.server.sidecar import Sidecar, start


@pytest.fixture(scope="module")
def served() -> Iterator[Sidecar]:
    sidecar = start(port=0, app_id="heads", grpc_port=None)
    yield sidecar
    sidecar.stop()


def _exchange(sidecar: Sidecar, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sidecar.port), timeout=10) as conn:
        try:
            conn.sendall(request)
        except OSError:
            pass  # the server may answer and close before it read everything, as Go does
        answer = b""
        while True:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def _request(header_bytes: int) -> bytes:
    return (b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
            + b"a" * header_bytes + b"\r\n\r\n")


def test_a_head_over_the_limit_gets_go_431(served: Sidecar) -> None:
    assert _exchange(served, _request(MAX_HEAD_BYTES)) == TOO_LARGE_ANSWER


def test_a_64_mib_header_is_refused_without_reading_it(served: Sidecar) -> None:
    assert _exchange(served, _request(64 << 20)).startswith(b"HTTP/1.1 431 ")


def test_a_head_just_under_the_limit_is_served(served: Sidecar) -> None:
    answer = _exchange(served, _request(MAX_HEAD_BYTES - 200))
    assert answer.startswith(b"HTTP/1.1 204 ")


def test_the_next_request_on_a_connection_gets_a_fresh_limit(served: Sidecar) -> None:
    keep = (b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES // 2)
            + b"\r\n\r\n")
    answer = _exchange(served, keep + keep + _request(MAX_HEAD_BYTES // 2))
    assert answer.count(b"HTTP/1.1 204 ") == 3
