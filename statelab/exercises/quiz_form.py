"""The recap as an ipywidgets form: one radio group (or text box) per question, a Check button.

The form holds no rule of its own: Check collects the selected letters and calls
:meth:`statelab.exercises.quiz.Recap.answer`, the same call a script makes, then writes each
verdict and its explanation under its question. Like the boards in ``statelab/widgets/``, the
form answers ``_repr_mimebundle_`` with a deterministic ``text/plain`` and ``text/html`` (the
unanswered quiz) next to ipywidgets' widget view, so GitHub, nbviewer and nbval see the quiz
and the bytes never depend on a model id or on what the learner clicked.
"""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from statelab.exercises.question import Question
from statelab.exercises.quiz import Recap, RecapResult, verdict_html

__all__ = ["RecapForm"]


class RecapForm(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Radio buttons per question and a Check button; :meth:`check` is what the button does."""

    def __init__(self, recap: Recap) -> None:
        self.recap = recap
        self.inputs: list[widgets.RadioButtons | widgets.Text] = []
        self.feedback: list[widgets.HTML] = []
        children: list[widgets.Widget] = [widgets.HTML(
            f"<b>Recap of {escape(recap.notebook)}</b>: {len(recap.questions)} questions. "
            "Pick your answers, then press Check.")]
        for number, question in enumerate(recap.questions, 1):
            answer = _input(question)
            note = widgets.HTML("")
            self.inputs.append(answer)
            self.feedback.append(note)
            children += [widgets.HTML(f'<div style="line-height:1.4;margin-top:8px"><b>{number}.'
                                      f"</b> {escape(question.prompt, quote=False)}</div>"),
                         answer, note]
        self.button = widgets.Button(description="Check", button_style="primary",
                                     tooltip="Check every answer; your progress is saved")
        self.result = widgets.HTML("")
        self.button.on_click(lambda _button: self.check())
        super().__init__(children=[*children, self.button, self.result])

    def answers(self) -> dict[int, str | None]:
        """What is selected now: question number to letter (or text); None when blank."""
        chosen: dict[int, str | None] = {}
        for number, answer in enumerate(self.inputs, 1):
            value = answer.value
            chosen[number] = value if isinstance(value, str) and value.strip() else None
        return chosen

    def check(self) -> RecapResult | None:
        """Judge the selected answers, show each verdict under its question, and return them
        (None, with the reason shown, when the answers cannot be judged)."""
        try:
            result = self.recap.answer(self.answers())
        except (TypeError, ValueError) as problem:
            self.result.value = f"<b>{escape(str(problem), quote=False)}</b>"
            return None
        for note, verdict in zip(self.feedback, result.verdicts, strict=True):
            note.value = ("" if verdict.correct is None
                          else f'<div style="margin:0 0 6px 0;line-height:1.4">'
                          f'{verdict_html(verdict)}</div>')
        self.result.value = result.headline_html()
        return result

    def summary_text(self) -> str:
        return self.recap.summary_text()

    def summary_html(self) -> str:
        return self.recap.summary_html()

    def __repr__(self) -> str:
        return self.summary_text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # ipywidgets 8 answers {"text/plain": a repr cut at 110 characters,
        # "application/vnd.jupyter.widget-view+json": {...model_id...}}: keep the widget view,
        # replace the cut repr and add the static quiz.
        data: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.summary_text()
        data["text/html"] = self.summary_html()
        return data


def _input(question: Question) -> widgets.RadioButtons | widgets.Text:
    """Radio buttons with nothing selected (a letter each), or a text box for a short answer."""
    if question.is_choice:
        return widgets.RadioButtons(
            options=[(f"{letter}) {text}", letter)
                     for letter, text in zip(question.letters, question.options, strict=True)],
            index=None, layout=widgets.Layout(width="auto"))
    return widgets.Text(value="", placeholder="your answer", layout=widgets.Layout(width="16em"))
