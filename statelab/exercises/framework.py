"""Exercises with automatic checks, hints, solutions and saved progress.

``statelab.exercise("increment-with-retry")`` shows the task. ``.hint()`` gives a stronger
hint each time, ``.check(answer)`` runs your function against several seeded schedules and
explains the first failure in one sentence, ``.solution()`` puts the reference code into the
next cell (without running it), ``.reset()`` gives you a fresh store. ``statelab.progress()``
shows a checklist and a download link, since Binder sessions are thrown away.

Functions that talk to Dapr receive an ``httpx.Client`` whose base URL is
``http://127.0.0.1:3500``, so the code you write is the code you would run against a real
sidecar. During a check, that client's transport calls statelab's state API in-process and, on
the schedules that call for it, lets a competing writer act between your requests: a race that
happens the same way every time.

Progress is kept in ``~/.statelab/progress.json``, or in the file named by the environment
variable ``STATELAB_PROGRESS_FILE``.
"""

from __future__ import annotations

import base64
import json
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI

__all__ = ["CheckResult", "Exercise", "Progress", "exercise", "exercises", "progress"]

BASE_URL = "http://127.0.0.1:3500"
MAX_REQUESTS = 60


class CheckFailed(Exception):
    """Raised by a checker with the one-sentence explanation of the first failure."""


# -- the in-process transport with interference -----------------------------------------------

@dataclass
class Interference:
    """After the learner's *after*-th request (1-based), run *action* against the API."""

    after: int
    action: Callable[[StateAPI], None]


class Lab:
    """A fresh state API and an ``httpx.Client`` on it, recording every request."""

    def __init__(self, components: list[Component] | None = None,
                 interference: list[Interference] | None = None,
                 tick: Callable[[], None] | None = None) -> None:
        import httpx

        self.api = StateAPI(components or [_component("statestore", "state.redis-model")])
        self.requests: list[Any] = []
        self.interference = sorted(interference or [], key=lambda i: i.after)
        self.tick = tick

        def handler(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if len(self.requests) > MAX_REQUESTS:
                raise CheckFailed(f"your function sent more than {MAX_REQUESTS} requests; "
                                  "does a loop ever end?")
            if self.tick is not None:
                self.tick()
            target = request.url.raw_path.decode("latin-1")
            reply = self.api.handle(request.method, target, list(request.headers.items()),
                                    request.content)
            for step in [i for i in self.interference if i.after == len(self.requests)]:
                step.action(self.api)
            return httpx.Response(reply.status, headers=list(reply.headers), content=reply.body)

        self.client = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler))

    def close(self) -> None:
        self.client.close()

    def value(self, key: str, store: str = "statestore") -> Any:
        reply = self.api.get(store, key)
        return reply.json() if reply.status == 200 else None

    def save(self, key: str, value: Any, store: str = "statestore", **extra: Any) -> None:
        reply = self.api.save(store, [{"key": key, "value": value, **extra}])
        assert reply.status == 204, reply

    def etag(self, key: str, store: str = "statestore") -> str | None:
        return self.api.get(store, key).etag


def _component(name: str, kind: str, store: Any = None) -> Component:
    if kind == "state.redis-model":
        from statelab.stores.redis.model import RedisModelStore

        component = Component(name=name, type="state.redis", version="v1", metadata={},
                              source="(exercise)")
        component.store = RedisModelStore()
        return component
    component = Component(name=name, type=kind, version="v1", metadata={}, source="(exercise)")
    if store is not None:
        component.store = store
    return component


def _competing_increment(key: str, store: str = "statestore") -> Callable[[StateAPI], None]:
    """Another well-behaved writer: it reads, then increments with the ETag it read."""
    def act(api: StateAPI) -> None:
        current = api.get(store, key)
        value = current.json() if current.status == 200 else 0
        item = {"key": key, "value": value + 1, "options": {"concurrency": "first-write"}}
        if current.etag:
            item["etag"] = current.etag
        reply = api.save(store, [item])
        assert reply.status == 204, reply  # nothing can run between its read and its write
    return act


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        hint = ""
        if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
            hint = " (did it call .json() on a 204 answer? A missing key has an empty body)"
        raise CheckFailed(f"your function raised {type(exc).__name__}: {exc}{hint}") from None


# -- results and progress -------------------------------------------------------------------------

@dataclass
class CheckResult:
    """The outcome of ``Exercise.check``: passed or not, and one explaining sentence."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        mark = "PASSED" if self.passed else "NOT YET"
        return f"{mark} [{self.exercise}] {self.message}"

    def _repr_html_(self) -> str:
        colour = "#1b7f3b" if self.passed else "#b3261e"
        mark = "&#10004; Passed" if self.passed else "&#10008; Not yet"
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px">'
                f'<b style="color:{colour}">{mark}</b> <code>{self.exercise}</code>: '
                f"{_escape(self.message)}</div>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _progress_path() -> Path:
    configured = os.environ.get("STATELAB_PROGRESS_FILE")
    return Path(configured) if configured else Path.home() / ".statelab" / "progress.json"


def _load() -> dict[str, Any]:
    path = _progress_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"completed": [], "hints": {}}
    if not isinstance(data, dict):
        return {"completed": [], "hints": {}}
    data.setdefault("completed", [])
    data.setdefault("hints", {})
    return data


def _store(data: dict[str, Any]) -> None:
    path = _progress_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home must not break a lesson


@dataclass
class Progress:
    """A checklist of every exercise, with a download link for the progress file."""

    completed: list[str]

    def rows(self) -> list[tuple[str, str, bool]]:
        return [(e.id, e.title, e.id in self.completed) for e in _EXERCISES.values()]

    def __repr__(self) -> str:
        done = sum(1 for *_, ok in self.rows() if ok)
        lines = [f"statelab progress: {done} of {len(_EXERCISES)} exercises done"]
        notebook = ""
        for exercise in _EXERCISES.values():
            if exercise.notebook != notebook:
                notebook = exercise.notebook
                lines.append(f"  {notebook}")
            mark = "[x]" if exercise.id in self.completed else "[ ]"
            lines.append(f"    {mark} {exercise.id}: {exercise.title}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        done = sum(1 for *_, ok in self.rows() if ok)
        payload = json.dumps({"completed": sorted(self.completed)}, sort_keys=True)
        href = "data:application/json;base64," + base64.b64encode(payload.encode()).decode()
        items = []
        notebook = ""
        for exercise in _EXERCISES.values():
            if exercise.notebook != notebook:
                if notebook:
                    items.append("</ul>")
                notebook = exercise.notebook
                items.append(f"<b>{_escape(notebook)}</b><ul style='list-style:none'>")
            mark = "&#9745;" if exercise.id in self.completed else "&#9744;"
            items.append(f"<li>{mark} <code>{exercise.id}</code> {_escape(exercise.title)}</li>")
        items.append("</ul>")
        return (f"<div><p><b>{done} of {len(_EXERCISES)}</b> exercises done. "
                f'<a download="statelab-progress.json" href="{href}">Download your progress'
                "</a> (Binder sessions are thrown away).</p>" + "".join(items) + "</div>")


def progress() -> Progress:
    """The checklist of exercises, as saved in the progress file."""
    return Progress(completed=[i for i in _load()["completed"] if i in _EXERCISES])


def restore_progress(text: str) -> Progress:
    """Load a downloaded progress file's contents (JSON text) into the progress file."""
    data = json.loads(text)
    completed = [i for i in data.get("completed", []) if i in _EXERCISES]
    current = _load()
    current["completed"] = sorted(set(current["completed"]) | set(completed))
    _store(current)
    return progress()


# -- exercises -----------------------------------------------------------------------------------

@dataclass
class Exercise:
    """One exercise: the task, hints, a checker and a reference solution."""

    id: str
    notebook: str
    title: str
    task: str
    hints: tuple[str, ...]
    solution_code: str
    checker: Callable[[Any], str]
    _hints_shown: int = field(default=0, repr=False)

    def __repr__(self) -> str:
        return f"Exercise {self.id} ({self.notebook}): {self.title}\n\n{textwrap.dedent(self.task).strip()}"

    def _repr_markdown_(self) -> str:
        return f"**Exercise `{self.id}`: {self.title}**\n\n{textwrap.dedent(self.task).strip()}"

    def hint(self) -> Hint:
        """The next hint, each one more specific than the last."""
        data = _load()
        shown = int(data["hints"].get(self.id, 0))
        index = min(shown, len(self.hints) - 1)
        data["hints"][self.id] = min(shown + 1, len(self.hints))
        _store(data)
        return Hint(self.id, index + 1, len(self.hints), self.hints[index])

    def check(self, answer: Any) -> CheckResult:
        """Run the checker on *answer* (usually your function); record success."""
        try:
            message = self.checker(answer)
        except CheckFailed as failure:
            return CheckResult(self.id, False, str(failure))
        data = _load()
        if self.id not in data["completed"]:
            data["completed"].append(self.id)
            _store(data)
        return CheckResult(self.id, True, message)

    def solution(self) -> str:
        """Put the reference solution into the next cell (in Jupyter), without running it."""
        code = textwrap.dedent(self.solution_code).strip() + "\n"
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover - IPython ships with Jupyter
            shell = None
        if shell is not None:
            shell.set_next_input(code, replace=False)
            return "The reference solution is in the next cell. Read it, then run it."
        return code

    def reset(self) -> str:
        """A fresh start: empty every store of the running sidecars and the hint counter."""
        from statelab.server.sidecar import running_sidecars

        for sidecar in running_sidecars():
            sidecar.reset()
        data = _load()
        data["hints"].pop(self.id, None)
        _store(data)
        return f"Fresh stores; hints for {self.id} start again from the first."

    def reference(self) -> Callable[..., Any] | Any:
        """The reference solution, executed, for tests: the function (or value) it defines."""
        namespace: dict[str, Any] = {}
        exec(textwrap.dedent(self.solution_code), namespace)  # noqa: S102 - our own code
        return namespace[self.solution_name]

    @property
    def solution_name(self) -> str:
        for line in textwrap.dedent(self.solution_code).splitlines():
            if line.startswith("def "):
                return line[4:line.index("(")]
        raise ValueError(f"{self.id}: the solution defines no function")


@dataclass
class Hint:
    exercise: str
    number: int
    total: int
    text: str

    def __repr__(self) -> str:
        return f"Hint {self.number} of {self.total} [{self.exercise}]: {self.text}"

    def _repr_markdown_(self) -> str:
        return f"**Hint {self.number} of {self.total}**: {self.text}"


_EXERCISES: dict[str, Exercise] = {}


def _register(exercise: Exercise) -> Exercise:
    _EXERCISES[exercise.id] = exercise
    return exercise


def exercise(exercise_id: str) -> Exercise:
    """The exercise called *exercise_id* (``statelab.exercises.framework.exercises()`` lists them)."""
    try:
        return _EXERCISES[exercise_id]
    except KeyError:
        known = ", ".join(_EXERCISES)
        raise KeyError(f"no exercise {exercise_id!r}; known exercises: {known}") from None


def exercises() -> list[Exercise]:
    return list(_EXERCISES.values())


from statelab.exercises import bank  # noqa: E402,F401  - registers the exercises
