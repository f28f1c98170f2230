"""Seeded delay distributions: network latency, think time, replication lag.

Every draw goes through ``random.Random.random()`` only, whose sequence Python keeps stable
across versions, so a simulated race replays byte for byte on every supported Python.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["KINDS", "Latency", "LatencyKind"]

LatencyKind = Literal["fixed", "uniform", "exponential"]
#: Each distribution's name, for callers that read one from text (a component's metadata).
KINDS: dict[str, LatencyKind] = {"fixed": "fixed", "uniform": "uniform",
                                 "exponential": "exponential"}


@dataclass(frozen=True)
class Latency:
    """A delay in milliseconds: ``fixed`` (low_ms), ``uniform`` (low_ms to high_ms) or
    ``exponential`` (low_ms plus an exponential tail of mean mean_ms)."""

    kind: LatencyKind = "uniform"
    low_ms: float = 1.0
    high_ms: float = 5.0
    mean_ms: float = 2.0

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "uniform", "exponential"):
            raise ValueError(f"unknown latency kind {self.kind!r}")
        if self.low_ms < 0 or self.mean_ms < 0 or (
                self.kind == "uniform" and self.high_ms < self.low_ms):
            raise ValueError("latency needs 0 <= low_ms <= high_ms and mean_ms >= 0")

    def draw_us(self, rng: random.Random) -> int:
        """One draw, in whole microseconds."""
        kind = self.kind
        if kind == "uniform":
            return round((self.low_ms + (self.high_ms - self.low_ms) * rng.random()) * 1000)
        if kind == "fixed":
            return round(self.low_ms * 1000)
        return round((self.low_ms - self.mean_ms * math.log(1.0 - rng.random())) * 1000)

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"{self.low_ms:g} ms"
        if self.kind == "uniform":
            return f"{self.low_ms:g}-{self.high_ms:g} ms"
        return f"{self.low_ms:g} ms + exp(mean {self.mean_ms:g} ms)"
