"""The store registry: the only place where a component ``spec.type`` string is written.

A store type is registered once, with everything the rest of statelab needs to know about it:
how to check a component's metadata, how to build the live store, whether its calls block (the
ASGI door then runs them off the event loop), what a query answers, and how to inspect its
backing database. Adding a store touches this folder and nothing else.

Factories receive a :class:`ComponentSpec`: the component as parsed from YAML (name, file,
metadata), never the sidecar's richer object, so stores do not depend on the Dapr layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from statelab.errors import ComponentError
from statelab.go.stdlib import GoParseError, atoi
from statelab.latency import KINDS, Latency
from statelab.stores.base import AsyncStore, Store

__all__ = [
    "ComponentSpec",
    "REPLICATED_DEFAULTS",
    "ReplicatedSettings",
    "StoreType",
    "lookup",
    "register",
    "registered_types",
    "replicated_settings",
    "type_of",
    "validate",
]


class ComponentSpec(Protocol):
    """What a factory may read of a component: its name, its file and its metadata."""

    @property
    def name(self) -> str: ...

    @property
    def source(self) -> str: ...

    def meta(self, name: str, default: str = "") -> str:
        """A metadata value, matched case-insensitively as current Dapr does."""
        ...


@dataclass(frozen=True)
class StoreType:
    """One registered ``spec.type``."""

    name: str
    build: Callable[[ComponentSpec], Store]
    #: Raises :class:`~statelab.errors.ComponentError` for invalid metadata (at load time).
    validate: Callable[[ComponentSpec], None]
    #: Do calls wait on a network server or on a sleep? The ASGI door then offloads them.
    blocking: Callable[[ComponentSpec], bool]
    #: The store classes that implement this type (a model or a fast variant included),
    #: imported on first use so that ``import statelab`` stays cheap.
    classes: Callable[[], tuple[type, ...]]
    #: What a query answers: None means the component does not implement Dapr's querier (E19);
    #: a text is the store error every query meets (E20).
    query_failure: str | None = None
    #: A client on the backing database, for inspection (``Sidecar.redis()``); None if none.
    client: Callable[[ComponentSpec], Any] | None = None
    #: A native asyncio store for a door's event loop, given the component's synchronous
    #: store (which it may share state with); None when the component has none (calls to a
    #: CPU-bound embedded store run inline on the loop, where a thread hop costs more).
    asynchronous: Callable[[ComponentSpec, Store], AsyncStore | None] | None = None


_TYPES: dict[str, StoreType] = {}


def register(store_type: StoreType) -> StoreType:
    """Declare a store type; registering the same name twice is a programming error."""
    if store_type.name in _TYPES:
        raise ValueError(f"store type {store_type.name!r} is already registered")
    _TYPES[store_type.name] = store_type
    return store_type


def lookup(type_name: str) -> StoreType | None:
    return _TYPES.get(type_name)


def validate(spec: ComponentSpec, store_type: StoreType) -> None:
    """Check a component's metadata for its type; raises :class:`ComponentError`.

    ``ttlInSeconds`` and ``redisDB`` are read with Go's ``strconv.Atoi`` whatever the type
    (daprd parses them before the store sees them), then the type checks its own fields.
    """
    _check_integers(spec, "ttlInSeconds", "redisDB")
    store_type.validate(spec)


def registered_types() -> tuple[str, ...]:
    """Every supported ``spec.type``, in registration order (for error messages)."""
    return tuple(_TYPES)


def type_of(store: Store) -> StoreType:
    """The registered type a live store implements (for a component built around a store)."""
    for store_type in _TYPES.values():
        if isinstance(store, store_type.classes()):
            return store_type
    raise ValueError(f"{type(store).__name__} is not a registered store class")


def _fail(spec: ComponentSpec, field: str, problem: str) -> ComponentError:
    return ComponentError(spec.source, field, problem)


def _check_integers(spec: ComponentSpec, *names: str) -> None:
    """Fields daprd parses with Go's ``strconv.Atoi``: the same wording on failure."""
    for name in names:
        raw = spec.meta(name)
        if raw:
            try:
                atoi(raw)
            except GoParseError as exc:
                raise _fail(spec, name, str(exc)) from None


def _never_blocks(spec: ComponentSpec) -> bool:
    return False


# -- state.redis ---------------------------------------------------------------------------------

def _redis_validate(spec: ComponentSpec) -> None:
    from statelab.stores.redis.clients import ConnectionSettings, is_embedded

    try:
        ConnectionSettings.of(spec)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise _fail(spec, field, problem) from None
    if not is_embedded(spec):
        host = spec.meta("redisHost")
        if host.count(":") > 1 or (":" in host and not host.rsplit(":", 1)[1].isdigit()):
            raise _fail(spec, "redisHost", f"expected host:port, got {host!r}")


def _redis_build(spec: ComponentSpec) -> Store:
    from statelab.stores.redis.clients import store_client
    from statelab.stores.redis.store import RedisStore

    ttl = spec.meta("ttlInSeconds")
    client = store_client(spec)
    try:
        client.ping()
    except Exception as exc:  # any failure to connect is a configuration error, said as one
        raise _fail(spec, "redisHost",
                    f"cannot reach Redis at {spec.meta('redisHost')}: {exc}") from None
    return RedisStore(client, default_ttl=atoi(ttl) if ttl else None)


def _redis_blocking(spec: ComponentSpec) -> bool:
    from statelab.stores.redis.clients import is_embedded

    return not is_embedded(spec)


def _redis_asynchronous(spec: ComponentSpec, store: Store) -> AsyncStore | None:
    """A real server is awaited through ``redis.asyncio``; the embedded one is called inline."""
    from statelab.stores.redis.async_store import AsyncRedisStore
    from statelab.stores.redis.clients import ConnectionSettings, async_store_client, is_embedded
    from statelab.stores.redis.store import RedisStore

    if is_embedded(spec) or not isinstance(store, RedisStore):
        return None
    settings = ConnectionSettings.of(spec)
    return AsyncRedisStore(async_store_client(spec, settings), default_ttl=store.default_ttl,
                           replicas=store.replicas, queue_timeout=settings.pool_timeout)


def _redis_client(spec: ComponentSpec) -> Any:
    from statelab.stores.redis.clients import inspection_client

    return inspection_client(spec)


def _redis_classes() -> tuple[type, ...]:
    from statelab.stores.redis.model import RedisModelStore
    from statelab.stores.redis.store import RedisStore

    return (RedisStore, RedisModelStore)


# -- state.in-memory -----------------------------------------------------------------------------

def _memory_build(spec: ComponentSpec) -> Store:
    from statelab.stores.memory import MemoryStore

    return MemoryStore()


def _memory_classes() -> tuple[type, ...]:
    from statelab.stores.memory import MemoryStore

    return (MemoryStore,)


# -- state.replicated (statelab's teaching store) ------------------------------------------------

REPLICATED_DEFAULTS = {"replicas": "2", "lagDistribution": "uniform", "lagMinMs": "5",
                       "lagMaxMs": "50", "lagMeanMs": "20", "ackTimeoutMs": "1000", "seed": "0"}


@dataclass(frozen=True)
class ReplicatedSettings:
    """Validated settings of a ``state.replicated`` component."""

    replicas: int
    lag: Latency
    write_quorum: int | None
    ack_timeout_ms: float
    seed: int


def replicated_settings(spec: ComponentSpec) -> ReplicatedSettings:
    """Read and check a ``state.replicated`` component's metadata (defaults as documented)."""
    def number(name: str, minimum: float = 0.0) -> float:
        raw = spec.meta(name, REPLICATED_DEFAULTS.get(name, ""))
        try:
            value = float(raw)
        except ValueError:
            raise _fail(spec, name, f"expected a number, got {raw!r}") from None
        if value < minimum:
            raise _fail(spec, name, f"must be at least {minimum:g}")
        return value

    replicas = int(number("replicas"))
    raw_kind = spec.meta("lagDistribution", "uniform")
    kind = KINDS.get(raw_kind)
    if kind is None:
        raise _fail(spec, "lagDistribution",
                    f"expected fixed, uniform or exponential, got {raw_kind!r}")
    low, high = number("lagMinMs"), number("lagMaxMs")
    if kind == "uniform" and high < low:
        raise _fail(spec, "lagMaxMs", "must not be below lagMinMs")
    quorum_raw = spec.meta("writeQuorum")
    quorum = None if quorum_raw in ("", "all") else int(number("writeQuorum"))
    if quorum is not None and quorum > replicas:
        raise _fail(spec, "writeQuorum", f"at most {replicas} (the replica count)")
    lag = Latency(kind, low, high, number("lagMeanMs"))
    return ReplicatedSettings(replicas=replicas, lag=lag, write_quorum=quorum,
                              ack_timeout_ms=number("ackTimeoutMs"), seed=int(number("seed")))


def _replicated_validate(spec: ComponentSpec) -> None:
    replicated_settings(spec)


def _replicated_build(spec: ComponentSpec) -> Store:
    from statelab.stores.replicated import ReplicatedStore

    settings = replicated_settings(spec)
    return ReplicatedStore(replicas=settings.replicas, lag=settings.lag,
                           write_quorum=settings.write_quorum,
                           ack_timeout_ms=settings.ack_timeout_ms, seed=settings.seed)


def _replicated_asynchronous(spec: ComponentSpec, store: Store) -> AsyncStore | None:
    """The same replicas, with strong writes waiting on ``asyncio.sleep``."""
    from statelab.stores.replicated import AsyncReplicatedStore, ReplicatedStore

    return AsyncReplicatedStore(store) if isinstance(store, ReplicatedStore) else None


def _replicated_classes() -> tuple[type, ...]:
    from statelab.stores.replicated import ReplicatedStore

    return (ReplicatedStore,)


def _strong_writes_wait(spec: ComponentSpec) -> bool:
    """Strong writes wait for the replicas' acknowledgements: never on the event loop."""
    return True


_REDIS_QUERY = "redis-json server support is required for query capability"


def _register_builtin() -> None:
    # Neither fakeredis nor Debian's Redis carry RedisJSON and RediSearch, so every query on a
    # Redis store fails as Dapr's does on such a server (E20); the replicated store is Redis.
    register(StoreType("state.redis", _redis_build, _redis_validate, _redis_blocking,
                       _redis_classes, query_failure=_REDIS_QUERY, client=_redis_client,
                       asynchronous=_redis_asynchronous))
    register(StoreType("state.in-memory", _memory_build, lambda spec: None, _never_blocks,
                       _memory_classes))
    register(StoreType("state.replicated", _replicated_build, _replicated_validate,
                       _strong_writes_wait, _replicated_classes, query_failure=_REDIS_QUERY,
                       asynchronous=_replicated_asynchronous))


_register_builtin()
