"""Histories of operations and the checks that read them (lost updates, stale reads)."""

from statelab.analysis.history import History, Operation, writer_name
from statelab.analysis.races import Anomaly, RaceReport, analyse, lost_updates

__all__ = ["Anomaly", "History", "Operation", "RaceReport", "analyse", "lost_updates", "writer_name"]
