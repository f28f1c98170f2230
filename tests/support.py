"""Test support shared by fixtures and test modules: real redis-server processes, skip rules.

A missing binary skips the test on a learner's machine, with a message that says how to enable
it, and fails it when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_HINT = ("needs the redis-server binary: install it (Debian/Ubuntu: apt-get install "
              "redis-server; macOS: brew install redis) to run the real-Redis tests")


def require_binary(name: str, hint: str) -> str:
    """The path of *name*; skips the test locally, fails it under CI=true."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is missing in CI: {hint}")
        pytest.skip(hint)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A redis-server process on 127.0.0.1 that the tests own."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, db: int = 0):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=db)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def launch_redis(*extra: str) -> RedisServer:
    binary = require_binary("redis-server", REDIS_HINT)
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="statelab-redis-")  # replicas write RDB files here
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "no", "--dir", workdir, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port, process)
    client = server.client()
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
    client.close()
    return server


def launch_primary_and_replica() -> tuple[RedisServer, RedisServer]:
    """A redis-server and a replica of it, returned once the replica is in sync (polled with
    a deadline: waiting for servers to start, not for a race)."""
    primary = launch_redis("--repl-diskless-sync-delay", "0")
    replica = launch_redis("--replicaof", "127.0.0.1", str(primary.port))
    primary_client, replica_client = primary.client(), replica.client()
    deadline = time.monotonic() + 20
    try:
        while replica_client.info("replication").get("master_link_status") != "up" or \
                primary_client.info("replication").get("slave0", {}).get("state") != "online":
            if time.monotonic() > deadline:
                replica.stop()
                primary.stop()
                raise RuntimeError("the replica never synchronised")
            time.sleep(0.05)
    finally:
        primary_client.close()
        replica_client.close()
    return primary, replica
