"""redis-py clients for a ``state.redis`` component: the embedded server or a real one.

Embedded Redis servers live for the whole Python process and are keyed by component name, so
stopping and restarting a sidecar keeps its data, as a Redis container would.

A real server is reached with daprd's connection settings (:class:`ConnectionSettings`): the
component's ``dialTimeout``, ``readTimeout``, ``writeTimeout``, ``poolSize`` and retry
metadata, with go-redis's defaults, so a server that is down or frozen makes a store call fail
within the same bounds as on daprd instead of hanging.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statelab.go.stdlib import atoi

if TYPE_CHECKING:
    from statelab.stores.registry import ComponentSpec

__all__ = ["EMBEDDED", "ConnectionSettings", "async_store_client", "embedded_redis_client",
           "inspection_client", "is_embedded", "parse_duration", "store_client"]

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


_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0,
                 "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A duration of Redis component metadata, in seconds, as components-contrib's
    ``Duration.DecodeString`` (common/component/redis/settings.go) reads it: an integer is a
    number of milliseconds (a negative one is kept as is: "disabled"), anything else goes to
    Go's ``time.ParseDuration`` (``"500ms"``, ``"1m30s"``). Raises ValueError with Go's
    wording for anything else."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        value = int(text)
        return float(value) if value < 0 else value / 1000
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += float(match[1]) * _UNIT_SECONDS[match[2]]
        position = match.end()
    if not body or position != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


@dataclass(frozen=True)
class ConnectionSettings:
    """How the store reaches a real Redis: daprd's component metadata names, go-redis's
    defaults (components-contrib ``newV9Client`` in common/component/redis/v9client.go passes
    ``DialTimeout``, ``ReadTimeout``, ``WriteTimeout``, ``PoolSize`` and the retry settings to
    ``v9.Options``; zero means go-redis's default: 5 s dial, 3 s read, write = read, a pool of
    10 per CPU; ``ParseClientFromProperties`` in redis.go defaults ``redisMaxRetries`` to 3
    with 8 ms to 512 ms of backoff).

    redis-py has one socket timeout for reads and writes: it gets the larger of the two. A
    timed-out command is not retried (go-redis retries it; statelab keeps a frozen server's
    answer within one read timeout, which is what a learner waits for); a refused connection
    is retried with the backoff, which takes milliseconds.
    """

    dial_timeout: float | None = 5.0
    read_timeout: float | None = 3.0
    write_timeout: float | None = 3.0
    pool_size: int = 10 * (os.cpu_count() or 1)
    max_retries: int = 3
    min_retry_interval: float = 0.008
    max_retry_interval: float = 0.512

    @classmethod
    def of(cls, spec: ComponentSpec) -> ConnectionSettings:
        """The settings of *spec*; raises ValueError naming the field that is invalid."""
        def duration(name: str, default: float | None) -> float | None:
            raw = spec.meta(name)
            if raw == "":
                return default
            try:
                seconds = parse_duration(raw)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if seconds == 0:
                return default
            return None if seconds < 0 else seconds  # -1: no timeout (go-redis)

        def integer(name: str, default: int) -> int:
            raw = spec.meta(name)
            if raw == "":
                return default
            try:
                return atoi(raw)
            except Exception as exc:  # noqa: BLE001 - GoParseError, reported with the field
                raise ValueError(f"{name}: {exc}") from None

        read = duration("readTimeout", cls.read_timeout)
        pool = integer("poolSize", 0)
        retries = integer("redisMaxRetries", cls.max_retries)
        return cls(dial_timeout=duration("dialTimeout", cls.dial_timeout), read_timeout=read,
                   write_timeout=duration("writeTimeout", read),
                   pool_size=pool if pool > 0 else cls.pool_size,
                   max_retries=0 if retries < 0 else retries,
                   min_retry_interval=max(duration("redisMinRetryInterval",
                                                   cls.min_retry_interval) or 0.0, 0.0),
                   max_retry_interval=max(duration("redisMaxRetryInterval",
                                                   cls.max_retry_interval) or 0.0, 0.0))

    @property
    def socket_timeout(self) -> float | None:
        if self.read_timeout is None or self.write_timeout is None:
            return None
        return max(self.read_timeout, self.write_timeout)

    @property
    def pool_timeout(self) -> float | None:
        """How long a call waits for a free connection of the pool: go-redis's
        ``PoolTimeout`` default, the read timeout plus one second."""
        return None if self.read_timeout is None else self.read_timeout + 1.0

    def retry(self, *, asynchronous: bool = False) -> Any:
        """redis-py's Retry (or its asyncio twin) for refused connections only (never for a
        timed-out command)."""
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        if asynchronous:
            from redis.asyncio.retry import Retry as AsyncRetry

            retry_class: Any = AsyncRetry
        else:
            from redis.retry import Retry

            retry_class = Retry
        backoff = ExponentialBackoff(cap=self.max_retry_interval, base=self.min_retry_interval)
        return retry_class(backoff, self.max_retries, supported_errors=(RedisConnectionError,))

    def connection_options(self, spec: ComponentSpec) -> dict[str, Any]:
        """The keyword arguments of a redis-py client (sync or asyncio) for *spec*."""
        hostname, _, port = spec.meta("redisHost").partition(":")
        return {"host": hostname, "port": int(port or spec.meta("redisPort") or 6379),
                "db": atoi(spec.meta("redisDB") or "0"),
                "password": spec.meta("redisPassword") or None,
                "username": spec.meta("redisUsername") or None,
                "socket_connect_timeout": self.dial_timeout,
                "socket_timeout": self.socket_timeout}


def _client(spec: ComponentSpec, *, for_store: bool) -> Any:
    db = atoi(spec.meta("redisDB") or "0")
    if is_embedded(spec):
        # The store's own client holds one connection instead of a pool: every fakeredis
        # command is serialised by the server's lock anyway, and redis-py's pool checkout and
        # release cost about a third of a command (bench/bench_sidecar.py).
        return embedded_redis_client(spec.name, db=db, single_connection=for_store)
    import redis

    settings = ConnectionSettings.of(spec)
    return redis.Redis(**settings.connection_options(spec), retry=settings.retry(),
                       max_connections=settings.pool_size, single_connection_client=False)


def store_client(spec: ComponentSpec) -> Any:
    """The client the store itself uses."""
    return _client(spec, for_store=True)


def async_store_client(spec: ComponentSpec, settings: ConnectionSettings | None = None) -> Any:
    """A ``redis.asyncio`` client on a real server, for a door's event loop: a pool of
    ``poolSize`` connections that waits up to ``pool_timeout`` for a free one (go-redis's
    pool, where redis-py's default pool would fail at once with "Too many connections")."""
    import redis.asyncio

    settings = settings or ConnectionSettings.of(spec)
    pool = redis.asyncio.BlockingConnectionPool(
        max_connections=settings.pool_size, timeout=settings.pool_timeout,
        retry=settings.retry(asynchronous=True), **settings.connection_options(spec))
    return redis.asyncio.Redis.from_pool(pool)  # closing the client closes its pool


def inspection_client(spec: ComponentSpec) -> Any:
    """A separate client on the same database, for a learner to look at what Dapr stored."""
    return _client(spec, for_store=False)
