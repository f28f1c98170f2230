"""The lost updates a timeline marks: the overwriting write and the writes it erased."""

from __future__ import annotations

from statelab.analysis.races import lost_updates
from statelab.render.lost_marks import LostMarks
from statelab.sim.race import Race


def test_marks_follow_the_checker() -> None:
    history = Race(writers=3, increments=2, mode="last-write", seed=1).run()
    found = lost_updates(history)
    marks = LostMarks.of(history)
    assert found and set(marks.overwrites) == {a.write_index for a, _ in found}
    assert set(marks.erased) == {i for a, _ in found for i in a.lost_indexes}
    assert all(marks.overwrites[a.write_index] == sentence for a, sentence in found)


def test_no_marks_under_first_write() -> None:
    history = Race(writers=3, increments=2, mode="first-write", seed=1).run()
    assert LostMarks.of(history) == LostMarks()
