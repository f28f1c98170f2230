"""Notebook 03's exercises: predict, without running anything, what an interleaving does.

The truth comes from the simulator (:func:`statelab.sim.run_schedule`) and its analysis, not
from a formula written here, so the exercise and the tour the learner just stepped through can
never disagree. Every schedule of two and three writers is checked, then seeded schedules of
four to eight writers: a table of the small cases (or a rule that only looks at writers A and
B) fails there, and any correct formulation passes, because only the answers are compared.
The seeded schedules mix three kinds, so that no shortcut on the schedule's length or order
passes: writers one after the other in a shuffled order (nothing lost), the same with one or
two neighbouring steps swapped, and fully shuffled steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from statelab.analysis import analyse
from statelab.exercises.framework import CheckFailed, Exercise, register, run_answer
from statelab.sim import interleavings, run_schedule

#: How many seeded schedules of 4 to 8 writers follow the exhaustive small ones.
SEEDED = 60


def seeded_schedules(seed: int, count: int = SEEDED) -> list[tuple[int, ...]]:
    """*count* schedules of 4 to 8 writers: serial ones (writers one after the other, in a
    shuffled order), serial ones with one or two neighbouring steps swapped, and shuffles."""
    rng = random.Random(seed)
    schedules = []
    for number in range(count):
        order = list(range(rng.randint(4, 8)))
        rng.shuffle(order)
        steps = [writer for writer in order for _ in range(2)]
        if number % 3 == 1:
            for _ in range(rng.randint(1, 2)):
                at = rng.randrange(len(steps) - 1)
                steps[at], steps[at + 1] = steps[at + 1], steps[at]
        elif number % 3 == 2:
            rng.shuffle(steps)
        schedules.append(tuple(steps))
    return schedules


def _said(schedule: tuple[int, ...]) -> str:
    """``A reads, B reads, A writes, B writes``: a schedule step by step."""
    return ", ".join(f"{chr(65 + p)} {'reads' if schedule[:i].count(p) == 0 else 'writes'}"
                     for i, p in enumerate(schedule))


def _check_predict(fn: Callable[..., Any]) -> str:
    schedules = [*interleavings(2), *interleavings(3), *seeded_schedules(seed=3)]
    for schedule in schedules:
        report = analyse(run_schedule(schedule))
        truth = bool(report.anomalies)
        got = run_answer(fn, schedule)
        if bool(got) != truth:
            writers = len(set(schedule))
            raise CheckFailed(f"for {schedule} ({_said(schedule)}) you said {bool(got)}, but "
                              f"it {'does' if truth else 'does not'} lose an update: the "
                              f"counter ends at {report.final_total} with {writers} writers")
    return (f"all 6 two-writer and 90 three-writer schedules, and {SEEDED} seeded schedules "
            "of 4 to 8 writers, predicted correctly.")


register(Exercise(
    id="predict-lost-update", notebook="03-lose-an-update",
    title="Predict which interleavings lose an update",
    task="""
    Each writer reads the counter, then writes back what it read plus one, without an ETag.
    A schedule lists who moves next: `(0, 1, 0, 1)` means A reads, B reads, A writes,
    B writes. Write `loses_update(schedule)` that returns True when the final value is less
    than the number of writers.
    """,
    hints=("A writer's update survives only if nobody else wrote between its read and its "
           "write... or is that enough?",
           "Walk the schedule: the first step of a writer is its read, the second its write. "
           "Keep the value each writer read and the current value.",
           "Simulate it: value = 0; seen = {}; for p in schedule: if p not in seen: seen[p] = "
           "value else: value = seen[p] + 1. Then compare value with the number of writers."),
    solution_code="""
    def loses_update(schedule):
        value, seen = 0, {}
        for writer in schedule:
            if writer not in seen:
                seen[writer] = value          # its read
            else:
                value = seen[writer] + 1      # its write, built on what it read
        return value < len(seen)
    """,
    checker=_check_predict))


def _check_final_value(fn: Callable[..., Any]) -> str:
    schedules = [*interleavings(3), *interleavings(2), *seeded_schedules(seed=4)]
    for schedule in schedules:
        truth = analyse(run_schedule(schedule)).final_total
        got = run_answer(fn, schedule)
        if got != truth or isinstance(got, bool):
            raise CheckFailed(f"for {schedule} you said the counter ends at {got!r}; the "
                              f"simulator says {truth}")
    return (f"the final value of all 90 three-writer and 6 two-writer schedules, and of {SEEDED} "
            "seeded schedules of 4 to 8 writers, predicted correctly.")


register(Exercise(
    id="final-value", notebook="03-lose-an-update",
    title="Predict the final value of the counter",
    task="""
    With the same writers, write `final_value(schedule)` returning the counter's value after
    the schedule ran (it starts missing, which reads as 0).
    """,
    hints=("It is the value written by the last write of the schedule.",
           "The last writer wrote what it had read plus one.",
           "Track what each writer read; the answer is the last write's read + 1."),
    solution_code="""
    def final_value(schedule):
        value, seen = 0, {}
        for writer in schedule:
            if writer not in seen:
                seen[writer] = value
            else:
                value = seen[writer] + 1
        return value
    """,
    checker=_check_final_value))
