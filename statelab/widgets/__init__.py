"""Widgets that make races and replicas visible: boards driven by a finished history.

Each widget also has a deterministic ``text/plain`` and ``text/html`` representation, so a
stored notebook shows something meaningful on GitHub and nbval can compare it.
"""

from statelab.widgets.race_board import (
    DEFAULT_RACE,
    ComparisonView,
    RaceBoard,
    SweepChart,
    SweepPoint,
)
from statelab.widgets.replica_board import ReplicaBoard

__all__ = ["DEFAULT_RACE", "ComparisonView", "RaceBoard", "ReplicaBoard", "SweepChart", "SweepPoint"]
