"""Races on virtual time: concurrent read-modify-write writers, replayed exactly from a seed.

A :class:`Race` describes writers that each increment a counter a number of times: read it (GET,
remembering the ETag), think, write ``value + 1`` back (a save) in one of three modes, and on a
conflict follow a :class:`RetryPolicy`. Every request goes through Dapr's state API (see
:mod:`statelab.sim.engine`), so a conflict here is the same 409 (status, ``errorCode`` and
message) a learner gets over HTTP.

One seeded :class:`random.Random` draws every latency, think time and jitter (only through
``random()``, whose output is fixed across Python versions), so the same seed and parameters
give the byte-identical :class:`~statelab.analysis.history.History` on every machine.

For speed the Redis profile runs on :class:`~statelab.stores.redis.model.RedisModelStore`
(``backend="model"``), proven answer-for-answer equal to the Lua scripts by a differential test;
``backend="fakeredis"`` runs the real scripts on the embedded server instead.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from statelab.analysis.history import History, Operation
from statelab.dapr.service import StateService
from statelab.latency import Latency
from statelab.sim.engine import Engine, call_store, single_store_service
from statelab.sim.writer import Get, Save, Sleep, WriterGen, build_operation

__all__ = [
    "MODES",
    "MODE_HELP",
    "Latency",
    "Race",
    "RetryPolicy",
    "increment_writer",
    "interleavings",
    "run_schedule",
]

Mode = Literal["last-write", "first-write", "etag-with-last-write"]
MODES: tuple[str, ...] = ("last-write", "first-write", "etag-with-last-write")
MODE_HELP = {
    "last-write": "no ETag: the naive read-modify-write, last writer wins",
    "first-write": "sends the ETag read, with concurrency=first-write: conflicts answer 409",
    "etag-with-last-write": "sends the ETag but asks for last-write: Redis ignores the ETag",
}
#: Per mode: does the save send the ETag read, and with which ``concurrency`` option.
_MODE_REQUEST: dict[str, tuple[bool, str]] = {
    "last-write": (False, ""),
    "first-write": (True, "first-write"),
    "etag-with-last-write": (True, "last-write"),
}
SAFETY_CAP = 1000  # attempts per increment, so a policy that never re-reads still ends


NO_THINK = Latency("fixed", 0.0, 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """What a writer does after a failed save (a 409, or a timeout).

    *kind*: ``none`` gives the increment up, ``immediate`` retries at once, ``fixed`` waits
    ``delay_ms``, ``backoff`` waits a random time in ``[0, min(cap_ms, base_ms * 2**n))``
    (exponential backoff with full jitter). *max_attempts* caps attempts per increment.
    *reread* False models the classic bug of resending the same body (and stale ETag).
    """

    kind: Literal["none", "immediate", "fixed", "backoff"] = "immediate"
    delay_ms: float = 5.0
    base_ms: float = 1.0
    cap_ms: float = 100.0
    max_attempts: int | None = None
    reread: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("none", "immediate", "fixed", "backoff"):
            raise ValueError(f"unknown retry policy {self.kind!r}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def allows(self, attempt: int) -> bool:
        """May a writer that just failed attempt number *attempt* try again?"""
        if self.kind == "none":
            return False
        cap = min(self.max_attempts or SAFETY_CAP, SAFETY_CAP)
        return attempt < cap

    def delay_us(self, failures: int, rng: random.Random) -> int:
        if self.kind == "fixed":
            return round(self.delay_ms * 1000)
        if self.kind == "backoff":
            ceiling = min(self.cap_ms, self.base_ms * 2.0 ** min(failures, 30))
            return round(ceiling * rng.random() * 1000)
        return 0

    def describe(self) -> str:
        text = {"none": "no retry", "immediate": "retry at once",
                "fixed": f"retry after {self.delay_ms:g} ms",
                "backoff": f"exponential backoff with jitter ({self.base_ms:g}-{self.cap_ms:g} ms)"
                }[self.kind]
        if self.max_attempts:
            text += f", at most {self.max_attempts} attempts"
        if not self.reread and self.kind != "none":
            text += ", resending the same body (no re-read)"
        return text


def _new_service(store: str, backend: str, seed: int) -> StateService:
    if store == "memory":
        from statelab.stores.memory import MemoryStore

        counter = itertools.count(1)
        etag_rng = random.Random(f"etags-{seed}")
        # Deterministic stand-ins for UUIDs: same shape, reproducible from the seed.
        return single_store_service(MemoryStore(
            clock_ms=lambda: 0, new_etag=lambda: _fake_uuid(etag_rng, next(counter))))
    if backend == "model":
        from statelab.stores.redis.model import RedisModelStore

        return single_store_service(RedisModelStore())
    if backend == "fakeredis":
        import fakeredis

        from statelab.stores.redis.store import RedisStore

        return single_store_service(
            RedisStore(fakeredis.FakeRedis(server=fakeredis.FakeServer())))
    raise ValueError(f"unknown backend {backend!r}: use 'model' or 'fakeredis'")


def _fake_uuid(rng: random.Random, number: int) -> str:
    digits = "".join("0123456789abcdef"[int(rng.random() * 16)] for _ in range(28))
    return (f"{number:04x}{digits[:4]}-{digits[4:8]}-4{digits[8:11]}-a{digits[11:14]}-"
            f"{digits[14:26]}")


@dataclass(frozen=True)
class Race:
    """A scenario: *writers* each add 1 to a counter *increments* times.

    Keys are ``counter-0`` ... ``counter-{keys-1}``; each increment picks one with the seeded
    generator. See :data:`MODE_HELP` for the modes; *store* is ``redis`` or ``memory``
    (Dapr's in-memory store, whose ETags are checked strictly).
    """

    writers: int = 2
    increments: int = 1
    keys: int = 1
    mode: Mode = "first-write"
    store: Literal["redis", "memory"] = "redis"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    latency: Latency = field(default_factory=Latency)
    think: Latency = NO_THINK
    timeout_ms: float | None = None
    seed: int = 0
    backend: Literal["model", "fakeredis"] = "model"

    def __post_init__(self) -> None:
        if self.writers < 1 or self.increments < 0 or self.keys < 1:
            raise ValueError("a race needs writers >= 1, increments >= 0 and keys >= 1")
        _check_mode_and_store(self.mode, self.store)
        if self.timeout_ms is not None and self.timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")

    def with_(self, **changes: Any) -> Race:
        """A copy with some parameters changed (``race.with_(mode="last-write")``)."""
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        data = asdict(self)
        return data

    def describe(self) -> str:
        return (f"{self.writers} writers x {self.increments} increments on {self.keys} key(s), "
                f"mode {self.mode} ({MODE_HELP[self.mode]}), {self.store} store, "
                f"{self.retry.describe()}, latency {self.latency.describe()}, seed {self.seed}")

    def run(self) -> History:
        """Run the race and return its history (``history.meta`` holds the parameters)."""
        rng = random.Random(self.seed)
        engine = Engine(_new_service(self.store, self.backend, self.seed), self.latency,
                        self.timeout_ms, rng)
        key_names = [f"counter-{i}" for i in range(self.keys)]
        writers = [increment_writer(self, rng, key_names) for _ in range(self.writers)]
        return engine.run(writers, {"race": self.params(), "seed": self.seed,
                                    "statelab_sim": 1})


def _check_mode_and_store(mode: str, store: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if store not in ("redis", "memory"):
        raise ValueError("store must be 'redis' or 'memory'")


def increment_writer(race: Race, rng: random.Random, key_names: list[str]) -> WriterGen:
    """One writer's read-modify-write loop, as a generator of requests and sleeps.

    It yields :class:`~statelab.sim.writer.Get`, ``Save`` and ``Sleep`` actions and receives
    each request's :class:`~statelab.analysis.history.Operation`. The simulator and the live mode
    (real HTTP, real threads) drive the very same generator, so both run the same client logic.
    """
    use_etag, concurrency = _MODE_REQUEST[race.mode]
    for number in range(1, race.increments + 1):
        key = key_names[int(rng.random() * race.keys)] if race.keys > 1 else key_names[0]
        attempt = 0
        failures = 0
        save: Save | None = None
        while True:
            attempt += 1
            if save is None or race.retry.reread:
                read = yield Get(key, attempt)
                while read is None or read.outcome == "info":  # timed out: just read again
                    read = yield Get(key, attempt)
                current = read.value if isinstance(read.value, (int, float)) else 0
                etag = read.etag_returned
                think = race.think.draw_us(rng)
                if think:
                    yield Sleep(think)
                save = Save(key, int(current) + 1, etag if use_etag else None, concurrency,
                             etag, number, attempt)
            if save.attempt != attempt:
                save = replace(save, attempt=attempt)
            result = yield save
            if result is not None and result.outcome == "ok":
                break
            failures += 1
            if not race.retry.allows(attempt):
                break
            delay = race.retry.delay_us(failures, rng)
            if delay:
                yield Sleep(delay)


# -- exhaustive mode ------------------------------------------------------------------------------

def run_schedule(schedule: tuple[int, ...], mode: Mode = "last-write",
                 store: Literal["redis", "memory"] = "redis") -> History:
    """Run writers that read then write once each, stepping them in the given order.

    *schedule* lists process numbers, each appearing twice (its read, then its write):
    ``(0, 1, 0, 1)`` is "A reads, B reads, A writes, B writes". Time advances 1 ms per step.
    """
    writers = max(schedule) + 1
    if any(schedule.count(p) != 2 for p in range(writers)):
        raise ValueError("each writer must appear exactly twice (its read, then its write)")
    _check_mode_and_store(mode, store)
    service = _new_service(store, "model", 0)
    use_etag, concurrency = _MODE_REQUEST[mode]
    reads: dict[int, Operation] = {}
    operations: list[Operation] = []
    for step, process in enumerate(schedule):
        now = step * 1000
        read = reads.get(process)
        action: Get | Save = Get("counter-0")
        if read is not None:
            current = read.value if isinstance(read.value, (int, float)) else 0
            action = Save("counter-0", int(current) + 1,
                          read.etag_returned if use_etag else None, concurrency,
                          based_on=read.etag_returned, increment=1)
        op = build_operation(step, process, action, now, now + 1000, call_store(service, action),
                             now)
        if read is None:
            reads[process] = op
        op.applied_order = step
        op.applied_status = op.status
        operations.append(op)
    meta = {"schedule": list(schedule), "mode": mode, "store": store, "statelab_sim": 1}
    return History(operations=operations, meta=meta)


def interleavings(writers: int = 2) -> list[tuple[int, ...]]:
    """Every order of *writers* read-then-write pairs: 6 for two writers, 90 for three."""
    steps = tuple(p for p in range(writers) for _ in range(2))
    seen: set[tuple[int, ...]] = set()
    for order in itertools.permutations(steps):
        seen.add(order)
    return sorted(seen)
