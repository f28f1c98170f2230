"""Exercises with automatic checks, hints, solutions and a registry of every exercise.

``statelab.exercise("increment-with-retry")`` shows the task. ``.hint()`` gives a stronger
hint each time, ``.check(answer)`` runs your function against several seeded schedules and
explains the first failure in one sentence, ``.solution()`` puts the reference code into the
next cell (without running it), ``.reset()`` gives you a fresh store.

A checker is a plain function: it raises :class:`CheckFailed` with the one sentence that
explains the first failure, or returns a sentence saying what it verified. It calls the
learner's code through :func:`run_answer`, so whatever that code raises becomes such a
sentence too. Exercises register themselves (:func:`register`) from the modules of
:mod:`statelab.exercises.bank`, one module per notebook, in the order of the tutorial.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from statelab.exercises import record

__all__ = [
    "CheckFailed",
    "CheckResult",
    "Exercise",
    "Hint",
    "RequestBudgetExceeded",
    "exercise",
    "exercises",
    "register",
    "run_answer",
]


class CheckFailed(Exception):  # noqa: N818 - a failed check is an outcome, not an error
    """Raised by a checker with the one-sentence explanation of the first failure."""


class RequestBudgetExceeded(BaseException):
    """Raised into the learner's code when it sends more requests than any right answer needs.

    A ``BaseException``, like ``KeyboardInterrupt``: a retry loop that swallows every
    ``Exception`` (the mistake some exercises are about) still ends, and the check says why."""


def run_answer(fn: Callable[..., Any], *args: Any) -> Any:
    """Call the learner's *fn*; anything it raises becomes a :class:`CheckFailed` sentence."""
    try:
        return fn(*args)
    except CheckFailed:
        raise
    except RequestBudgetExceeded as budget:
        raise CheckFailed(str(budget)) from None
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        hint = ""
        if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
            hint = " (did it call .json() on a 204 answer? A missing key has an empty body)"
        raise CheckFailed(f"your function raised {_describe(exc)}{hint}") from None


def _describe(exc: Exception) -> str:
    """``Name: message``; for a gRPC error (the SDK's ``DaprGrpcError``), its status code and
    details, not the multi-line repr of the RPC that ``str()`` gives."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):
        status = getattr(code(), "name", code())
        return f"{type(exc).__name__} {status}: {details()}"
    return f"{type(exc).__name__}: {exc}"


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
                f"{escape(self.message, quote=False)}</div>")


@dataclass
class Hint:
    """One hint as shown: its number out of the total, so the learner sees how far along."""

    exercise: str
    number: int
    total: int
    text: str

    def __repr__(self) -> str:
        return f"Hint {self.number} of {self.total} [{self.exercise}]: {self.text}"

    def _repr_markdown_(self) -> str:
        return f"**Hint {self.number} of {self.total}**: {self.text}"


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

    def __repr__(self) -> str:
        return (f"Exercise {self.id} ({self.notebook}): {self.title}\n\n"
                f"{textwrap.dedent(self.task).strip()}")

    def _repr_markdown_(self) -> str:
        return f"**Exercise `{self.id}`: {self.title}**\n\n{textwrap.dedent(self.task).strip()}"

    def hint(self) -> Hint:
        """The next hint, each one more specific than the last."""
        index = record.next_hint(self.id, len(self.hints))
        return Hint(self.id, index + 1, len(self.hints), self.hints[index])

    def check(self, answer: Any) -> CheckResult:
        """Run the checker on *answer* (usually your function); record success."""
        try:
            message = self.checker(answer)
        except CheckFailed as failure:
            return CheckResult(self.id, False, str(failure))
        record.mark_completed(self.id)
        return CheckResult(self.id, True, message)

    def solution(self) -> str:
        """Put the reference solution into the next cell (in Jupyter), without running it."""
        code = textwrap.dedent(self.solution_code).strip() + "\n"
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython ships with Jupyter
            return code
        shell = get_ipython()
        if shell is None:
            return code
        shell.set_next_input(code, replace=False)
        return "The reference solution is in the next cell. Read it, then run it."

    def reset(self) -> str:
        """A fresh start: empty every store of the running sidecars and the hint counter."""
        from statelab.server.sidecar import running_sidecars  # lazy: only reset needs the server

        for sidecar in running_sidecars():
            sidecar.reset()
        record.forget_hints(self.id)
        return f"Fresh stores; hints for {self.id} start again from the first."

    def reference(self) -> Any:
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


_EXERCISES: dict[str, Exercise] = {}


def register(item: Exercise) -> Exercise:
    """Add *item* to the registry. Within a notebook, the order of registration is the order
    of the notebook; notebooks are ordered by their numbered names, whatever the import order."""
    _EXERCISES[item.id] = item
    return item


def exercise(exercise_id: str) -> Exercise:
    """The exercise called *exercise_id* (``statelab.exercises.exercises()`` lists them)."""
    try:
        return _EXERCISES[exercise_id]
    except KeyError:
        known = ", ".join(e.id for e in exercises())
        raise KeyError(f"no exercise {exercise_id!r}; known exercises: {known}") from None


def exercises() -> list[Exercise]:
    """Every exercise in the order of the tutorial (``sorted`` is stable: notebook order)."""
    return sorted(_EXERCISES.values(), key=lambda e: e.notebook)
