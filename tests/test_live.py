"""Live mode: real threads over HTTP; invariants instead of exact histories."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from statelab.analysis.races import analyse
from statelab.server.sidecar import Sidecar, start
from statelab.sim.live import LiveRace
from statelab.sim.race import Race, RetryPolicy


@pytest.fixture(scope="module")
def sidecar() -> Iterator[Sidecar]:
    running = start(0, "live-tests", quiet=True)
    yield running
    running.stop()


@pytest.mark.parametrize("store", ["redis", "memory"])
def test_first_write_with_rereads_loses_nothing_for_real(sidecar: Sidecar, store: str) -> None:
    race = Race(writers=4, increments=8, mode="first-write",
                retry=RetryPolicy("backoff", base_ms=1, cap_ms=10), seed=1)
    history = LiveRace(race, sidecar.url).run()
    report = analyse(history)
    assert report.final == {"counter-0": 32}
    assert report.successes == report.expected == 32
    assert history.meta["live"] is True


def test_last_write_final_value_never_exceeds_the_increments(sidecar: Sidecar) -> None:
    race = Race(writers=4, increments=8, mode="last-write", seed=1)
    seen: list[int] = []
    live = LiveRace(race, sidecar.url, on_operation=seen.append)
    report = analyse(live.run())
    assert report.successes == 32
    assert 1 <= report.final_total <= 32  # lost updates possible, never invented ones
    assert seen and seen[-1] == len(live.history())


def test_errors_surface_through_wait() -> None:
    live = LiveRace(Race(writers=1, increments=1), "http://127.0.0.1:9")
    with pytest.raises(httpx.ConnectError):  # nothing listens on port 9 (discard)
        live.run(timeout=30)
