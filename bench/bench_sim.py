"""Simulator benchmark: simulated requests per second and wall time of the race-lab scenarios.

Prints, from one run on this machine:
- simulator throughput (simulated requests per second) on the default fast Redis model, and
  on the Lua scripts over fakeredis for comparison;
- wall time of a 32-writer x 50-increment first-write race with exponential backoff, and of a
  128-writer one;
- wall time of the sweep behind the comparison chart (1 to 128 writers).
Targets (issue: race lab): >= 20,000 simulated requests/s; the 32-writer race under 2 s.
Each figure is the median of a few repetitions; the machine is shared, so expect noise.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statelab.analysis.races import analyse  # noqa: E402 - after sys.path
from statelab.sim.race import Race, RetryPolicy  # noqa: E402 - after sys.path

BACKOFF = RetryPolicy("backoff", base_ms=1.0, cap_ms=100.0)


def timed(race: Race, repeat: int) -> tuple[float, int]:
    """Median wall seconds over *repeat* runs, and the number of simulated requests."""
    times = []
    requests = 0
    for _ in range(repeat):
        start = time.perf_counter()
        history = race.run()
        times.append(time.perf_counter() - start)
        requests = len(history)
    return statistics.median(times), requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{__import__('os').cpu_count()} cores; median of {repeat} run(s)\n")

    rows = []
    race32 = Race(writers=32, increments=50, mode="first-write", retry=BACKOFF, seed=1)
    seconds, requests = timed(race32, repeat)
    rate = requests / seconds
    rows.append(("32 writers x 50, first-write, backoff (model)", requests, seconds, rate))
    lua_seconds, lua_requests = timed(race32.with_(writers=8, increments=20,
                                                   backend="fakeredis"), 1)
    rows.append(("8 writers x 20, first-write, backoff (Lua on fakeredis)", lua_requests,
                 lua_seconds, lua_requests / lua_seconds))
    race128 = race32.with_(writers=128)
    s128, r128 = timed(race128, 1)
    rows.append(("128 writers x 50, first-write, backoff (model)", r128, s128, r128 / s128))
    last = race32.with_(mode="last-write")
    sl, rl = timed(last, repeat)
    rows.append(("32 writers x 50, last-write (model)", rl, sl, rl / sl))

    sweep_start = time.perf_counter()
    sweep_requests = 0
    for writers in (1, 2, 4, 8, 16, 32, 64, 128):
        history = race32.with_(writers=writers, increments=20).run()
        analyse(history)
        sweep_requests += len(history)
    sweep = time.perf_counter() - sweep_start
    rows.append(("sweep 1..128 writers x 20 (+ analysis)", sweep_requests, sweep,
                 sweep_requests / sweep))

    print(f"{'scenario':58} {'requests':>9} {'wall s':>8} {'req/s':>9}")
    for name, count, wall, per_second in rows:
        print(f"{name:58} {count:9d} {wall:8.3f} {per_second:9.0f}")
    print()
    ok_rate = rate >= 20000
    ok_32 = seconds < 2.0
    print(f"target: simulator >= 20,000 requests/s: {rate:,.0f}  {'PASS' if ok_rate else 'FAIL'}")
    print(f"target: 32-writer race under 2 s: {seconds:.3f} s  {'PASS' if ok_32 else 'FAIL'}")
    print(f"ratio: model vs Lua on fakeredis: {rate / (lua_requests / lua_seconds):.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
