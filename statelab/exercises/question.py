"""One recap question and the verdict on one answer: the quiz's smallest parts.

A recap (:mod:`statelab.exercises.quiz`) asks three to five of these at the end of a notebook.
A question is multiple choice (options lettered ``a``, ``b``, ... in the order written, exactly
one of them right) or, where a short exact answer is natural ("how many of the six orders lose
an update?"), a short answer with its accepted spellings. Either way the learner's answer is a
string, so the form in JupyterLab and ``recap.answer({1: "b"})`` in a script are checked by the
same :meth:`Question.judge`, and every verdict on a given answer carries the one-sentence
explanation of the right one: a learner who guessed right learns why, too.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

__all__ = ["LETTERS", "Question", "Verdict"]

LETTERS = string.ascii_lowercase[:6]  # at most six options: a recap is quick to read


@dataclass(frozen=True)
class Question:
    """A question, its options (none for a short answer), the right answer and why.

    *right* is the letter of the right option, or for a short answer its canonical spelling;
    *also* lists other accepted spellings of a short answer (compared without case and with
    spaces collapsed). *explanation* is one sentence that says why the right answer is right.
    """

    prompt: str
    right: str
    explanation: str
    options: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A bank entry that cannot be answered right is a bug to catch at import, not in class.
        if self.options:
            if not 2 <= len(self.options) <= len(LETTERS):
                raise ValueError(f"{self.prompt!r}: 2 to {len(LETTERS)} options, "
                                 f"not {len(self.options)}")
            if len(set(self.options)) != len(self.options):
                raise ValueError(f"{self.prompt!r}: two options are the same")
            if self.right not in self.letters:
                raise ValueError(f"{self.prompt!r}: the right answer must be one letter of "
                                 f"{', '.join(self.letters)}, not {self.right!r}")
            if self.also:
                raise ValueError(f"{self.prompt!r}: other spellings are for short answers")
        elif not _normal(self.right):
            raise ValueError(f"{self.prompt!r}: a short answer needs its right spelling")

    @property
    def letters(self) -> tuple[str, ...]:
        """The letters of the options, ``("a", "b", ...)``; empty for a short answer."""
        return tuple(LETTERS[: len(self.options)])

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    @property
    def right_text(self) -> str:
        """The right answer as the learner would see it: ``b) 204 No Content``, or ``4``."""
        if self.is_choice:
            return f"{self.right}) {self.options[self.letters.index(self.right)]}"
        return self.right

    def judge(self, number: int, given: str | None) -> Verdict:
        """The verdict on *given* (a letter, or the short answer; None when left blank).

        A letter that names no option raises ``ValueError``: that is a typo to fix, not a
        wrong answer to count."""
        if given is None or not given.strip():
            return Verdict(number, None, None, self)
        if self.is_choice:
            letter = given.strip().lower().rstrip(")").strip()
            if letter not in self.letters:
                raise ValueError(f"question {number}: answer with one of the letters "
                                 f"{', '.join(self.letters)}, not {given!r}")
            return Verdict(number, letter, letter == self.right, self)
        accepted = {_normal(self.right), *(_normal(a) for a in self.also)}
        return Verdict(number, given.strip(), _normal(given) in accepted, self)


@dataclass(frozen=True)
class Verdict:
    """What the check said about one answer: right, wrong, or not answered (``correct`` None)."""

    number: int
    given: str | None
    correct: bool | None
    question: Question

    @property
    def label(self) -> str:
        return {True: "right", False: "wrong", None: "not answered"}[self.correct]

    def sentence(self) -> str:
        """One line: the verdict and, once answered, the right answer and why.

        An unanswered question keeps its answer to itself, so a learner can still try it."""
        if self.correct is None:
            return f"{self.number}. not answered yet."
        if self.correct:
            return f"{self.number}. right: {self.question.right_text}. {self.question.explanation}"
        return (f"{self.number}. wrong: you said {self.given}; the answer is "
                f"{self.question.right_text}. {self.question.explanation}")


def _normal(text: str) -> str:
    """A short answer compared without case, surrounding quotes or backticks, or extra spaces."""
    return " ".join(text.strip().strip("`'\"").casefold().split())
