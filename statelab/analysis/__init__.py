"""Histories of operations, the one replay of them, and the checks that read them."""

from statelab.analysis.consistency import ConsistencyReport, Violation, consistency_report
from statelab.analysis.history import History, Operation, writer_name
from statelab.analysis.races import Anomaly, RaceReport, analyse, lost_updates
from statelab.analysis.versions import Replay, replay

__all__ = [
    "Anomaly",
    "ConsistencyReport",
    "History",
    "Operation",
    "RaceReport",
    "Replay",
    "Violation",
    "analyse",
    "consistency_report",
    "lost_updates",
    "replay",
    "writer_name",
]
