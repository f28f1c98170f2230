"""Widgets that make races and replicas visible: boards driven by a finished history.

Each widget also has a deterministic ``text/plain`` and ``text/html`` representation, so a
stored notebook shows something meaningful on GitHub and nbval can compare it.
"""

from statelab.widgets.comparison import ComparisonView
from statelab.widgets.race_board import RaceBoard
from statelab.widgets.race_controls import DEFAULT_RACE
from statelab.widgets.replica_board import ReplicaBoard
from statelab.widgets.sweep import SweepChart, SweepPoint

__all__ = ["ComparisonView", "DEFAULT_RACE", "RaceBoard", "ReplicaBoard", "SweepChart",
           "SweepPoint"]
