"""statelab: Dapr's state API, hands-on, in a notebook.

``statelab.start()`` runs a sidecar that answers Dapr's HTTP state API
(``/v1.0/state/{store}``) with the same status codes, headers, error codes and store quirks as
daprd, backed by an embedded Redis (fakeredis) or a real Redis server. Code written against it
runs unchanged against a real Dapr sidecar.

Heavy modules (redis-py, fakeredis, uvicorn) load on first use, so ``import statelab`` is cheap.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ComponentError",
    "DaprError",
    "DaprResponseError",
    "EtagMismatchError",
    "History",
    "Latency",
    "LiveRace",
    "Race",
    "RetryPolicy",
    "Sidecar",
    "SidecarError",
    "StateAPI",
    "StateService",
    "StateTransport",
    "StatelabError",
    "__version__",
    "analyse",
    "exercise",
    "load_components",
    "progress",
    "recap",
    "start",
]

_LAZY = {
    "ComponentError": "statelab.errors",
    "DaprError": "statelab.errors",
    "DaprResponseError": "statelab.errors",
    "EtagMismatchError": "statelab.errors",
    "History": "statelab.analysis.history",
    "Latency": "statelab.latency",
    "LiveRace": "statelab.sim.live",
    "Race": "statelab.sim.race",
    "RetryPolicy": "statelab.sim.race",
    "Sidecar": "statelab.server.sidecar",
    "SidecarError": "statelab.errors",
    "StateAPI": "statelab.dapr.http",
    "StateService": "statelab.dapr.service",
    "StateTransport": "statelab.server.transport",
    "StatelabError": "statelab.errors",
    "analyse": "statelab.analysis.races",
    "exercise": "statelab.exercises",
    "progress": "statelab.exercises",
    "recap": "statelab.exercises",
    "load_components": "statelab.dapr.components",
    "start": "statelab.server.sidecar",
}

if TYPE_CHECKING:  # pragma: no cover
    from statelab.analysis.history import History
    from statelab.analysis.races import analyse
    from statelab.dapr.components import load_components
    from statelab.dapr.http import StateAPI
    from statelab.dapr.service import StateService
    from statelab.errors import (
        ComponentError,
        DaprError,
        DaprResponseError,
        EtagMismatchError,
        SidecarError,
        StatelabError,
    )
    from statelab.exercises import exercise, progress, recap
    from statelab.latency import Latency
    from statelab.server.sidecar import Sidecar, start
    from statelab.server.transport import StateTransport
    from statelab.sim.live import LiveRace
    from statelab.sim.race import Race, RetryPolicy

#: Modules of the flat layout (before 0.2) and where they live now. ``import statelab.checks``
#: still works: the finder below hands out the new module under the old name, so notebooks and
#: scripts written for the flat layout run unchanged.
MOVED_MODULES = {
    "statelab.api": "statelab.dapr.http",
    "statelab.checks": "statelab.analysis.races",
    "statelab.components": "statelab.dapr.components",
    "statelab.history": "statelab.analysis.history",
    "statelab.live": "statelab.sim.live",
    "statelab.replica_board": "statelab.widgets",
    "statelab.replication": "statelab.sim",
    "statelab.sidecar": "statelab.server.sidecar",
    "statelab.stores.memory_store": "statelab.stores.memory",
    "statelab.stores.redis_store": "statelab.stores.redis.store",
    "statelab.stores.replicated_store": "statelab.stores.replicated",
    "statelab.timeline": "statelab.render.timeline",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the module object at its new path (the same object)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return import_module(MOVED_MODULES[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module was executed under its new name already."""


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'statelab' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _register_cell_magic() -> None:
    """In an IPython kernel, ``import statelab`` makes ``%%local_only`` known: the browser
    edition's SDK cells start with it (:mod:`statelab.local_only`). Never imports IPython."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    if shell is not None:
        from statelab.local_only import register

        register(shell)


_register_cell_magic()
