"""The framework: checks turn into one-sentence verdicts, hints count up, the registry orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from statelab.exercises.framework import (
    CheckFailed,
    CheckResult,
    exercise,
    exercises,
    run_answer,
)
from statelab.exercises.checklist import progress


@pytest.fixture(autouse=True)
def progress_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", str(path))
    return path


def test_at_least_two_exercises_per_notebook_in_tutorial_order() -> None:
    per_notebook: dict[str, int] = {}
    for item in exercises():
        per_notebook[item.notebook] = per_notebook.get(item.notebook, 0) + 1
    assert list(per_notebook) == ["02-save-read-delete", "03-lose-an-update", "04-use-etags",
                                  "05-retry-on-conflict", "06-choose-consistency",
                                  "07-group-writes", "08-move-to-real-dapr"]
    assert min(per_notebook.values()) >= 2
    assert [e.id for e in exercises()][:2] == ["save-and-read", "read-or-default"]


def test_a_passing_check_is_recorded(progress_file: Path) -> None:
    item = exercise("backoff-delays")
    result = item.check(item.reference())
    assert result and repr(result).startswith("PASSED [backoff-delays] ")
    assert json.loads(progress_file.read_text())["completed"] == ["backoff-delays"]


def test_a_failing_check_is_explained_and_not_recorded() -> None:
    result = exercise("predict-lost-update").check(lambda schedule: False)
    assert not result
    assert repr(result).startswith("NOT YET [predict-lost-update] for (0, 1, 0, 1) ")
    assert "predict-lost-update" not in progress().completed


def test_check_result_html_escapes_the_message() -> None:
    html = CheckResult("x", False, "a <b> & c")._repr_html_()
    assert "a &lt;b&gt; &amp; c</div>" in html and "&#10008; Not yet" in html


def test_run_answer_turns_exceptions_into_sentences() -> None:
    def broken(*_: Any) -> None:
        json.loads("")

    with pytest.raises(CheckFailed, match=r"raised JSONDecodeError: .* \(did it call \.json\(\) "
                       "on a 204 answer\\? A missing key has an empty body\\)"):
        run_answer(broken)
    with pytest.raises(CheckFailed, match="^your function raised KeyError: 'k'$"):
        run_answer({}.__getitem__, "k")
    assert run_answer(lambda a, b: a + b, 1, 2) == 3


def test_hints_get_stronger_then_stay_on_the_last() -> None:
    item = exercise("increment-with-retry")
    texts = [item.hint() for _ in range(len(item.hints) + 2)]
    assert [h.number for h in texts] == [1, 2, 3, 3, 3]
    assert texts[0].text == item.hints[0] and texts[-1].text == item.hints[-1]
    assert repr(texts[0]).startswith("Hint 1 of 3 [increment-with-retry]: ")
    assert texts[0]._repr_markdown_().startswith("**Hint 1 of 3**: ")
    assert item.reset() == (
        "Fresh stores; hints for increment-with-retry start again from the first.")
    assert item.hint().number == 1


def test_solution_outside_jupyter_returns_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython

    # Outside Jupyter there is no shell (another test may have created one in this process).
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    code = exercise("backoff-delays").solution()
    assert "\ndef backoff_ms(failures, rng):" in "\n" + code


def test_reference_runs_the_solution() -> None:
    item = exercise("final-value")
    assert item.solution_name == "final_value"
    assert item.reference()((0, 1, 0, 1)) == 1


def test_unknown_exercise() -> None:
    with pytest.raises(KeyError, match="no exercise 'nope'; known exercises: save-and-read, "
                       "read-or-default, predict-lost-update"):
        exercise("nope")


def test_task_reprs() -> None:
    item = exercise("transfer")
    assert repr(item).startswith("Exercise transfer (07-group-writes): Move money")
    assert item._repr_markdown_().startswith("**Exercise `transfer`: Move money")
