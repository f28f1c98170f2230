"""Auto-checked exercises: the learner's function runs against Dapr with competing writers.

``statelab.exercise(id)`` is an :class:`Exercise` (task, hints, check, solution, reset);
``statelab.recap(notebook)`` is a notebook's recap quiz (:mod:`~statelab.exercises.quiz`,
its questions in :mod:`~statelab.exercises.recaps`); ``statelab.progress()`` is the checklist.
The layers import one way only:
:mod:`~statelab.exercises.bank` (the exercises, one module per notebook) uses
:mod:`~statelab.exercises.lab` (stores, the learner's client, competing writers) and
:mod:`~statelab.exercises.framework` (exercises, checks, the registry), which keeps its
bookkeeping in :mod:`~statelab.exercises.record` (the progress file);
:mod:`~statelab.exercises.checklist` shows the checklist.
"""

from statelab.exercises import bank  # noqa: F401 - registers every exercise on import
from statelab.exercises.checklist import Progress, progress, restore_progress
from statelab.exercises.framework import CheckResult, Exercise, exercise, exercises
from statelab.exercises.quiz import Recap, RecapResult, recap, recaps

__all__ = [
    "CheckResult",
    "Exercise",
    "Progress",
    "Recap",
    "RecapResult",
    "exercise",
    "exercises",
    "progress",
    "recap",
    "recaps",
    "restore_progress",
]
