"""Progress: which exercises are done (in a file) and how many hints each has shown (in memory).

Binder sessions are thrown away, so completions live in one small JSON file the learner can
download and restore: ``~/.statelab/progress.json``, or the file named by the environment
variable ``STATELAB_PROGRESS_FILE`` (tests and nbval point it at a temporary file). In a
browser tab (JupyterLite) the home folder lives in memory and is gone on reload, so the file is
``statelab-progress.json`` in JupyterLite's own file browser (``/drive``), which the browser
keeps in its storage: progress survives a reload, and the learner can see and download it.
The file is read and written on every call, never cached, so two notebooks of one session agree.

Hint counts are kept per running kernel, not in the file: a notebook's stored "Hint 1 of 3"
must come out the same on every run, whatever an earlier run left in the learner's home (a
restarted kernel starts the hints again, which is also what a learner expects).

A missing, unreadable or corrupt file reads as a fresh start, and a file that cannot be written
(a read-only home) is skipped: bookkeeping must never break a lesson.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from statelab.runtime import BROWSER_DRIVE, in_browser

__all__ = [
    "completed",
    "forget_hints",
    "mark_completed",
    "merge_completed",
    "next_hint",
    "progress_path",
]


_hints_shown: dict[str, int] = {}
_hints_lock = threading.Lock()


def progress_path() -> Path:
    configured = os.environ.get("STATELAB_PROGRESS_FILE")
    if configured:
        return Path(configured)
    if in_browser():
        return BROWSER_DRIVE / "statelab-progress.json"
    return Path.home() / ".statelab" / "progress.json"


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
    with _hints_lock:
        shown = _hints_shown.get(exercise_id, 0)
        _hints_shown[exercise_id] = min(shown + 1, total)
    return min(shown, total - 1)


def forget_hints(exercise_id: str) -> None:
    with _hints_lock:
        _hints_shown.pop(exercise_id, None)


def _load() -> dict[str, Any]:
    try:
        data = json.loads(progress_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"completed": []}
    if not isinstance(data, dict) or not isinstance(data.get("completed", []), list):
        return {"completed": []}
    # Files written before hints moved to memory also hold "hints": dropped on the next write.
    return {"completed": [str(item) for item in data.get("completed", [])]}


def _store(data: dict[str, Any]) -> None:
    path = progress_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home must not break a lesson
