"""The simulator's clock: writers' requests as events on virtual time, replayed exactly.

An event queue ordered by (virtual time, sequence) drives the writers (see
:mod:`statelab.sim.writer`), and one seeded :class:`random.Random` draws every network leg, so
the same seed and parameters give the byte-identical history on every machine. Races
(:mod:`statelab.sim.race`) and replica scenarios (:mod:`statelab.sim.replication`) both run here.

A request leaves the client at *invoke*, is applied by the store after one network leg, and its
answer arrives after a second leg. If the two legs exceed the client's timeout, the client
records an indeterminate (``info``) outcome at the timeout, although the store did apply the
request: the reason a timed-out save must be re-read before it is retried.

:func:`call_store` is the only place the simulator calls into Dapr's semantics, and
:func:`single_store_service` the only place it builds the service it calls.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Callable
from typing import Any, Protocol

from statelab.analysis.history import History, Operation
from statelab.dapr.components import Component
from statelab.dapr.service import SaveItem, StateService
from statelab.errors import DaprError
from statelab.latency import Latency
from statelab.sim.writer import (
    Action,
    Answer,
    Get,
    Pending,
    Reply,
    Save,
    Sleep,
    WriterGen,
    build_operation,
    drive,
)
from statelab.stores.base import Store

__all__ = ["STORE_NAME", "Engine", "Routed", "call_store", "single_store_service"]

STORE_NAME = "statestore"


def single_store_service(store: Store) -> StateService:
    """A state service with one component, ``statestore``, served by *store*."""
    return StateService([Component.around(store, STORE_NAME)], app_id="myapp")


def call_store(service: StateService, action: Get | Save) -> Reply:
    """Send one read or save to the state service and describe its answer."""
    try:
        if isinstance(action, Save):
            service.save(STORE_NAME, [SaveItem(
                action.key, action.value, etag=action.etag, concurrency=action.concurrency,
                consistency=action.consistency)])
            return Reply(204, None, None)
        result = service.get(STORE_NAME, action.key, consistency=action.consistency)
    except DaprError as error:
        return Reply(error.status, None, None, error.error_code, error.message)
    if result is None:
        return Reply(204, None, None)
    body = result.data
    # Counters are plain integers: skip the JSON parser for them.
    value = int(body) if body.isdigit() and len(body) < 16 else json.loads(body)
    return Reply(200, result.etag, value)


class Routed(Protocol):
    """A store that says which node served the last read and how long the last write waited
    (the replicated store's strong writes wait for replicas)."""

    @property
    def last_node(self) -> str: ...

    @property
    def last_delay_us(self) -> int: ...


class Engine:
    """The event loop: a heap of (time, sequence, callback) driving writer generators.

    Give it an API, a network latency model, an optional client timeout and a seeded
    generator, then :meth:`run` it with one writer per client. *routed*, when given, is asked
    after each request which node served it and how long its answer was held back.
    *on_complete* sees each operation as its client receives it.
    """

    def __init__(self, service: StateService, latency: Latency, timeout_ms: float | None,
                 rng: random.Random, *, routed: Routed | None = None,
                 on_complete: Callable[[Operation], None] | None = None) -> None:
        self.service = service
        self.latency = latency
        self.timeout_us = None if timeout_ms is None else round(timeout_ms * 1000)
        self.rng = rng
        self.routed = routed
        self.on_complete = on_complete
        self.now = 0
        self.heap: list[tuple[int, int, Callable[[], None]]] = []
        self.sequence = itertools.count()
        self.operations: list[Operation | None] = []
        self.apply_order = itertools.count()

    def at(self, time_us: int, callback: Callable[[], None]) -> None:
        heapq.heappush(self.heap, (time_us, next(self.sequence), callback))

    def run(self, writers: list[WriterGen], meta: dict[str, Any]) -> History:
        for process, writer in enumerate(writers):
            self.at(0, _Client(self, process, writer).wake)
        while self.heap:
            self.now, _, callback = heapq.heappop(self.heap)
            callback()
        operations = [op for op in self.operations if op is not None]
        return History(operations=operations, meta=meta)


class _Client:
    """One writer on the engine: every action it yields is answered later, by an event."""

    __slots__ = ("engine", "perform", "process", "writer")

    def __init__(self, engine: Engine, process: int, writer: WriterGen) -> None:
        self.engine = engine
        self.process = process
        self.writer = writer
        self.perform = self._perform

    def wake(self) -> None:
        drive(self.writer, self.perform)

    def answer(self, op: Answer) -> None:
        drive(self.writer, self.perform, op)

    def _perform(self, action: Action) -> Pending:
        engine = self.engine
        if isinstance(action, Sleep):
            engine.at(engine.now + action.duration_us, self.wake)
        else:
            _Request(engine, self, action)
        return Pending.LATER


class _Request:
    """One request in flight: applied after one leg, answered after the other (or timed out)."""

    __slots__ = ("action", "applied_us", "arrival", "client", "done", "engine", "index",
                 "invoke", "leg_back", "node", "order", "reply")

    def __init__(self, engine: Engine, client: _Client, action: Get | Save) -> None:
        self.engine = engine
        self.client = client
        self.action = action
        self.index = len(engine.operations)
        engine.operations.append(None)
        self.invoke = engine.now
        leg_out = engine.latency.draw_us(engine.rng)
        self.leg_back = engine.latency.draw_us(engine.rng)
        self.done = False
        self.reply: Reply | None = None
        self.applied_us: int | None = None
        self.order: int | None = None
        self.node: str | None = None
        self.arrival = 0
        engine.at(self.invoke + leg_out, self.apply)
        if engine.timeout_us is not None:
            # The answer may come late (legs, or a strong write waiting for replicas).
            engine.at(self.invoke + engine.timeout_us, self.expire)

    def apply(self) -> None:
        engine = self.engine
        reply = self.reply = call_store(engine.service, self.action)
        wait = 0
        if engine.routed is not None:
            if isinstance(self.action, Get):
                self.node = engine.routed.last_node
            else:
                wait = engine.routed.last_delay_us
        self.applied_us = engine.now
        self.order = next(engine.apply_order)
        if self.done:  # the client already gave up: the store applies it anyway
            late = engine.operations[self.index]
            assert late is not None  # recorded when the client gave up
            late.applied_us, late.applied_order = self.applied_us, self.order
            late.applied_status = reply.status
            return
        self.arrival = engine.now + wait + self.leg_back
        timeout = engine.timeout_us
        if timeout is None or self.arrival - self.invoke <= timeout:
            engine.at(self.arrival, self.deliver)

    def deliver(self) -> None:
        self._finish(self.arrival, self.reply)

    def expire(self) -> None:
        assert self.engine.timeout_us is not None  # scheduled only with a timeout
        self._finish(self.invoke + self.engine.timeout_us, None)

    def _finish(self, at_us: int, reply: Reply | None) -> None:
        if self.done:
            return
        self.done = True
        engine = self.engine
        op = build_operation(self.index, self.client.process, self.action, self.invoke, at_us,
                             reply, self.applied_us)
        op.applied_order = self.order
        op.node = self.node
        if self.reply is not None:
            op.applied_status = self.reply.status
        if engine.on_complete is not None:
            engine.on_complete(op)
        engine.operations[self.index] = op
        self.client.answer(op)
