#!/usr/bin/env python3
"""Benchmark of statelab's Go JSON layer (``statelab/go/json.py``): prints figures, no targets.

Why: every save decodes its body and encodes its value here, so the iterative decoder and
encoders (which accept the 10000 levels Go accepts, with no recursion) must stay cheap on the
ordinary small values. It times, per call and as the median of several rounds:

* ``decode_into`` of a one-item save body (the C fast path) and of the same body with a
  trailing comma (the Go-error slow path);
* ``encode_fastest`` (Redis store) and ``encode_std`` (in-memory store) of a small object,
  of a string and of a list of 100 small objects;
* a save body nested 10000 levels: decode, both encoders and ``compact_raw`` (bulk get).

Usage: ``python bench/bench_gojson.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from statelab.go.json import (
    ANY,
    MAX_DEPTH,
    GoJSONError,
    SliceOf,
    Struct,
    compact_raw,
    decode_into,
    encode_fastest,
    encode_std,
)

SAVE = SliceOf(Struct("state.SetRequest", (("key", ANY), ("value", ANY))))


def per_call_us(func: Callable[[], Any], rounds: int, budget_s: float = 0.2) -> float:
    """The median over *rounds* of the mean time of one call, in microseconds."""
    calls = 1
    while True:  # size a round to about budget_s / rounds
        start = time.perf_counter()
        for _ in range(calls):
            func()
        if time.perf_counter() - start > budget_s / rounds or calls > 1_000_000:
            break
        calls *= 2
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def _bad_json() -> None:
    try:
        decode_into(b'[{"key":"k","value":{"a":1,"b":[1,2]}},]', SAVE)
    except GoJSONError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    small = {"name": "x", "n": 1.0, "tags": ["a", "b"], "ok": True}
    many = [dict(small, n=float(i)) for i in range(100)]
    deep_body = ("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()
    deep_value = decode_into(deep_body, ANY)
    rows = [
        ("decode a one-item save (fast path)",
         lambda: decode_into(b'[{"key":"k","value":{"a":1,"b":[1,2]}}]', SAVE)),
        ("decode a malformed save (Go's error)", _bad_json),
        ("encode_fastest small object", lambda: encode_fastest(small)),
        ("encode_std small object", lambda: encode_std(small)),
        ("encode_fastest string", lambda: encode_fastest("hello world")),
        ("encode_fastest 100 objects", lambda: encode_fastest(many)),
        ("encode_std 100 objects", lambda: encode_std(many)),
        (f"decode {MAX_DEPTH} levels", lambda: decode_into(deep_body, ANY)),
        (f"encode_fastest {MAX_DEPTH} levels", lambda: encode_fastest(deep_value)),
        (f"encode_std {MAX_DEPTH} levels", lambda: encode_std(deep_value)),
        (f"compact_raw {MAX_DEPTH} levels", lambda: compact_raw(deep_body)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  us/call (median of {rounds} rounds)")
    for name, func in rows:
        print(f"{name:<{width}}  {per_call_us(func, rounds):10.2f}")


if __name__ == "__main__":
    main()
