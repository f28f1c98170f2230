"""Notebook 03's exercises: predict lost updates and final values from a schedule."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from statelab.exercises.bank.lost_update import seeded_schedules
from statelab.exercises.framework import exercise, exercises
from statelab.sim import interleavings

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
                "it does lose an update: the counter ends at 1 with 2 writers")
    check_fails("predict-lost-update", lambda schedule: True,
                "for (0, 0, 1, 1) (A reads, A writes, B reads, B writes) you said True, but "
                "it does not lose an update")


def test_a_wrong_final_value_quotes_the_simulator() -> None:
    check_fails("final-value", lambda schedule: 0,
                "for (0, 0, 1, 1, 2, 2) you said the counter ends at 0; the simulator says 3")



# -- answers that only know the small cases fail; any correct formulation passes ---------------

def _small_cases(fn: Any) -> dict[tuple[int, ...], Any]:
    return {schedule: fn(schedule) for writers in (2, 3) for schedule in interleavings(writers)}


PREDICT_TABLE = _small_cases(exercise("predict-lost-update").reference())
FINAL_TABLE = _small_cases(exercise("final-value").reference())


def only_writers_a_and_b(schedule: tuple[int, ...]) -> bool:
    """Looks at whether A's and B's read-write windows overlap, and at nobody else."""
    a = [i for i, p in enumerate(schedule) if p == 0]
    b = [i for i, p in enumerate(schedule) if p == 1]
    return not (a[1] < b[0] or b[1] < a[0])


def more_than_three_writers_always_lose(schedule: tuple[int, ...]) -> bool:
    return len(schedule) > 6 or PREDICT_TABLE[schedule]


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda s: PREDICT_TABLE.get(s, False),
     "you said False, but it does lose an update: the counter ends at 7 with 8 writers"),
    (lambda s: PREDICT_TABLE.get(s, True),
     "for (0, 0, 2, 2, 3, 3, 1, 1, 4, 4) (A reads, A writes, C reads, C writes, D reads, D "
     "writes, B reads, B writes, E reads, E writes) you said True, but it does not lose an "
     "update: the counter ends at 5 with 5 writers"),
    (only_writers_a_and_b, "for (0, 0, 1, 2, 1, 2) (A reads, A writes, B reads, C reads, B "
                           "writes, C writes) you said False, but it does lose an update: the "
                           "counter ends at 2 with 3 writers"),
    (more_than_three_writers_always_lose, "you said True, but it does not lose an update"),
])
def test_predictions_that_only_know_the_small_cases_fail(answer: Any, sentence: str) -> None:
    check_fails("predict-lost-update", answer, sentence)


def some_writer_is_interrupted(schedule: tuple[int, ...]) -> bool:
    """Lost iff the writers do not run one after the other: some pair of steps at positions
    (2k, 2k+1) belongs to two different writers."""
    return any(schedule[i] != schedule[i + 1] for i in range(0, len(schedule), 2))


def a_write_falls_inside_another_window(schedule: tuple[int, ...]) -> bool:
    """Lost iff some writer's write happens between another writer's read and write."""
    read = {p: schedule.index(p) for p in set(schedule)}
    wrote = {p: len(schedule) - 1 - schedule[::-1].index(p) for p in set(schedule)}
    return any(read[p] < wrote[q] < wrote[p] for p in read for q in read if q != p)


@pytest.mark.parametrize("answer", [some_writer_is_interrupted,
                                    a_write_falls_inside_another_window])
def test_other_correct_predictions_pass(answer: Any) -> None:
    result = exercise("predict-lost-update").check(answer)
    assert result.passed, result.message


def counts_uninterrupted_writers(schedule: tuple[int, ...]) -> int:
    """A plausible wrong idea: only writers whose read and write are adjacent count."""
    return sum(1 for i in range(len(schedule) - 1) if schedule[i] == schedule[i + 1])


@pytest.mark.parametrize(("answer", "sentence"), [
    (lambda s: FINAL_TABLE.get(s, len(s) // 2),
     "for (3, 3, 2, 6, 2, 6, 4, 4, 5, 5, 0, 0, 1, 1) you said the counter ends at 7; the "
     "simulator says 6"),
    (lambda s: len(set(s)), "for (0, 0, 1, 2, 1, 2) you said the counter ends at 3; the "
                            "simulator says 2"),
    (counts_uninterrupted_writers, "for (0, 0, 1, 2, 1, 2) you said the counter ends at 1; the "
                                   "simulator says 2"),
    (lambda s: FINAL_TABLE.get(s, 1) > 0, "you said the counter ends at True"),
])
def test_final_values_that_only_know_the_small_cases_fail(answer: Any, sentence: str) -> None:
    check_fails("final-value", answer, sentence)


def value_before(schedule: tuple[int, ...], step: int) -> int:
    """The counter before *step*: what the last earlier write's writer had read, plus one."""
    writes = [i for i in range(step) if schedule[i] in schedule[:i]]
    if not writes:
        return 0
    writer = schedule[writes[-1]]
    return value_before(schedule, schedule.index(writer)) + 1


def final_by_reduce(schedule: tuple[int, ...]) -> int:
    def step(state: tuple[int, dict[int, int]], writer: int) -> tuple[int, dict[int, int]]:
        value, reads = state
        if writer in reads:
            return reads[writer] + 1, reads
        return value, {**reads, writer: value}

    return functools.reduce(step, schedule, (0, {}))[0]


@pytest.mark.parametrize("answer", [lambda s: value_before(s, len(s)), final_by_reduce])
def test_other_correct_final_values_pass(answer: Any) -> None:
    result = exercise("final-value").check(answer)
    assert result.passed, result.message


def test_the_seeded_schedules_are_balanced_and_larger_than_the_table() -> None:
    from statelab.analysis import analyse
    from statelab.sim import run_schedule

    schedules = seeded_schedules(seed=3)
    assert all(4 <= len(set(s)) <= 8 for s in schedules)
    losing = sum(bool(analyse(run_schedule(s)).anomalies) for s in schedules)
    assert len(schedules) // 3 <= losing <= 2 * len(schedules) // 3
