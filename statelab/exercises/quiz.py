"""A notebook's recap: its questions, checked answers, and completion in the progress file.

``statelab.recap("02-save-read-delete")`` ends a notebook with the three to five questions of
:data:`~statelab.exercises.recaps.RECAPS` that answer its opening "Questions to keep in mind".
There are two ways to answer, judged by the same :meth:`Recap.answer`:

- in JupyterLab, the form that the cell displays (radio buttons and a Check button, built by
  :mod:`statelab.exercises.quiz_form` when ipywidgets is installed);
- in plain Python, ``recap.answer({1: "b", 2: "a", 3: "c"})`` (or a list in question order),
  which returns a :class:`RecapResult` with one verdict per question.

Every answered question shows the right answer's one-sentence explanation, right or wrong.
When every question is right, the recap is recorded as completed under the id
``recap-<notebook>``, in the same progress file as the exercises, and ``statelab.progress()``
ticks it. The displayed, unanswered quiz is the same bytes on every run (no widget ids, no
progress in it), so nbval can compare a notebook's stored recap cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from statelab.exercises import record
from statelab.exercises.question import Question, Verdict
from statelab.exercises.recaps import RECAPS

if TYPE_CHECKING:  # pragma: no cover
    from statelab.exercises.quiz_form import RecapForm

__all__ = ["Recap", "RecapResult", "recap", "recaps"]

RIGHT = "#1b7f3b"  # the colours of an exercise's CheckResult: one look for "checked"
WRONG = "#b3261e"
MUTED = "#6b6b6b"

Answers = Mapping[int, str | None] | Sequence[str | None]


@dataclass(frozen=True)
class RecapResult:
    """The verdicts on one set of answers; true when every question is right."""

    notebook: str
    verdicts: tuple[Verdict, ...]

    @property
    def score(self) -> int:
        return sum(1 for v in self.verdicts if v.correct)

    @property
    def passed(self) -> bool:
        return self.score == len(self.verdicts)

    def __bool__(self) -> bool:
        return self.passed

    def headline(self) -> str:
        total = len(self.verdicts)
        if self.passed:
            return f"All {total} right: recap-{self.notebook} is done."
        blank = sum(1 for v in self.verdicts if v.correct is None)
        rest = f", {blank} not answered" if blank else ""
        return f"{self.score} of {total} right{rest}: change your answers and check again."

    def __repr__(self) -> str:
        lines = [f"Recap {self.notebook}: {self.headline()}"]
        lines += [f"  {v.sentence()}" for v in self.verdicts]
        return "\n".join(lines)

    def headline_html(self) -> str:
        colour = RIGHT if self.passed else WRONG
        return f'<b style="color:{colour}">{escape(self.headline(), quote=False)}</b>'

    def _repr_html_(self) -> str:
        colour = RIGHT if self.passed else WRONG
        items = "".join(f"<li>{verdict_html(v)}</li>" for v in self.verdicts)
        return (f'<div style="border-left:4px solid {colour};padding:4px 8px">'
                f'{self.headline_html()}'
                f'<ul style="list-style:none;padding-left:0;margin:4px 0">{items}</ul></div>')


def verdict_html(verdict: Verdict) -> str:
    """One verdict as HTML: the mark, then (once answered) the right answer and why."""
    if verdict.correct is None:
        return f'<span style="color:{MUTED}">{verdict.number}. not answered yet</span>'
    question = verdict.question
    why = escape(question.explanation, quote=False)
    right = escape(question.right_text, quote=False)
    if verdict.correct:
        return (f'<span style="color:{RIGHT}">&#10004; {verdict.number}. right</span>: '
                f"<b>{right}</b>. {why}")
    given = escape(verdict.given or "", quote=False)
    return (f'<span style="color:{WRONG}">&#10008; {verdict.number}. wrong</span>: you said '
            f"{given}; the answer is <b>{right}</b>. {why}")


@dataclass(frozen=True)
class Recap:
    """The recap quiz of one notebook: show it, answer it, and it records itself when right."""

    notebook: str
    questions: tuple[Question, ...]

    @property
    def id(self) -> str:
        """The id under which completion is recorded, like an exercise's."""
        return f"recap-{self.notebook}"

    @property
    def title(self) -> str:
        return f"Recap: {len(self.questions)} questions"

    def answer(self, answers: Answers) -> RecapResult:
        """Judge *answers*: question number (from 1) to a letter or a short answer, or a list
        in question order; ``None`` or a missing number is a question not answered yet.

        Every question right records the recap as completed. A number that names no question,
        or a letter that names no option, raises ``ValueError`` and records nothing."""
        given = self._by_number(answers)
        verdicts = tuple(q.judge(n, given.get(n)) for n, q in enumerate(self.questions, 1))
        result = RecapResult(self.notebook, verdicts)
        if result.passed:
            record.mark_completed(self.id)
        return result

    def _by_number(self, answers: Answers) -> dict[int, str | None]:
        if isinstance(answers, str):
            raise TypeError('answer with a dict such as {1: "b", 2: "a"}, or a list of '
                            "letters in question order, not one string")
        if isinstance(answers, Mapping):
            given = {_number(key): value for key, value in answers.items()}
        else:
            given = dict(enumerate(answers, 1))
        extra = sorted(n for n in given if not 1 <= n <= len(self.questions))
        if extra:
            raise ValueError(f"{self.id} has questions 1 to {len(self.questions)}; "
                             f"there is no question {extra[0]}")
        for number, value in given.items():
            if value is not None and not isinstance(value, str):
                raise TypeError(f"question {number}: answer with a string such as \"b\", "
                                f"not {value!r}")
        return given

    def form(self) -> RecapForm:
        """The interactive form (needs ipywidgets): radio buttons and a Check button."""
        from statelab.exercises.quiz_form import RecapForm  # lazy: ipywidgets is optional

        return RecapForm(self)

    def summary_text(self) -> str:
        """The unanswered quiz as text: the same bytes on every run, no answers given away."""
        lines = [f"Recap of {self.notebook}: {len(self.questions)} questions, checked for you"]
        for number, question in enumerate(self.questions, 1):
            lines.append(f"{number}. {question.prompt}")
            if question.is_choice:
                lines += [f"   {letter}) {text}"
                          for letter, text in zip(question.letters, question.options, strict=True)]
            else:
                lines.append("   (a short answer)")
        lines.append(f"Answer in the form, or in Python: {self._call()}")
        return "\n".join(lines)

    def summary_html(self) -> str:
        """The unanswered quiz as HTML, for GitHub, nbviewer and nbval (no widget in it)."""
        items = []
        for question in self.questions:
            prompt = escape(question.prompt, quote=False)
            if question.is_choice:
                options = "".join(f"<li>{escape(text, quote=False)}</li>"
                                  for text in question.options)
                items.append(f'<li>{prompt}<ol type="a" style="margin:2px 0">{options}</ol></li>')
            else:
                items.append(f"<li>{prompt} <i>(a short answer)</i></li>")
        return (f'<div style="border-left:4px solid {MUTED};padding:4px 8px">'
                f"<b>Recap of {escape(self.notebook)}</b>: {len(self.questions)} questions, "
                f'checked for you.<ol style="margin:4px 0">{"".join(items)}</ol>'
                f'<span style="color:{MUTED}">Answer in the form (run the cell in Jupyter), or '
                f"in Python: <code>{escape(self._call(), quote=False)}</code></span></div>")

    def _call(self) -> str:
        slots = ", ".join(f"{n}: ..." for n in range(1, len(self.questions) + 1))
        return f'statelab.recap("{self.notebook}").answer({{{slots}}})'

    def __repr__(self) -> str:
        return self.summary_text()

    def _repr_html_(self) -> str:
        return self.summary_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The static quiz, plus the live form when ipywidgets is installed (nbval skips the
        widget view, whose model id changes on every run, and compares the static parts)."""
        try:
            form = self.form()
        except ImportError:
            return {"text/plain": self.summary_text(), "text/html": self.summary_html()}
        return form._repr_mimebundle_(**kwargs)


def recap(notebook: str) -> Recap:
    """The recap quiz of *notebook*, e.g. ``"02-save-read-delete"`` (its file name's stem)."""
    try:
        questions = RECAPS[notebook]
    except KeyError:
        known = ", ".join(RECAPS)
        raise KeyError(f"no recap for {notebook!r}; notebooks with a recap: {known}") from None
    return Recap(notebook, questions)


def recaps() -> list[Recap]:
    """Every notebook's recap, in the order of the tutorial."""
    return [recap(notebook) for notebook in sorted(RECAPS)]


def _number(key: object) -> int:
    """A question number: an int, or a string of digits (``{"1": "b"}`` from JSON)."""
    if isinstance(key, bool) or not isinstance(key, (int, str)) or not str(key).isdigit():
        raise ValueError(f"question numbers are 1, 2, 3 ...; got {key!r}")
    return int(key)
