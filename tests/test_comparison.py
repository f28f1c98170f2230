"""The comparison view: the same race under several modes, on one time scale."""

from __future__ import annotations

import pytest

from statelab.sim.race import Race
from statelab.widgets.comparison import ComparisonView


def test_comparison_view() -> None:
    race = Race(writers=4, increments=5, seed=3)
    view = ComparisonView(race)
    assert view.modes == ("last-write", "first-write")
    assert view.reports["last-write"].lost > 0 and view.reports["first-write"].lost == 0
    assert view.histories["first-write"].meta["race"]["seed"] == 3
    ranges = {t.layout.full_range for t in view.timelines.values()}
    assert len(ranges) == 1  # one time scale for both
    text = repr(view)
    assert text.startswith("ComparisonView: 4 writers x 5 increments") and "seed 3" in text
    assert "[last-write]" in text and "[first-write]" in text
    again = ComparisonView(race)._repr_mimebundle_()
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == again["text/plain"]
    assert bundle["text/html"] == again["text/html"]
    assert bundle["text/html"].count("<svg") == 3  # the legend and two timelines
    with pytest.raises(ValueError, match="unknown mode"):
        ComparisonView(race, modes=("nope",))

