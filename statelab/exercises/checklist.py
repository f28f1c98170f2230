"""The checklist of exercises and recaps, a download link, and restoring a downloaded file.

``statelab.progress()`` shows every exercise, grouped by notebook, ticked when its check
passed, and after a notebook's exercises its recap quiz, ticked when every question was
answered right. The HTML view embeds the progress file as a ``data:`` link, because Binder
sessions are thrown away: the learner downloads it and later hands its text to
:func:`restore_progress`. Where the file lives is :mod:`statelab.exercises.record`'s concern.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html import escape

from statelab.exercises import record
from statelab.exercises.framework import exercises
from statelab.exercises.quiz import recaps

__all__ = ["Progress", "progress", "restore_progress"]


@dataclass
class Progress:
    """A checklist of every exercise, with a download link for the progress file."""

    completed: list[str]

    def rows(self) -> list[tuple[str, str, bool]]:
        return [(e.id, e.title, e.id in self.completed) for e in exercises()]

    def recap_rows(self) -> list[tuple[str, str, bool]]:
        return [(r.id, r.title, r.id in self.completed) for r in recaps()]

    def _counts(self) -> tuple[str, str]:
        """``1 of 16`` exercises, ``0 of 8`` recaps."""
        exercise_rows, recap_rows = self.rows(), self.recap_rows()
        return (f"{sum(1 for *_, ok in exercise_rows if ok)} of {len(exercise_rows)}",
                f"{sum(1 for *_, ok in recap_rows if ok)} of {len(recap_rows)}")

    def __repr__(self) -> str:
        exercises_done, recaps_done = self._counts()
        lines = [f"statelab progress: {exercises_done} exercises and {recaps_done} recaps done"]
        notebook = ""
        for item_notebook, item_id, title in _items():
            if item_notebook != notebook:
                notebook = item_notebook
                lines.append(f"  {notebook}")
            mark = "[x]" if item_id in self.completed else "[ ]"
            lines.append(f"    {mark} {item_id}: {title}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        exercises_done, recaps_done = self._counts()
        payload = json.dumps({"completed": sorted(self.completed)}, sort_keys=True)
        href = "data:application/json;base64," + base64.b64encode(payload.encode()).decode()
        items = []
        notebook = ""
        for item_notebook, item_id, title in _items():
            if item_notebook != notebook:
                if notebook:
                    items.append("</ul>")
                notebook = item_notebook
                items.append(f"<b>{escape(notebook, quote=False)}</b>"
                             "<ul style='list-style:none'>")
            mark = "&#9745;" if item_id in self.completed else "&#9744;"
            items.append(f"<li>{mark} <code>{item_id}</code> "
                         f"{escape(title, quote=False)}</li>")
        items.append("</ul>")
        return (f"<div><p><b>{exercises_done}</b> exercises and <b>{recaps_done}</b> recaps "
                "done. "
                f'<a download="statelab-progress.json" href="{href}">Download your progress'
                "</a> (Binder sessions are thrown away).</p>" + "".join(items) + "</div>")


def _items() -> list[tuple[str, str, str]]:
    """Every line of the checklist, ``(notebook, id, title)``: by notebook, each notebook's
    exercises first, then its recap (``sorted`` is stable)."""
    items = [(e.notebook, e.id, e.title) for e in exercises()]
    items += [(r.notebook, r.id, r.title) for r in recaps()]
    return sorted(items, key=lambda item: item[0])


def _known() -> set[str]:
    return {e.id for e in exercises()} | {r.id for r in recaps()}


def progress() -> Progress:
    """The checklist of exercises and recaps, as saved in the progress file."""
    known = _known()
    return Progress(completed=[i for i in record.completed() if i in known])


def restore_progress(text: str) -> Progress:
    """Load a downloaded progress file's contents (JSON text) into the progress file."""
    known = _known()
    record.merge_completed(i for i in json.loads(text).get("completed", []) if i in known)
    return progress()
