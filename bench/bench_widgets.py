#!/usr/bin/env python3
"""How fast the race widgets answer a click (the target: under 0.5 s for the default run).

Measures, in this process and without a browser (the kernel's share of a click):

* the default click: ``RaceBoard().run_button.click()`` (8 writers x 20 increments,
  last-write), and the same click after switching the mode to first-write (about four times as
  many operations, because of the 409 retries);
* what one click costs, part by part: the simulation, the checks, the timeline base, the
  cursor overlay;
* a step (``forward_button.click()``), and a step in the zoomed view;
* the bytes sent to the browser: the base layer (after a run) and the overlay (per step);
* a ComparisonView and the default SweepChart.

The machine is shared and noisy: each figure is the median of several rounds.
Usage: ``python bench/bench_widgets.py [--rounds N]``. Nothing here is asserted; the unit tests
never time anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statelab.analysis.history import History  # noqa: E402 - needs the sys.path line
from statelab.analysis.races import RaceReport, analyse  # noqa: E402 - needs the sys.path line
from statelab.render.timeline import Timeline, default_title  # noqa: E402 - needs the sys.path line
from statelab.widgets import (  # noqa: E402 - needs the sys.path line
    DEFAULT_RACE,
    ComparisonView,
    RaceBoard,
    SweepChart,
)


def draw_base(history: History, report: RaceReport) -> str:
    return Timeline(history, report, title=default_title(history)).base()


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds

    start = time.perf_counter()
    board = RaceBoard()
    print(f"first RaceBoard() (imports warm, includes one run): "
          f"{(time.perf_counter() - start) * 1000:.0f} ms")

    rows = []
    for mode in ("last-write", "first-write"):
        board.controls.mode.value = mode
        click = median_ms(board.run_button.click, rounds)
        race = DEFAULT_RACE.with_(mode=mode)
        history = race.run()
        report = analyse(history)
        sim = median_ms(race.run, rounds)
        checks = median_ms(partial(analyse, history), rounds)
        base = median_ms(partial(draw_base, history, report), rounds)
        timeline = Timeline(history, report)
        timeline.base()
        overlay = median_ms(partial(timeline.overlay_svg, len(history) // 2), rounds * 10)
        board.seek(0)
        step = median_ms(board.forward_button.click, rounds * 10)
        board.zoom.value = 25
        zoom_step = median_ms(board.forward_button.click, rounds * 10)
        board.zoom.value = 0
        rows.append((mode, len(history), click, sim, checks, base, overlay, step, zoom_step,
                     len(board.base_view.value), len(board.overlay_view.value)))

    print(f"\nmedian of {rounds} rounds, milliseconds (8 writers x 20 increments)")
    print(f"{'mode':<12}{'ops':>6}{'CLICK':>8}{'sim':>7}{'checks':>8}{'base':>7}"
          f"{'overlay':>9}{'step':>7}{'zoomed':>8}{'base KB':>9}{'overlay B':>11}")
    for mode, ops, click, sim, checks, base, overlay, step, zoom_step, base_b, over_b in rows:
        print(f"{mode:<12}{ops:>6}{click:>8.1f}{sim:>7.1f}{checks:>8.1f}{base:>7.1f}"
              f"{overlay:>9.2f}{step:>7.2f}{zoom_step:>8.2f}{base_b / 1024:>9.0f}{over_b:>11}")
    default_click = rows[0][2]
    print(f"\ndefault click (RaceBoard().run_button.click()): {default_click:.1f} ms "
          f"(target < 500 ms)")

    compare = median_ms(lambda: ComparisonView(), max(1, rounds // 2))
    sweep = median_ms(lambda: SweepChart(), 1)
    print(f"ComparisonView() (last-write | first-write): {compare:.0f} ms")
    print(f"SweepChart() (first-write, 1..128 writers, <=160 increments a point): {sweep:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
