"""redis-py clients for a ``state.redis`` component: the embedded server or a real one.

Embedded Redis servers live for the whole Python process and are keyed by component name, so
stopping and restarting a sidecar keeps its data, as a Redis container would.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from statelab.go.stdlib import atoi

if TYPE_CHECKING:
    from statelab.stores.registry import ComponentSpec

__all__ = ["EMBEDDED", "embedded_redis_client", "inspection_client", "is_embedded", "store_client"]

#: ``redisHost`` value (or absence) that selects the embedded fakeredis server.
EMBEDDED = "embedded"

_embedded_servers: dict[str, Any] = {}
_embedded_lock = threading.Lock()


def is_embedded(spec: ComponentSpec) -> bool:
    return spec.meta("redisHost", EMBEDDED) in ("", EMBEDDED)


def embedded_redis_client(name: str = "statestore", *, db: int = 0,
                          single_connection: bool = False) -> Any:
    """A client on the process-wide embedded Redis server of component *name*."""
    import fakeredis

    with _embedded_lock:
        server = _embedded_servers.get(name)
        if server is None:
            server = fakeredis.FakeServer()
            _embedded_servers[name] = server
    return fakeredis.FakeRedis(server=server, db=db, single_connection_client=single_connection)


def _client(spec: ComponentSpec, *, for_store: bool) -> Any:
    db = atoi(spec.meta("redisDB") or "0")
    if is_embedded(spec):
        # The store's own client holds one connection instead of a pool: every fakeredis
        # command is serialised by the server's lock anyway, and redis-py's pool checkout and
        # release cost about a third of a command (bench/bench_sidecar.py).
        return embedded_redis_client(spec.name, db=db, single_connection=for_store)
    import redis

    host = spec.meta("redisHost")
    hostname, _, port = host.partition(":")
    return redis.Redis(host=hostname, port=int(port or spec.meta("redisPort") or 6379),
                       db=db, password=spec.meta("redisPassword") or None,
                       username=spec.meta("redisUsername") or None,
                       socket_connect_timeout=5, max_connections=64,
                       single_connection_client=False)


def store_client(spec: ComponentSpec) -> Any:
    """The client the store itself uses."""
    return _client(spec, for_store=True)


def inspection_client(spec: ComponentSpec) -> Any:
    """A separate client on the same database, for a learner to look at what Dapr stored."""
    return _client(spec, for_store=False)
