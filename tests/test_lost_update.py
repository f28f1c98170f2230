"""Notebook 03's exercises: predict lost updates and final values from a schedule."""

from __future__ import annotations

from typing import Any

import pytest

from statelab.exercises.framework import exercise, exercises

MODULE = "statelab.exercises.bank.lost_update"
IDS = ["predict-lost-update", "final-value"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solutions_pass(exercise_id: str) -> None:
    item = exercise(exercise_id)
    result = item.check(item.reference())
    assert result.passed, result.message


def test_this_module_registers_the_notebook_s_exercises() -> None:
    mine = [e for e in exercises() if e.checker.__module__ == MODULE]
    assert [e.id for e in mine] == IDS
    assert {e.notebook for e in mine} == {"03-lose-an-update"}


def check_fails(exercise_id: str, answer: Any, sentence: str) -> None:
    result = exercise(exercise_id).check(answer)
    assert not result.passed
    assert sentence in result.message, result.message


def test_a_wrong_prediction_names_the_schedule_step_by_step() -> None:
    check_fails("predict-lost-update", lambda schedule: False,
                "for (0, 1, 0, 1) (A reads, B reads, A writes, B writes) you said False, but "
                "it does lose an update")
    check_fails("predict-lost-update", lambda schedule: True,
                "for (0, 0, 1, 1) (A reads, A writes, B reads, B writes) you said True, but "
                "it does not lose an update")


def test_a_wrong_final_value_quotes_the_simulator() -> None:
    check_fails("final-value", lambda schedule: 0,
                "for (0, 0, 1, 1, 2, 2) you said the counter ends at 0; the simulator says 3")

