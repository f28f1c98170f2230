"""Recap quizzes: the question bank, judging answers, recording completion, the form's reprs."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

import statelab
from statelab.exercises import record
from statelab.exercises.checklist import progress
from statelab.exercises.question import Question
from statelab.exercises.quiz import Recap, recap, recaps
from statelab.exercises.recaps import RECAPS

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))
RECAP_CALL = re.compile(r"""recap\(\s*["']([a-z0-9-]+)["']\s*\)""")
ALL = [(name, number, question) for name, questions in RECAPS.items()
       for number, question in enumerate(questions, 1)]


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


def right_answers(quiz: Recap) -> dict[int, str]:
    return {n: q.right for n, q in enumerate(quiz.questions, 1)}


def a_wrong_answer(question: Question) -> str:
    if question.is_choice:
        return next(letter for letter in question.letters if letter != question.right)
    return "not " + question.right


# The bank


def test_every_notebook_01_to_08_has_a_recap_of_3_to_5_questions() -> None:
    expected = [f"{n:02d}" for n in range(1, 9)]
    assert [name[:2] for name in RECAPS] == expected
    assert sorted(RECAPS) == list(RECAPS), "in the order of the tutorial"
    stems = {path.stem for path in NOTEBOOKS}
    for name, questions in RECAPS.items():
        assert name in stems, f"{name}: no notebook of that name"
        assert 3 <= len(questions) <= 5, f"{name}: {len(questions)} questions"


@pytest.mark.parametrize(("name", "number", "question"), ALL,
                         ids=[f"{name[:2]}-q{number}" for name, number, _ in ALL])
def test_every_question_has_exactly_one_right_answer(name: str, number: int,
                                                     question: Question) -> None:
    if question.is_choice:
        assert 2 <= len(question.options) <= 6
        assert len(set(question.options)) == len(question.options), "two options alike"
        verdicts = [question.judge(number, letter).correct for letter in question.letters]
        assert verdicts.count(True) == 1, f"{name} question {number}"
        assert question.letters[verdicts.index(True)] == question.right
    else:
        assert question.judge(number, question.right).correct
        assert not question.judge(number, a_wrong_answer(question)).correct
    # One sentence that says why: it ends with a full stop and has no second sentence.
    assert question.explanation.endswith("."), question.explanation
    assert not re.search(r"[.!?] [A-Z]", question.explanation), question.explanation
    assert question.prompt.strip() == question.prompt and question.prompt


def test_the_right_letters_vary() -> None:
    letters = Counter(q.right for _, _, q in ALL if q.is_choice)
    assert len(letters) >= 3
    assert max(letters.values()) * 2 <= sum(letters.values()), letters


def test_options_fit_a_radio_label_and_length_gives_nothing_away() -> None:
    # A radio button's label does not wrap well: 80 characters fit a narrow notebook.
    choices = [q for _, _, q in ALL if q.is_choice]
    assert max(len(option) for q in choices for option in q.options) <= 80
    # "Pick the longest option" must not beat guessing (1 in 3 or 4).
    longest_is_right = [q.prompt for q in choices
                        if sorted(map(len, q.options))[-1] == len(q.right_text) - 3
                        and sorted(map(len, q.options))[-2] < len(q.right_text) - 3]
    assert len(longest_is_right) * 4 <= len(choices), longest_is_right


def test_the_figure_in_notebook_05s_recap_is_the_simulators() -> None:
    # Notebook 05's sweep: 32 writers, 160 / 32 increments each, retry at once, seed 1.
    from statelab import Race, RetryPolicy, analyse

    report = analyse(Race(writers=32, increments=5, mode="first-write", seed=1,
                          retry=RetryPolicy("immediate")).run())
    question = RECAPS["05-retry-on-conflict"][1]
    assert question.right_text.startswith("b) About ten")
    assert 8 <= 1 + report.retries_per_success <= 13
    assert f"needed {report.retries_per_success:.1f} retries per increment" in (
        question.explanation)


@pytest.mark.parametrize("kwargs", [
    {"options": ("x", "y"), "right": "c"},          # no option c
    {"options": ("x", "x"), "right": "a"},          # two options alike
    {"options": ("x",), "right": "a"},              # nothing to choose
    {"options": ("x", "y"), "right": "a", "also": ("x",)},
    {"right": "  "},                                # a short answer with no spelling
])
def test_a_broken_bank_entry_fails_at_import(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Question("Which?", explanation="Because.", **kwargs)  # type: ignore[arg-type]  # bad on purpose


# Answering in plain Python


def test_answering_everything_right_records_completion(progress_file: Path) -> None:
    quiz = statelab.recap("02-save-read-delete")
    result = quiz.answer(right_answers(quiz))
    assert result and result.passed and result.score == len(quiz.questions)
    assert repr(result).splitlines()[0] == ("Recap 02-save-read-delete: All 5 right: "
                                            "recap-02-save-read-delete is done.")
    assert json.loads(progress_file.read_text())["completed"] == ["recap-02-save-read-delete"]
    assert "    [x] recap-02-save-read-delete: Recap: 5 questions" in repr(statelab.progress())


@pytest.mark.parametrize("name", list(RECAPS))
def test_every_recap_can_be_completed(name: str) -> None:
    assert recap(name).answer(right_answers(recap(name))).passed
    assert f"recap-{name}" in record.completed()


def test_wrong_answers_explain_and_record_nothing(progress_file: Path) -> None:
    quiz = recap("04-use-etags")
    answers = right_answers(quiz)
    answers[2] = "a"   # first-write alone answers 409: the trap notebook 04 is about
    answers[4] = "B"   # letters are read without case
    result = quiz.answer(answers)
    assert not result and result.score == 3
    wrong = [v for v in result.verdicts if v.correct is False]
    assert [v.number for v in wrong] == [2, 4]
    sentence = wrong[0].sentence()
    assert sentence.startswith("2. wrong: you said a; the answer is c) No: the save overwrites")
    assert sentence.endswith(quiz.questions[1].explanation)
    assert "recap-04-use-etags" not in record.completed()
    assert not progress_file.exists()
    html = result._repr_html_()
    assert "&#10008; 2. wrong</span>: you said a; the answer is <b>c) No: the save" in html
    assert "1 of" not in result.headline() and result.headline().startswith("3 of 5 right")


def test_a_right_answer_is_explained_too() -> None:
    quiz = recap("01-start-the-sidecar")
    verdict = quiz.answer({3: "c"}).verdicts[2]
    assert verdict.sentence() == ("3. right: c) 204 with an empty body and no ETag. "
                                  + quiz.questions[2].explanation)


def test_unanswered_questions_keep_their_answer_secret() -> None:
    quiz = recap("06-choose-consistency")
    result = quiz.answer({1: "c", 3: None, 4: "  "})
    assert [v.label for v in result.verdicts] == ["right", "not answered", "not answered",
                                                  "not answered"]
    assert result.headline() == ("1 of 4 right, 3 not answered: change your answers and check "
                                 "again.")
    for verdict, question in zip(result.verdicts[1:], quiz.questions[1:], strict=True):
        assert verdict.sentence() == f"{verdict.number}. not answered yet."
        assert question.explanation not in repr(result)
    assert not result.passed


def test_a_list_in_question_order_and_string_numbers_are_accepted() -> None:
    quiz = recap("07-group-writes")
    in_order = [q.right for q in quiz.questions]
    assert quiz.answer(in_order).passed
    assert quiz.answer({str(n): letter for n, letter in enumerate(in_order, 1)}).passed  # type: ignore[misc]  # JSON keys are strings
    assert quiz.answer([f" {letter.upper()}) " for letter in in_order]).passed


def test_a_short_answer_is_compared_without_case_spaces_or_quotes() -> None:
    quiz = recap("03-lose-an-update")
    for given in ("4", " four ", "`4`", "FOUR"):
        assert quiz.answer({2: given}).verdicts[1].correct, given
    verdict = quiz.answer({2: "6"}).verdicts[1]
    assert verdict.sentence().startswith("2. wrong: you said 6; the answer is 4. Every order")


@pytest.mark.parametrize(("answers", "error", "message"), [
    ({1: "z"}, ValueError, "question 1: answer with one of the letters a, b, c, d, not 'z'"),
    ({6: "a"}, ValueError, "has questions 1 to 5; there is no question 6"),
    ({0: "a"}, ValueError, "there is no question 0"),
    ({"first": "a"}, ValueError, "question numbers are 1, 2, 3"),
    ({1: 2}, TypeError, 'question 1: answer with a string such as "b", not 2'),
    ("bcc", TypeError, "not one string"),
    (["b", "b", "b", "c", "c", "a"], ValueError, "there is no question 6"),
])
def test_bad_answers_are_clear_errors_and_record_nothing(answers: object, error: type,
                                                         message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        recap("02-save-read-delete").answer(answers)  # type: ignore[arg-type]  # bad on purpose
    assert record.completed() == []


def test_unknown_notebook() -> None:
    with pytest.raises(KeyError, match="no recap for '09-nope'; notebooks with a recap: "
                                       "01-start-the-sidecar, 02-save-read-delete"):
        statelab.recap("09-nope")
    assert [r.notebook for r in recaps()] == list(RECAPS)
    assert statelab.recap is statelab.exercises.recap


# What a notebook stores: the unanswered quiz, the same bytes every time


def test_the_static_quiz_gives_no_answer_away() -> None:
    quiz = recap("05-retry-on-conflict")
    text, html = quiz.summary_text(), quiz.summary_html()
    assert text.splitlines()[0] == "Recap of 05-retry-on-conflict: 5 questions, checked for you"
    assert text.splitlines()[1:3] == [
        "1. Your save answered 409. Why is sending the same request again useless?",
        "   a) Dapr refuses retries for a second after a conflict"]
    assert text.splitlines()[-1] == ('Answer in the form, or in Python: statelab.recap('
                                     '"05-retry-on-conflict").answer({1: ..., 2: ..., 3: ..., '
                                     '4: ..., 5: ...})')
    for question in quiz.questions:
        assert question.explanation not in text and question.explanation not in html
        for option in question.options:
            assert option in text
    assert html.count('<ol type="a"') == 5 and "&#10004;" not in html
    assert "(a short answer)" in recap("03-lose-an-update").summary_text()


def test_the_forms_reprs_are_deterministic_and_ignore_progress() -> None:
    first = recap("08-move-to-real-dapr")._repr_mimebundle_()
    assert set(first) == {"text/plain", "text/html",
                          "application/vnd.jupyter.widget-view+json"}
    recap("08-move-to-real-dapr").answer(right_answers(recap("08-move-to-real-dapr")))
    second = recap("08-move-to-real-dapr")._repr_mimebundle_()
    for kind in ("text/plain", "text/html"):
        assert first[kind] == second[kind]
        assert "model_id" not in first[kind] and " at 0x" not in first[kind]
    assert first["text/plain"] == recap("08-move-to-real-dapr").summary_text()
    assert first["text/html"] == recap("08-move-to-real-dapr").summary_html()
    form = recap("08-move-to-real-dapr").form()
    assert repr(form) == first["text/plain"]


def test_without_ipywidgets_the_quiz_is_static(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "statelab.exercises.quiz_form", None)  # import fails
    quiz = recap("01-start-the-sidecar")
    assert quiz._repr_mimebundle_() == {"text/plain": quiz.summary_text(),
                                        "text/html": quiz.summary_html()}
    assert quiz.answer(right_answers(quiz)).passed


# The form: radio buttons and a Check button, judged by the same answer()


def test_the_form_starts_blank_and_its_check_button_judges() -> None:
    quiz = recap("03-lose-an-update")
    form = quiz.form()
    assert form.answers() == {1: None, 2: None, 3: None, 4: None}
    assert [type(w).__name__ for w in form.inputs] == ["RadioButtons", "Text", "RadioButtons",
                                                       "RadioButtons"]
    assert form.inputs[0].options[1] == ("b) At 2 or at 1, never at 0", "b")
    form.inputs[0].value = "a"
    form.inputs[1].value = "4"
    form.button.click()
    assert "&#10008; 1. wrong</span>: you said a; the answer is <b>b) At 2 or at 1" in (
        form.feedback[0].value)
    assert "&#10004; 2. right</span>: <b>4</b>. Every order" in form.feedback[1].value
    assert form.feedback[2].value == ""   # not answered: nothing said yet
    assert "1 of 4 right, 2 not answered" in form.result.value
    assert "recap-03-lose-an-update" not in record.completed()
    form.inputs[0].value, form.inputs[2].value, form.inputs[3].value = "b", "d", "c"
    result = form.check()
    assert result is not None and result.passed
    assert "All 4 right: recap-03-lose-an-update is done." in form.result.value
    assert [item for item, *_ in progress().recap_rows() if _[-1]] == ["recap-03-lose-an-update"]


def test_the_form_says_what_cannot_be_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    form = recap("02-save-read-delete").form()
    monkeypatch.setattr(form, "answers", lambda: {9: "a"})
    assert form.check() is None
    assert "there is no question 9" in form.result.value


# The notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_recap_cells_name_their_own_notebook(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    calls = [m for c in cells if c["cell_type"] == "code"
             for m in RECAP_CALL.findall("".join(c["source"]))]
    assert set(calls) <= {path.stem}, f"{path.name} shows another notebook's recap: {calls}"
