"""The progress file: which exercises are done and how many hints each has shown.

Binder sessions are thrown away, so progress lives in one small JSON file the learner can
download and restore: ``~/.statelab/progress.json``, or the file named by the environment
variable ``STATELAB_PROGRESS_FILE`` (tests and nbval point it at a temporary file). The file is
read and written on every call, never cached, so two notebooks of one session agree.

A missing, unreadable or corrupt file reads as a fresh start, and a file that cannot be written
(a read-only home) is skipped: bookkeeping must never break a lesson.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "completed",
    "forget_hints",
    "mark_completed",
    "merge_completed",
    "next_hint",
    "progress_path",
]


def progress_path() -> Path:
    configured = os.environ.get("STATELAB_PROGRESS_FILE")
    return Path(configured) if configured else Path.home() / ".statelab" / "progress.json"


def completed() -> list[str]:
    """The ids of completed exercises, in the order they were completed."""
    return list(_load()["completed"])


def mark_completed(exercise_id: str) -> None:
    data = _load()
    if exercise_id not in data["completed"]:
        data["completed"].append(exercise_id)
        _store(data)


def merge_completed(exercise_ids: Iterable[str]) -> None:
    """Add a downloaded file's completions to this one (nothing is ever un-completed)."""
    data = _load()
    data["completed"] = sorted(set(data["completed"]) | set(exercise_ids))
    _store(data)


def next_hint(exercise_id: str, total: int) -> int:
    """The 0-based index of the hint to show now; the count stops at the last hint."""
    data = _load()
    shown = int(data["hints"].get(exercise_id, 0))
    data["hints"][exercise_id] = min(shown + 1, total)
    _store(data)
    return min(shown, total - 1)


def forget_hints(exercise_id: str) -> None:
    data = _load()
    data["hints"].pop(exercise_id, None)
    _store(data)


def _load() -> dict[str, Any]:
    try:
        data = json.loads(progress_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"completed": [], "hints": {}}
    if not isinstance(data, dict):
        return {"completed": [], "hints": {}}
    data.setdefault("completed", [])
    data.setdefault("hints", {})
    return data


def _store(data: dict[str, Any]) -> None:
    path = progress_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home must not break a lesson
