"""Races and replica scenarios on virtual time, and the same writers live over HTTP.

Everything here drives :mod:`statelab.dapr` (never a socket, except :class:`LiveRace`), so a
simulated conflict is the same Dapr answer a learner gets from the sidecar.
"""

from statelab.analysis.consistency import consistency_report
from statelab.sim.live import LiveRace
from statelab.sim.race import (
    MODE_HELP,
    MODES,
    Latency,
    Race,
    RetryPolicy,
    interleavings,
    run_schedule,
)
from statelab.sim.replication import Fault, ReplicaScenario

__all__ = [
    "MODES",
    "MODE_HELP",
    "Fault",
    "Latency",
    "LiveRace",
    "Race",
    "ReplicaScenario",
    "RetryPolicy",
    "consistency_report",
    "interleavings",
    "run_schedule",
]
