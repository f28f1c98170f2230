"""statelab: Dapr's state API, hands-on, in a notebook.

``statelab.start()`` runs a sidecar that answers Dapr's HTTP state API
(``/v1.0/state/{store}``) with the same status codes, headers, error codes and store quirks as
daprd, backed by an embedded Redis (fakeredis) or a real Redis server. Code written against it
runs unchanged against a real Dapr sidecar.

Heavy modules (redis-py, fakeredis, uvicorn) load on first use, so ``import statelab`` is cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ComponentError",
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
    "StatelabError",
    "__version__",
    "analyse",
    "exercise",
    "load_components",
    "progress",
    "start",
]

_LAZY = {
    "ComponentError": "statelab.errors",
    "DaprResponseError": "statelab.errors",
    "EtagMismatchError": "statelab.errors",
    "History": "statelab.history",
    "Latency": "statelab.sim",
    "LiveRace": "statelab.live",
    "Race": "statelab.sim",
    "RetryPolicy": "statelab.sim",
    "Sidecar": "statelab.sidecar",
    "SidecarError": "statelab.errors",
    "StateAPI": "statelab.api",
    "StatelabError": "statelab.errors",
    "analyse": "statelab.checks",
    "exercise": "statelab.exercises",
    "progress": "statelab.exercises",
    "load_components": "statelab.components",
    "start": "statelab.sidecar",
}

if TYPE_CHECKING:  # pragma: no cover
    from .api import StateAPI
    from .checks import analyse
    from .components import load_components
    from .exercises import exercise, progress
    from .errors import (
        ComponentError,
        DaprResponseError,
        EtagMismatchError,
        SidecarError,
        StatelabError,
    )
    from .history import History
    from .live import LiveRace
    from .sidecar import Sidecar, start
    from .sim import Latency, Race, RetryPolicy


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'statelab' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
