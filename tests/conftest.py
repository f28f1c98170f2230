"""Shared fixtures: a real redis-server on a free loopback port, and sidecars over HTTP.

The same contract tests run against every store profile through the ``profile`` fixture,
as fakeredis's own suite runs against the fake and the real server:

* ``redis-fake``: ``state.redis`` on the embedded fakeredis server (the default);
* ``redis-real``: ``state.redis`` on a real ``redis-server`` that this file starts;
* ``memory``: ``state.in-memory``.

A missing ``redis-server`` skips the real-Redis tests with a message on a learner's machine,
and fails them when ``CI=true``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from support import (  # noqa: F401 - re-exported for test modules
    IN_CI,
    REDIS_HINT,
    RedisServer,
    free_port,
    launch_redis,
    require_binary,
)

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = launch_redis()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's exercise progress goes to a file of its own: never to the learner's home,
    and never into the file the notebooks run by the same pytest session see."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


PROFILES = ("redis-fake", "redis-real", "memory")
STORE_FOR_PROFILE = {"redis-fake": "fakestore", "redis-real": "realstore", "memory": "memstore"}


def _components(real: RedisServer | None) -> list[Component]:
    comps = [
        Component(name="fakestore", type="state.redis", version="v1", metadata={},
                  source="(tests)"),
        Component(name="memstore", type="state.in-memory", version="v1", metadata={},
                  source="(tests)"),
    ]
    if real is not None:
        comps.append(Component(name="realstore", type="state.redis", version="v1",
                               metadata={"redisHost": real.address, "redisDB": "3"},
                               source="(tests)"))
    return comps


@pytest.fixture(scope="session")
def contract_sidecar(request: pytest.FixtureRequest) -> Iterator[Sidecar]:
    """One sidecar with a store per profile; the real one only if redis-server exists."""
    real = None
    if shutil.which("redis-server") is not None:
        real = request.getfixturevalue("redis_server")
    sidecar = start(0, "myapp", _components(real), quiet=True)
    yield sidecar
    sidecar.stop()


@dataclass
class Profile:
    """What a contract test needs: the profile name, the store name and an HTTP client."""

    name: str
    store: str
    sidecar: Sidecar
    http: httpx.Client

    @property
    def is_redis(self) -> bool:
        return self.name.startswith("redis")

    @property
    def is_memory(self) -> bool:
        return self.name == "memory"

    def url(self, key: str | None = None) -> str:
        base = f"/v1.0/state/{self.store}"
        return base if key is None else f"{base}/{key}"

    def save(self, *items: dict, params: dict | None = None) -> httpx.Response:
        return self.http.post(self.url(), json=list(items), params=params)

    def get(self, key: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.http.get(self.url(key), **kwargs)

    def delete(self, key: str, etag: str | None = None, params: dict | None = None
               ) -> httpx.Response:
        headers = {} if etag is None else {"If-Match": etag}
        return self.http.delete(self.url(key), headers=headers, params=params)


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> Iterator[Profile]:
    name = request.param
    if name == "redis-real":
        require_binary("redis-server", REDIS_HINT)
    sidecar: Sidecar = request.getfixturevalue("contract_sidecar")
    store = STORE_FOR_PROFILE[name]
    sidecar.reset(store)
    # verify=False: the sidecar is plain HTTP, and skipping the CA bundle saves ~50 ms a test.
    with httpx.Client(base_url=sidecar.url, timeout=10, verify=False) as client:
        yield Profile(name, store, sidecar, client)
