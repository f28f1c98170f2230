"""Auto-checked exercises: the learner's function runs against Dapr with competing writers."""

from statelab.exercises.framework import (
    CheckResult,
    Exercise,
    Progress,
    exercise,
    exercises,
    progress,
    restore_progress,
)

__all__ = ["CheckResult", "Exercise", "Progress", "exercise", "exercises", "progress", "restore_progress"]
