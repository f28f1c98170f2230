"""The latency price of strong writes, as the replica count and the replication lag grow.

Runs the replication scenario on virtual time (so the figures are the model's, identical on
every machine) and prints write latency p50/p99 for eventual and strong consistency, the
strong/eventual ratio, and how many eventual reads were stale. Also prints the wall time the
whole sweep took on this machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from statelab.analysis.consistency import consistency_report  # noqa: E402 - after sys.path
from statelab.sim.replication import ReplicaScenario  # noqa: E402 - after sys.path
from statelab.stores.replicated import LagModel  # noqa: E402 - after sys.path


def main() -> int:
    start = time.perf_counter()
    print(f"{'replicas':>8} {'lag ms':>10} {'eventual p50/p99':>18} {'strong p50/p99':>18} "
          f"{'strong/eventual':>15} {'stale eventual reads':>21}")
    for replicas in (1, 2, 3, 5):
        for low, high in ((1, 5), (5, 50), (20, 200)):
            base = ReplicaScenario(replicas=replicas, lag=LagModel("uniform", low, high),
                                   writers=2, readers=3, writes=40, reads=80, seed=1)
            eventual = consistency_report(base.run())
            strong = consistency_report(base.with_(consistency="strong").run())
            ratio = strong.write_latency_p50_ms / eventual.write_latency_p50_ms
            print(f"{replicas:8d} {f'{low}-{high}':>10} "
                  f"{eventual.write_latency_p50_ms:8.1f}/{eventual.write_latency_p99_ms:<9.1f} "
                  f"{strong.write_latency_p50_ms:8.1f}/{strong.write_latency_p99_ms:<9.1f} "
                  f"{ratio:15.1f} {len(eventual.stale_reads):>10d} of {eventual.reads:<7d}")
    print(f"\nwall time for the sweep: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
