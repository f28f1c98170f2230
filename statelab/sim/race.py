"""Races on virtual time: concurrent read-modify-write writers, replayed exactly from a seed.

A :class:`Race` describes writers that each increment a counter a number of times: read it (GET,
remembering the ETag), think, write ``value + 1`` back (a save) in one of three modes, and on a
conflict follow a :class:`RetryPolicy`. Every request goes through :class:`statelab.dapr.http.StateAPI`,
so a conflict here is the same 409 (status, ``errorCode`` and message) a learner gets over HTTP.

Nothing runs on real threads or clocks: an event queue ordered by (virtual time, sequence)
drives the writers, and one seeded :class:`random.Random` draws every latency, think time and
jitter (only through ``random()``, whose output is fixed across Python versions). The same seed
and parameters therefore give the byte-identical :class:`~statelab.analysis.history.History` on every
machine.

A request leaves the client at *invoke*, is applied by the store after one network leg, and its
answer arrives after a second leg. If the two legs exceed ``timeout_ms``, the client records an
indeterminate (``info``) outcome at the timeout, although the store did apply the request: the
reason a timed-out save must be re-read before it is retried.

For speed the Redis profile runs on :class:`~statelab.stores.redis.model.RedisModelStore`
(``backend="model"``), proven answer-for-answer equal to the Lua scripts by a differential test;
``backend="fakeredis"`` runs the real scripts on the embedded server instead.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from statelab.analysis.history import History, Operation
from statelab.dapr.components import Component
from statelab.dapr.http import Response, StateAPI
from statelab.latency import Latency

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
STORE_NAME = "statestore"
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
            ceiling = min(self.cap_ms, self.base_ms * 2 ** min(failures, 30))
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


# -- the writers' requests, as yielded by their generators ---------------------------------------

@dataclass(frozen=True)
class _Get:
    key: str
    attempt: int = 1
    consistency: str = ""


@dataclass(frozen=True)
class _Save:
    key: str
    value: Any
    etag: str | None
    concurrency: str
    based_on: str | None
    increment: int
    attempt: int = 1
    consistency: str = ""


@dataclass(frozen=True)
class _Sleep:
    duration_us: int


Action = Any  # _Get | _Save | _Sleep
WriterGen = Generator[Action, Any, None]


def _new_api(store: str, backend: str, seed: int) -> StateAPI:
    component = Component(name=STORE_NAME, type="state.redis" if store == "redis"
                          else "state.in-memory", version="v1", metadata={}, source="(sim)")
    if store == "memory":
        from statelab.stores.memory import MemoryStore

        counter = itertools.count(1)
        etag_rng = random.Random(f"etags-{seed}")
        # Deterministic stand-ins for UUIDs: same shape, reproducible from the seed.
        component.store = MemoryStore(
            clock_ms=lambda: 0,
            new_etag=lambda: _fake_uuid(etag_rng, next(counter)))
    elif backend == "model":
        from statelab.stores.redis.model import RedisModelStore

        component.store = RedisModelStore()
    elif backend == "fakeredis":
        import fakeredis

        from statelab.stores.redis.store import RedisStore

        component.store = RedisStore(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
    else:
        raise ValueError(f"unknown backend {backend!r}: use 'model' or 'fakeredis'")
    return StateAPI([component], app_id="myapp")


def _fake_uuid(rng: random.Random, number: int) -> str:
    digits = "".join("0123456789abcdef"[int(rng.random() * 16)] for _ in range(28))
    return f"{number:04x}{digits[:4]}-{digits[4:8]}-4{digits[8:11]}-a{digits[11:14]}-{digits[14:26]}"


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
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.store not in ("redis", "memory"):
            raise ValueError("store must be 'redis' or 'memory'")
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
        engine = _Engine.for_race(self)
        key_names = [f"counter-{i}" for i in range(self.keys)]
        writers = [increment_writer(self, engine.rng, key_names) for _ in range(self.writers)]
        return engine.run(writers, {"race": self.params(), "seed": self.seed,
                                    "statelab_sim": 1})


def increment_writer(race: Race, rng: random.Random, key_names: list[str]) -> WriterGen:
    """One writer's read-modify-write loop, as a generator of requests and sleeps.

    It yields ``_Get``/``_Save``/``_Sleep`` actions and receives each request's
    :class:`~statelab.analysis.history.Operation`. The simulator and the live mode (real HTTP, real
    threads) drive the very same generator, so both run the same client logic.
    """
    use_etag = race.mode != "last-write"
    concurrency = {"last-write": "", "first-write": "first-write",
                   "etag-with-last-write": "last-write"}[race.mode]
    for number in range(1, race.increments + 1):
        key = key_names[int(rng.random() * race.keys)] if race.keys > 1 else key_names[0]
        attempt = 0
        failures = 0
        save: _Save | None = None
        while True:
            attempt += 1
            if save is None or race.retry.reread:
                read = yield _Get(key, attempt)
                while read.outcome == "info":  # a read that timed out: just read again
                    read = yield _Get(key, attempt)
                current = read.value if isinstance(read.value, (int, float)) else 0
                etag = read.etag_returned
                think = race.think.draw_us(rng)
                if think:
                    yield _Sleep(think)
                save = _Save(key, int(current) + 1, etag if use_etag else None, concurrency,
                             etag, number, attempt)
            if save.attempt != attempt:
                save = _Save(save.key, save.value, save.etag, save.concurrency,
                             save.based_on, save.increment, attempt)
            result = yield save
            if result.outcome == "ok":
                break
            failures += 1
            if not race.retry.allows(attempt):
                break
            delay = race.retry.delay_us(failures, rng)
            if delay:
                yield _Sleep(delay)


class _Engine:
    """The event loop: a heap of (time, sequence, callback) driving client generators.

    It is shared by :class:`Race` and by the replication scenarios: give it an API, a network
    latency model, an optional client timeout and a seeded generator, then :meth:`run` it with
    one generator per client. A store that reports waiting (the replicated store's strong
    writes) delays the answer by ``store.last_delay_us``.
    """

    def __init__(self, api: StateAPI, latency: Latency, timeout_ms: float | None,
                 rng: random.Random, *, delay_source: Any = None,
                 on_complete: Callable[[Operation], None] | None = None) -> None:
        self.api = api
        self.latency = latency
        self.timeout_us = None if timeout_ms is None else round(timeout_ms * 1000)
        self.rng = rng
        self.delay_source = delay_source
        self.on_complete = on_complete
        self.now = 0
        self.heap: list[tuple[int, int, Callable[[], None]]] = []
        self.sequence = itertools.count()
        self.operations: list[Operation | None] = []
        self.apply_order = itertools.count()

    @classmethod
    def for_race(cls, race: Race) -> _Engine:
        return cls(_new_api(race.store, race.backend, race.seed), race.latency, race.timeout_ms,
                   random.Random(race.seed))

    def at(self, time_us: int, callback: Callable[[], None]) -> None:
        heapq.heappush(self.heap, (time_us, next(self.sequence), callback))

    def run(self, clients: list[WriterGen], meta: dict[str, Any]) -> History:
        for process, client in enumerate(clients):
            self.at(0, lambda c=client, p=process: self._step(p, c, None))
        while self.heap:
            self.now, _, callback = heapq.heappop(self.heap)
            callback()
        operations = [op for op in self.operations if op is not None]
        return History(operations=operations, meta=meta)

    # -- writers -----------------------------------------------------------------------------

    def _step(self, process: int, writer: WriterGen, answer: Any) -> None:
        try:
            action = writer.send(answer)
        except StopIteration:
            return
        if isinstance(action, _Sleep):
            self.at(self.now + action.duration_us, lambda: self._step(process, writer, None))
            return
        self._invoke(process, writer, action)

    # -- requests ----------------------------------------------------------------------------

    def _invoke(self, process: int, writer: WriterGen, action: Any) -> None:
        index = len(self.operations)
        self.operations.append(None)
        attempt = action.attempt
        invoke = self.now
        leg_out = self.latency.draw_us(self.rng)
        leg_back = self.latency.draw_us(self.rng)
        timeout = self.timeout_us
        state: dict[str, Any] = {"done": False}

        def apply() -> None:
            if isinstance(action, _Get):
                params = {"consistency": action.consistency} if action.consistency else None
                response = self.api.get(STORE_NAME, action.key, params)
                if self.delay_source is not None:
                    state["node"] = self.delay_source.last_node
            else:
                response = self.api.save(STORE_NAME, [_body(action)])
                if self.delay_source is not None:
                    state["wait"] = self.delay_source.last_delay_us
            state["response"] = response
            state["applied"] = self.now
            state["order"] = next(self.apply_order)
            if state["done"]:  # the client already gave up: the store applies it anyway
                late = self.operations[index]
                assert late is not None
                late.applied_us, late.applied_order = self.now, state["order"]
                late.applied_status = response.status
                return
            arrival = self.now + state.get("wait", 0) + leg_back
            if timeout is None or arrival - invoke <= timeout:
                self.at(arrival, lambda: finish(arrival, response))

        def finish(at_us: int, response: Response | None) -> None:
            if state["done"]:
                return
            state["done"] = True
            op = self._record(index, process, action, invoke, at_us, response,
                              state.get("applied"), attempt)
            op.applied_order = state.get("order")
            op.node = state.get("node", op.node)
            if "response" in state:
                op.applied_status = state["response"].status
            if self.on_complete is not None:
                self.on_complete(op)
            self.operations[index] = op
            self._step(process, writer, op)

        self.at(invoke + leg_out, apply)
        if timeout is not None:
            # The answer may come late (legs, or a strong write waiting for replicas).
            self.at(invoke + timeout, lambda: finish(invoke + timeout, None))

    def _record(self, index: int, process: int, action: Any, invoke: int, complete: int,
                response: Response | None, applied: int | None, attempt: int) -> Operation:
        kind = "read" if isinstance(action, _Get) else "write"
        if response is None:
            return Operation(index=index, process=process, kind=kind, key=action.key,
                             invoke_us=invoke, complete_us=complete, outcome="info",
                             value=None if kind == "read" else action.value,
                             etag_sent=getattr(action, "etag", None), applied_us=applied,
                             based_on=getattr(action, "based_on", None),
                             increment=getattr(action, "increment", 0), attempt=attempt)
        error_code = message = None
        if response.error is not None:
            error_code, message = response.error.error_code, response.error.message
        consistency = action.consistency or None
        if kind == "read":
            value = None
            if response.status == 200:
                body = response.body
                # Counters are plain integers: skip the JSON parser for them.
                value = int(body) if body.isdigit() and len(body) < 16 else response.json()
            node = None  # set from the store when it is replicated (see _invoke)
            return Operation(index=index, process=process, kind="read", key=action.key,
                             invoke_us=invoke, complete_us=complete,
                             outcome="ok" if response.ok else "fail", status=response.status,
                             error_code=error_code, value=value, etag_returned=response.etag,
                             applied_us=applied, message=message, attempt=attempt,
                             consistency=consistency, node=node)
        return Operation(index=index, process=process, kind="write", key=action.key,
                         invoke_us=invoke, complete_us=complete,
                         outcome="ok" if response.ok else "fail", status=response.status,
                         error_code=error_code, value=action.value, etag_sent=action.etag,
                         applied_us=applied, based_on=action.based_on,
                         increment=action.increment, message=message, attempt=attempt,
                         consistency=consistency)


def _body(action: _Save) -> dict[str, Any]:
    item: dict[str, Any] = {"key": action.key, "value": action.value}
    if action.etag is not None:
        item["etag"] = action.etag
    options = {}
    if action.concurrency:
        options["concurrency"] = action.concurrency
    if action.consistency:
        options["consistency"] = action.consistency
    if options:
        item["options"] = options
    return item


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
    race = Race(writers=writers, increments=1, mode=mode, store=store, seed=0,
                retry=RetryPolicy("none"), latency=Latency("fixed", 0.0, 0.0))
    api = _new_api(store, "model", 0)
    use_etag = mode != "last-write"
    concurrency = {"last-write": "", "first-write": "first-write",
                   "etag-with-last-write": "last-write"}[mode]
    engine = _Engine.for_race(race)
    reads: dict[int, Operation] = {}
    operations: list[Operation] = []
    for step, process in enumerate(schedule):
        now = step * 1000
        if process not in reads:
            response = api.get(STORE_NAME, "counter-0")
            op = engine._record(step, process, _Get("counter-0"), now, now + 1000, response,
                                now, 1)
            reads[process] = op
        else:
            read = reads[process]
            current = read.value if isinstance(read.value, (int, float)) else 0
            save = _Save("counter-0", int(current) + 1,
                         read.etag_returned if use_etag else None, concurrency,
                         based_on=read.etag_returned, increment=1)
            response = api.save(STORE_NAME, [_body(save)])
            op = engine._record(step, process, save, now, now + 1000, response, now, 1)
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
