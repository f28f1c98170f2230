"""The race board's settings: the race they describe, and a race put back into them."""

from __future__ import annotations

from statelab.sim.race import MODE_HELP, Latency, Race, RetryPolicy
from statelab.widgets.race_controls import DEFAULT_RACE, RaceControls, race_from_meta


def test_controls_round_trip_a_race() -> None:
    race = Race(writers=40, increments=3, mode="first-write", store="memory", seed=9,
                retry=RetryPolicy("backoff", reread=False), latency=Latency("uniform", 2, 30))
    controls = RaceControls(DEFAULT_RACE)
    controls.show(race)
    assert controls.writers.max >= 40 and controls.latency.max >= 30
    assert controls.race(DEFAULT_RACE) == DEFAULT_RACE.with_(
        writers=40, increments=3, mode="first-write", store="memory", seed=9,
        retry=RetryPolicy("backoff", reread=False),
        latency=Latency(DEFAULT_RACE.latency.kind, 2.0, 30.0))


def test_mode_help_follows_the_mode_and_changes_are_reported() -> None:
    controls = RaceControls(DEFAULT_RACE)
    changes: list[int] = []
    controls.on_change(lambda: changes.append(1))
    controls.mode.value = "first-write"
    assert controls.mode.tooltip == MODE_HELP["first-write"]
    assert "409" in controls.mode_help.value
    controls.increments.value = 0
    assert changes == [1, 1]
    assert controls.race(DEFAULT_RACE).increments == 0


def test_race_from_meta() -> None:
    history = Race(writers=2, increments=1, seed=4, retry=RetryPolicy("fixed")).run()
    assert race_from_meta(history.meta) == Race(writers=2, increments=1, seed=4,
                                                retry=RetryPolicy("fixed"))
    assert race_from_meta({}) is None
    assert race_from_meta({"race": {"writers": "many", "nope": 1}}) is None
