"""Dapr component YAML: loading a components folder into ready-to-use state stores.

statelab reads the same files daprd reads (``apiVersion: dapr.io/v1alpha1``, ``kind:
Component``), so a learner's components folder works unchanged on a real sidecar. Supported
state types: ``state.redis`` (embedded fakeredis when ``redisHost`` is absent or ``embedded``,
otherwise a real server), ``state.in-memory``, and statelab's teaching store ``state.replicated``
(a primary and lagging replicas; see :mod:`statelab.stores.replicated`). Components of other building blocks (pub/sub,
bindings, ...) are skipped; an unsupported *state* type, or an invalid field, fails at start
with a :class:`~statelab.errors.ComponentError` naming the file and the field.

Embedded Redis servers live for the whole Python process and are keyed by component name, so
stopping and restarting a sidecar keeps its data, as a Redis container would.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statelab.errors import ComponentError
from statelab.go.stdlib import GoParseError, atoi
from statelab.stores.base import Store

__all__ = [
    "Component",
    "default_components",
    "embedded_redis_client",
    "load_components",
    "parse_component",
]

SUPPORTED_STATE_TYPES = ("state.redis", "state.in-memory", "state.replicated")
REPLICATED_DEFAULTS = {"replicas": "2", "lagDistribution": "uniform", "lagMinMs": "5",
                       "lagMaxMs": "50", "lagMeanMs": "20", "ackTimeoutMs": "1000", "seed": "0"}
EMBEDDED = "embedded"

_embedded_servers: dict[tuple[str, str], Any] = {}
_embedded_lock = threading.Lock()


@dataclass
class Component:
    """One state store as the sidecar sees it: its name, type, metadata and live store."""

    name: str
    type: str
    version: str
    metadata: dict[str, str]
    source: str
    scopes: tuple[str, ...] = ()
    store: Store | None = field(default=None, repr=False)

    def meta(self, name: str, default: str = "") -> str:
        """Metadata names are matched case-insensitively, as current Dapr does."""
        for key, value in self.metadata.items():
            if key.lower() == name.lower():
                return value
        return default

    @property
    def key_prefix(self) -> str:
        """The ``keyPrefix`` strategy: appid (default), name, namespace, none or a custom one."""
        return self.meta("keyPrefix", "appid") or "appid"

    @property
    def embedded(self) -> bool:
        return self.type == "state.redis" and self.meta("redisHost", EMBEDDED) in ("", EMBEDDED)

    def open(self) -> Store:
        """Create (or return) the live store behind this component."""
        if self.store is None:
            self.store = _build_store(self)
        return self.store

    def redis_client(self) -> Any:
        """A redis-py client on the same Redis database the store uses (for inspection)."""
        if self.type != "state.redis":
            raise ComponentError(self.source, "spec.type", f"{self.name} is {self.type}, "
                                 "not a Redis store")
        return _redis_client(self)


def _fail(source: str, field_name: str, problem: str) -> ComponentError:
    return ComponentError(source, field_name, problem)


def parse_component(document: Any, source: str) -> Component | None:
    """Validate one YAML document; return None for non-state components (they are skipped)."""
    if not isinstance(document, dict):
        raise _fail(source, "(document)", "expected a mapping with apiVersion, kind, metadata "
                    "and spec")
    if document.get("kind") != "Component":
        return None  # Configuration, Subscription, Resiliency...: not ours to load
    if document.get("apiVersion") != "dapr.io/v1alpha1":
        raise _fail(source, "apiVersion", f"expected 'dapr.io/v1alpha1', got "
                    f"{document.get('apiVersion')!r}")
    meta = document.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise _fail(source, "metadata.name", "a component needs a non-empty name")
    spec = document.get("spec")
    if not isinstance(spec, dict):
        raise _fail(source, "spec", "missing or not a mapping")
    ctype = spec.get("type")
    if not isinstance(ctype, str) or not ctype:
        raise _fail(source, "spec.type", "missing")
    if not ctype.startswith("state."):
        return None
    if ctype not in SUPPORTED_STATE_TYPES:
        raise _fail(source, "spec.type", f"{ctype!r} is not supported by statelab; use one of "
                    f"{', '.join(SUPPORTED_STATE_TYPES)}")
    version = spec.get("version")
    if version != "v1":
        raise _fail(source, "spec.version", f"expected 'v1', got {version!r}")
    items = spec.get("metadata") or []
    if not isinstance(items, list):
        raise _fail(source, "spec.metadata", "expected a list of {name, value} entries")
    metadata: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"spec.metadata[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _fail(source, where, "expected {name: ..., value: ...}")
        if "secretKeyRef" in item:
            raise _fail(source, f"{where}.secretKeyRef", "secret stores are not emulated; put "
                        "the value inline for statelab")
        value = item.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            raise _fail(source, f"{where}.value", "expected a string")
        metadata[item["name"]] = str(value)
    scopes = document.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _fail(source, "scopes", "expected a list of app ids")
    component = Component(name=meta["name"], type=ctype, version=version, metadata=metadata,
                          source=source, scopes=tuple(scopes))
    _validate_metadata(component)
    return component


def _validate_metadata(component: Component) -> None:
    prefix = component.meta("keyPrefix", "appid")
    if "||" in prefix:
        raise _fail(component.source, "keyPrefix", "a custom key prefix can't contain '||'")
    for name in ("ttlInSeconds", "redisDB"):
        raw = component.meta(name)
        if raw:
            try:
                atoi(raw)
            except GoParseError as exc:
                raise _fail(component.source, name, str(exc)) from None
    if component.type == "state.replicated":
        _replicated_settings(component)
    if component.type == "state.redis" and not component.embedded:
        host = component.meta("redisHost")
        if host.count(":") > 1 or (":" in host and not host.rsplit(":", 1)[1].isdigit()):
            raise _fail(component.source, "redisHost", f"expected host:port, got {host!r}")


def load_components(folder: str | os.PathLike[str], app_id: str = "myapp") -> list[Component]:
    """Read every ``*.yaml``/``*.yml`` file of *folder*; keep state stores in scope for app_id."""
    import yaml  # lazy: only needed when a folder is given

    root = Path(folder)
    if not root.is_dir():
        raise ComponentError(str(folder), "(folder)", "not a directory")
    components: list[Component] = []
    seen: dict[str, str] = {}
    for path in sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml"))):
        source = path.name
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise ComponentError(source, "(yaml)", str(exc).replace("\n", " ")) from None
        for document in documents:
            if document is None:
                continue
            component = parse_component(document, source)
            if component is None:
                continue
            if component.scopes and app_id not in component.scopes:
                continue  # Dapr loads a scoped component only for the listed apps
            if component.name in seen:
                raise ComponentError(source, "metadata.name", f"{component.name!r} is already "
                                     f"defined in {seen[component.name]}")
            seen[component.name] = source
            components.append(component)
    return components


def default_components() -> list[Component]:
    """What ``dapr init`` gives: one Redis store called ``statestore`` (here, embedded)."""
    return [Component(name="statestore", type="state.redis", version="v1",
                      metadata={"actorStateStore": "true"}, source="(default)")]


def _redis_client(component: Component, *, for_store: bool = False) -> Any:
    db = atoi(component.meta("redisDB") or "0")
    if component.embedded:
        # The store's own client holds one connection instead of a pool: every fakeredis
        # command is serialised by the server's lock anyway, and redis-py's pool checkout and
        # release cost about a third of a command (bench/bench_sidecar.py).
        return embedded_redis_client(component.name, db=db, single_connection=for_store)
    import redis

    host = component.meta("redisHost")
    hostname, _, port = host.partition(":")
    return redis.Redis(host=hostname, port=int(port or component.meta("redisPort") or 6379),
                       db=db, password=component.meta("redisPassword") or None,
                       username=component.meta("redisUsername") or None,
                       socket_connect_timeout=5, max_connections=64,
                       single_connection_client=False)


def embedded_redis_client(name: str = "statestore", *, db: int = 0,
                          single_connection: bool = False) -> Any:
    """A client on the process-wide embedded Redis server of component *name*."""
    import fakeredis

    with _embedded_lock:
        server = _embedded_servers.get((name, "server"))
        if server is None:
            server = fakeredis.FakeServer()
            _embedded_servers[(name, "server")] = server
    return fakeredis.FakeRedis(server=server, db=db, single_connection_client=single_connection)


def _replicated_settings(component: Component) -> dict[str, Any]:
    """Validated settings of a ``state.replicated`` component (statelab's teaching store)."""
    def number(name: str, minimum: float = 0.0) -> float:
        raw = component.meta(name, REPLICATED_DEFAULTS.get(name, ""))
        try:
            value = float(raw)
        except ValueError:
            raise _fail(component.source, name, f"expected a number, got {raw!r}") from None
        if value < minimum:
            raise _fail(component.source, name, f"must be at least {minimum:g}")
        return value

    replicas = int(number("replicas"))
    kind = component.meta("lagDistribution", "uniform")
    if kind not in ("fixed", "uniform", "exponential"):
        raise _fail(component.source, "lagDistribution",
                    f"expected fixed, uniform or exponential, got {kind!r}")
    low, high = number("lagMinMs"), number("lagMaxMs")
    if kind == "uniform" and high < low:
        raise _fail(component.source, "lagMaxMs", "must not be below lagMinMs")
    quorum_raw = component.meta("writeQuorum")
    quorum = None if quorum_raw in ("", "all") else int(number("writeQuorum"))
    if quorum is not None and quorum > replicas:
        raise _fail(component.source, "writeQuorum", f"at most {replicas} (the replica count)")
    return {"replicas": replicas, "kind": kind, "low": low, "high": high,
            "mean": number("lagMeanMs"), "quorum": quorum,
            "ack_timeout_ms": number("ackTimeoutMs"), "seed": int(number("seed"))}


def _build_store(component: Component) -> Store:
    if component.type == "state.replicated":
        from statelab.stores.replicated import LagModel, ReplicatedStore

        settings = _replicated_settings(component)
        return ReplicatedStore(
            replicas=settings["replicas"],
            lag=LagModel(settings["kind"], settings["low"], settings["high"], settings["mean"]),
            write_quorum=settings["quorum"], ack_timeout_ms=settings["ack_timeout_ms"],
            seed=settings["seed"])
    if component.type == "state.in-memory":
        from statelab.stores.memory import MemoryStore

        return MemoryStore()
    from statelab.stores.redis.store import RedisStore

    ttl = component.meta("ttlInSeconds")
    client = _redis_client(component, for_store=True)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any connection failure is a configuration error
        raise ComponentError(component.source, "redisHost",
                             f"cannot reach Redis at {component.meta('redisHost')}: {exc}") from None
    return RedisStore(client, default_ttl=atoi(ttl) if ttl else None)


def capabilities(component: Component) -> list[str]:
    """The metadata API's list: the store's features, plus ACTOR for ETAG+TRANSACTIONAL."""
    features = list(component.open().features)
    if "ETAG" in features and "TRANSACTIONAL" in features:
        features.append("ACTOR")
    return features


def describe(components: Iterable[Component]) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type, "version": c.version,
             "capabilities": capabilities(c)} for c in components]
