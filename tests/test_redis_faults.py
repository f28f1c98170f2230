"""Faults on a real redis-server: down, frozen (SIGSTOP), restarted, and ``kill -9`` of
``statelab run`` under load (issue 13).

What a learner must get, as from daprd: a store call that cannot reach Redis ends within the
component's ``dialTimeout`` / ``readTimeout`` with a JSON answer carrying the operation's
``errorCode`` and the client's connection error; health and metadata never wait on the store;
the service comes back by itself when Redis does; and every write that was acknowledged (204)
is in Redis afterwards. Server state changes are awaited by polling with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from support import RedisServer, free_port, launch_redis

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

TIMEOUTS = {"dialTimeout": "300ms", "readTimeout": "500ms"}


def poll(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait for a server's state to change: retry *check* until it holds or time runs out."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{check.__doc__ or check} did not hold in {seconds} s")
        time.sleep(0.02)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = launch_redis()
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def _sidecar(redis: RedisServer, **metadata: str) -> Sidecar:
    component = Component(name="statestore", type="state.redis", version="v1",
                          metadata={"redisHost": redis.address, **metadata}, source="(tests)")
    return start(port=0, app_id="faults", components=[component], grpc_port=None)


def _restart(redis: RedisServer) -> RedisServer:
    """A new redis-server on the same port (the old one has stopped)."""
    binary = redis.process.args[0]  # type: ignore[index]
    process = subprocess.Popen(
        [binary, "--port", str(redis.port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--protected-mode", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    restarted = RedisServer(redis.port, process)
    client = restarted.client()

    def answers() -> bool:
        """the restarted redis-server answers PING"""
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    poll(answers)
    client.close()
    return restarted


def test_redis_down_answers_json_errors_then_recovers(redis: RedisServer) -> None:
    sidecar = _sidecar(redis, **TIMEOUTS)
    try:
        with httpx.Client(base_url=sidecar.url, timeout=10) as client:
            assert client.post("/v1.0/state/statestore", json=[{"key": "k", "value": 1}]
                               ).status_code == 204
            redis.stop()
            reply = client.get("/v1.0/state/statestore/k")
            assert reply.status_code == 500
            assert reply.headers["content-type"] == "application/json"
            body = reply.json()
            assert body["errorCode"] == "ERR_STATE_GET"
            assert body["message"].startswith("fail to get k from state store statestore: ")
            assert "Connection refused" in body["message"] or "connecting" in body["message"]
            reply = client.post("/v1.0/state/statestore", json=[{"key": "k", "value": 2}])
            assert reply.status_code == 500 and reply.json()["errorCode"] == "ERR_STATE_SAVE"
            assert reply.json()["message"].startswith(
                "failed saving state in state store statestore: failed to set key faults||k: ")
            # components-contrib's Set and Delete (state/redis/redis.go) report any error of
            # their EVAL as an ETag mismatch when an ETag is involved (a delete always sends
            # one): daprd answers 409 for a save with an ETag and for every delete.
            reply = client.post("/v1.0/state/statestore",
                                json=[{"key": "k", "value": 2, "etag": "1"}])
            assert reply.status_code == 409 and reply.json()["errorCode"] == "ERR_STATE_SAVE"
            assert "possible etag mismatch. error from state store: " in reply.json()["message"]
            reply = client.delete("/v1.0/state/statestore/k")
            assert reply.status_code == 409 and reply.json()["errorCode"] == "ERR_STATE_DELETE"
            assert reply.json()["message"].startswith(
                "failed deleting state with key k: possible etag mismatch. error from state "
                "store: ")
            reply = client.post("/v1.0/state/statestore/transaction", json={"operations": [
                {"operation": "upsert", "request": {"key": "k", "value": 3}}]})
            assert reply.status_code == 500
            assert reply.json()["errorCode"] == "ERR_STATE_TRANSACTION"
            reply = client.post("/v1.0/state/statestore/bulk", json={"keys": ["k"]})
            assert reply.status_code == 200 and "error" in reply.json()[0]
            assert client.get("/v1.0/healthz").status_code == 204
            assert client.get("/v1.0/metadata").status_code == 200

            restarted = _restart(redis)
            try:
                def saves() -> bool:
                    """a save succeeds again"""
                    return client.post("/v1.0/state/statestore",
                                       json=[{"key": "k", "value": 4}]).status_code == 204
                poll(saves)
                assert client.get("/v1.0/state/statestore/k").json() == 4
            finally:
                restarted.stop()
    finally:
        sidecar.stop()


def test_frozen_redis_never_stalls_health_and_ends_at_the_read_timeout(
        redis: RedisServer) -> None:
    sidecar = _sidecar(redis, **TIMEOUTS)
    try:
        with httpx.Client(base_url=sidecar.url, timeout=10) as client:
            assert client.post("/v1.0/state/statestore", json=[{"key": "k", "value": 1}]
                               ).status_code == 204
            os.kill(redis.process.pid, signal.SIGSTOP)
            try:
                # Store calls in flight on the frozen server, several at once.
                replies: list[httpx.Response] = []
                def reader() -> None:
                    with httpx.Client(base_url=sidecar.url, timeout=10) as own:
                        replies.append(own.get("/v1.0/state/statestore/k"))
                readers = [threading.Thread(target=reader) for _ in range(4)]
                for thread in readers:
                    thread.start()
                # Meanwhile health and metadata answer (a 2 s client timeout, 4x the read
                # timeout: they must not queue behind the store calls).
                assert client.get("/v1.0/healthz", timeout=2).status_code == 204
                assert client.get("/v1.0/healthz/outbound", timeout=2).status_code == 204
                assert client.get("/v1.0/metadata", timeout=2).json()["id"] == "faults"
                for thread in readers:
                    thread.join(10)
                assert len(replies) == 4
                for reply in replies:
                    assert reply.status_code == 500
                    assert reply.json()["errorCode"] == "ERR_STATE_GET"
                    assert "Timeout" in reply.json()["message"]
                reply = client.post("/v1.0/state/statestore", json=[{"key": "k2", "value": 1}])
                assert reply.status_code == 500 and reply.json()["errorCode"] == "ERR_STATE_SAVE"
            finally:
                os.kill(redis.process.pid, signal.SIGCONT)

            def reads() -> bool:
                """a GET answers 200 again"""
                return client.get("/v1.0/state/statestore/k").status_code == 200
            poll(reads)
            assert client.get("/v1.0/state/statestore/k").json() == 1
    finally:
        sidecar.stop()


def test_kill_9_under_load_loses_no_acknowledged_write(redis: RedisServer,
                                                      tmp_path: Path) -> None:
    (tmp_path / "redis.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: statestore}\n"
        f"spec: {{type: state.redis, version: v1, metadata: [{{name: redisHost, value: "
        f"'{redis.address}'}}]}}\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "statelab", "run", "--port", str(port), "--grpc-port", "0",
         "--app-id", "crash", "--components", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    acknowledged: dict[str, str] = {}
    failures: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            i = 0
            while not stop.is_set():
                key, value = f"w{n}-{i}", f"v{n}-{i}"
                try:
                    reply = client.post("/v1.0/state/statestore",
                                        json=[{"key": key, "value": value}])
                except httpx.HTTPError:
                    failures.append(key)  # not acknowledged (the sidecar is gone, or slow)
                    i += 1
                    continue
                if reply.status_code == 204:
                    with lock:
                        acknowledged[key] = value
                        if len(acknowledged) >= 300:
                            enough.set()
                i += 1

    try:
        assert process.stdout is not None and "listening on" in process.stdout.readline()
        writers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in writers:
            thread.start()
        assert enough.wait(60), (len(acknowledged), failures[:3])
        process.kill()  # SIGKILL, mid-load
        process.wait(10)
        stop.set()
        for thread in writers:
            thread.join(10)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
    direct = redis.client()
    try:
        for key, value in acknowledged.items():
            assert direct.hget(f"crash||{key}", "data") == f'"{value}"'.encode()
    finally:
        direct.close()
    assert len(acknowledged) >= 300


def test_redis_going_away_mid_load_answers_every_request_then_recovers(
        redis: RedisServer) -> None:
    """Issue 14, on the asyncio path: eight clients keep reading and writing while Redis
    stops and comes back. Every request is answered, within the component's timeouts (no
    hang), either as it would be with Redis up or with the operation's Dapr error as JSON;
    once Redis is back, every client succeeds again without any restart or reset."""
    sidecar = _sidecar(redis, **TIMEOUTS, poolSize="4")
    answers: list[tuple[str, int, str, float]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(n: int) -> None:
        with httpx.Client(base_url=sidecar.url, timeout=30) as client:
            i = 0
            while not stop.is_set():
                i += 1
                started = time.monotonic()
                if i % 2:
                    reply = client.post("/v1.0/state/statestore",
                                        json=[{"key": f"c{n}", "value": i}])
                    op = "save"
                else:
                    reply = client.get(f"/v1.0/state/statestore/c{n}")
                    op = "get"
                code = reply.json().get("errorCode", "") if reply.status_code >= 400 else ""
                with lock:
                    answers.append((op, reply.status_code, code, time.monotonic() - started))

    def count(op: str | None = None, ok: bool | None = None) -> int:
        with lock:
            return sum(1 for o, status, _, _ in answers
                       if (op is None or o == op) and (ok is None or (status < 400) == ok))

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(8)]
    restarted: RedisServer | None = None
    try:
        for thread in threads:
            thread.start()
        poll(lambda: count(ok=True) >= 200)
        redis.stop()
        poll(lambda: count("save", ok=False) >= 20 and count("get", ok=False) >= 20)
        with lock:
            successes_before_restart = len(answers)
        restarted = _restart(redis)

        def recovered() -> bool:
            """every client succeeds again after the restart"""
            with lock:
                recent = answers[successes_before_restart:]
            return sum(1 for _, status, _, _ in recent[-40:] if status < 400) == 40
        poll(recovered, seconds=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        if restarted is not None:
            restarted.stop()
        sidecar.stop()
    failures = {(op, status, code) for op, status, code, _ in answers if status >= 400}
    assert failures <= {("save", 500, "ERR_STATE_SAVE"), ("get", 500, "ERR_STATE_GET")}, failures
    assert {status for _, status, _, _ in answers if status < 400} <= {200, 204}
    # Bounded by the timeouts (300 ms dial, 500 ms read, a pool of 4 for 8 clients waiting at
    # most read + 1 s), with a generous margin for a busy machine: never a hang.
    assert max(seconds for *_, seconds in answers) < 10
