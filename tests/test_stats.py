"""Latency percentiles: nearest rank, in milliseconds."""

from __future__ import annotations

from statelab.analysis.stats import percentile_ms


def test_nearest_rank_in_milliseconds() -> None:
    assert percentile_ms([], 0.5) == 0.0
    assert percentile_ms([3000, 1000, 2000], 0.5) == 2.0
    assert percentile_ms([1000, 2000], 0.5) == 1.0  # round half to even: rank 0
    assert percentile_ms(list(range(0, 100_000, 1000)), 0.99) == 98.0
    assert percentile_ms([5000], 0.0) == percentile_ms([5000], 1.0) == 5.0
