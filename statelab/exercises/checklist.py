"""The checklist of exercises, with a download link, and restoring a downloaded file.

``statelab.progress()`` shows every exercise, grouped by notebook, ticked when its check
passed. The HTML view embeds the progress file as a ``data:`` link, because Binder sessions
are thrown away: the learner downloads it and later hands its text to
:func:`restore_progress`. Where the file lives is :mod:`statelab.exercises.record`'s concern.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html import escape

from statelab.exercises import record
from statelab.exercises.framework import exercises

__all__ = ["Progress", "progress", "restore_progress"]


@dataclass
class Progress:
    """A checklist of every exercise, with a download link for the progress file."""

    completed: list[str]

    def rows(self) -> list[tuple[str, str, bool]]:
        return [(e.id, e.title, e.id in self.completed) for e in exercises()]

    def __repr__(self) -> str:
        rows = exercises()
        done = sum(1 for *_, ok in self.rows() if ok)
        lines = [f"statelab progress: {done} of {len(rows)} exercises done"]
        notebook = ""
        for exercise in rows:
            if exercise.notebook != notebook:
                notebook = exercise.notebook
                lines.append(f"  {notebook}")
            mark = "[x]" if exercise.id in self.completed else "[ ]"
            lines.append(f"    {mark} {exercise.id}: {exercise.title}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = exercises()
        done = sum(1 for *_, ok in self.rows() if ok)
        payload = json.dumps({"completed": sorted(self.completed)}, sort_keys=True)
        href = "data:application/json;base64," + base64.b64encode(payload.encode()).decode()
        items = []
        notebook = ""
        for exercise in rows:
            if exercise.notebook != notebook:
                if notebook:
                    items.append("</ul>")
                notebook = exercise.notebook
                items.append(f"<b>{escape(notebook, quote=False)}</b>"
                             "<ul style='list-style:none'>")
            mark = "&#9745;" if exercise.id in self.completed else "&#9744;"
            items.append(f"<li>{mark} <code>{exercise.id}</code> "
                         f"{escape(exercise.title, quote=False)}</li>")
        items.append("</ul>")
        return (f"<div><p><b>{done} of {len(rows)}</b> exercises done. "
                f'<a download="statelab-progress.json" href="{href}">Download your progress'
                "</a> (Binder sessions are thrown away).</p>" + "".join(items) + "</div>")


def progress() -> Progress:
    """The checklist of exercises, as saved in the progress file."""
    known = {e.id for e in exercises()}
    return Progress(completed=[i for i in record.completed() if i in known])


def restore_progress(text: str) -> Progress:
    """Load a downloaded progress file's contents (JSON text) into the progress file."""
    known = {e.id for e in exercises()}
    record.merge_completed(i for i in json.loads(text).get("completed", []) if i in known)
    return progress()
