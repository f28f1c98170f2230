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


def test_without_threads_writers_take_turns_over_real_requests(
        sidecar: Sidecar, monkeypatch: pytest.MonkeyPatch) -> None:
    """A browser tab has no threads: the writers interleave in the caller's thread, a seeded
    draw picking the next one, so the same race sends the same requests in the same order."""
    import threading

    def no_threads(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_threads)
    race = Race(writers=4, increments=6, mode="last-write", seed=3)
    runs = [LiveRace(race, sidecar.url, threads=False) for _ in range(2)]
    histories = [live.start().wait(timeout=0) for live in runs]
    orders = [[(op.process, op.kind, op.status) for op in h.operations] for h in histories]
    assert orders[0] == orders[1]
    assert {op.process for op in histories[0].operations} == {0, 1, 2, 3}
    report = analyse(histories[0])
    assert report.successes == 24 and report.final_total < 24  # interleaved: updates lost

    careful = Race(writers=4, increments=6, mode="first-write", seed=3,
                   retry=RetryPolicy("backoff", base_ms=1, cap_ms=10))
    report = analyse(LiveRace(careful, sidecar.url, threads=False).run())
    assert report.final_total == report.expected == 24


def test_in_a_browser_the_default_is_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    from statelab.sim import live

    assert LiveRace(Race(), "http://x").threads
    monkeypatch.setattr(live, "in_browser", lambda: True)
    assert not LiveRace(Race(), "http://x").threads


def test_without_threads_errors_surface_through_wait() -> None:
    live = LiveRace(Race(writers=2, increments=1), "http://127.0.0.1:9", threads=False)
    with pytest.raises(httpx.ConnectError):
        live.run(timeout=0)
