"""Dapr component YAML: loading a components folder into ready-to-use state stores.

statelab reads the same files daprd reads (``apiVersion: dapr.io/v1alpha1``, ``kind:
Component``), so a learner's components folder works unchanged on a real sidecar. The state
types are those of :mod:`statelab.stores.registry`: ``state.redis`` (embedded fakeredis when
``redisHost`` is absent or ``embedded``, otherwise a real server), ``state.in-memory``, and
statelab's teaching store ``state.replicated``. Components of other building blocks (pub/sub,
bindings, ...) are skipped; an unsupported *state* type, or an invalid field, fails at start
with a :class:`~statelab.errors.ComponentError` naming the file and the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statelab.errors import ComponentError
from statelab.stores import registry
from statelab.stores.base import AsyncStore, Store
from statelab.stores.registry import StoreType

__all__ = [
    "Component",
    "default_components",
    "load_components",
    "parse_component",
]


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
    def store_type(self) -> StoreType:
        """The registered type (``spec.type`` was checked against the registry at load)."""
        found = registry.lookup(self.type)
        if found is None:
            raise ComponentError(self.source, "spec.type", _unsupported(self.type))
        return found

    @property
    def blocking(self) -> bool:
        """Do this store's calls wait on a network server or a sleep?"""
        return self.store_type.blocking(self)

    def open(self) -> Store:
        """Create (or return) the live store behind this component."""
        if self.store is None:
            self.store = self.store_type.build(self)
        return self.store

    def asynchronous(self) -> AsyncStore | None:
        """A new native asyncio store on this component, for one door's event loop (the door
        owns and closes it), or None: that door then calls :meth:`open`'s store inline."""
        build = self.store_type.asynchronous
        return None if build is None else build(self, self.open())

    def redis_client(self) -> Any:
        """A redis-py client on the same Redis database the store uses (for inspection)."""
        inspect = self.store_type.client
        if inspect is None:
            raise ComponentError(self.source, "spec.type", f"{self.name} is {self.type}, "
                                 "not a Redis store")
        return inspect(self)

    @classmethod
    def around(cls, store: Store, name: str = "statestore",
               metadata: dict[str, str] | None = None) -> Component:
        """A component serving an existing store (simulator, exercises, tests): its type is
        the one the store's class is registered under."""
        return cls(name=name, type=registry.type_of(store).name, version="v1",
                   metadata=dict(metadata or {}), source="(in-process)", store=store)


def _unsupported(ctype: str) -> str:
    return (f"{ctype!r} is not supported by statelab; use one of "
            f"{', '.join(registry.registered_types())}")


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
    if registry.lookup(ctype) is None:
        raise _fail(source, "spec.type", _unsupported(ctype))
    version = spec.get("version")
    if version != "v1":
        raise _fail(source, "spec.version", f"expected 'v1', got {version!r}")
    metadata = _metadata_items(spec.get("metadata") or [], source)
    scopes = document.get("scopes") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _fail(source, "scopes", "expected a list of app ids")
    component = Component(name=meta["name"], type=ctype, version=version, metadata=metadata,
                          source=source, scopes=tuple(scopes))
    _validate_metadata(component)
    return component


def _metadata_items(items: Any, source: str) -> dict[str, str]:
    """``spec.metadata``: a list of ``{name, value}``; values become strings as in Dapr."""
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
    return metadata


def _validate_metadata(component: Component) -> None:
    prefix = component.meta("keyPrefix", "appid")
    if "||" in prefix:
        raise _fail(component.source, "keyPrefix", "a custom key prefix can't contain '||'")
    registry.validate(component, component.store_type)


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


def capabilities(component: Component) -> list[str]:
    """The metadata API's list: the store's features, plus ACTOR for ETAG+TRANSACTIONAL."""
    features = list(component.open().features)
    if "ETAG" in features and "TRANSACTIONAL" in features:
        features.append("ACTOR")
    return features


def describe(components: Iterable[Component]) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type, "version": c.version,
             "capabilities": capabilities(c)} for c in components]
