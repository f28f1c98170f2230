"""Latency figures, computed one way for every report."""

from __future__ import annotations

__all__ = ["percentile_ms"]


def percentile_ms(values_us: list[int], fraction: float) -> float:
    """The nearest-rank *fraction* percentile of durations in microseconds, in milliseconds
    (0.0 for no values). Nearest-rank, not interpolated: every figure is one a request took."""
    if not values_us:
        return 0.0
    ordered = sorted(values_us)
    rank = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[rank] / 1000
