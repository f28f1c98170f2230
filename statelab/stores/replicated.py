"""A replicated store (``state.replicated``): a primary and N replicas, to make consistency visible.

**This is a teaching profile, not a Dapr component.** Dapr's Redis store only issues Redis
``WAIT`` after a strong write (spec §11.5), and with one local Redis the ``consistency`` option
changes nothing you can see. Stores that replicate, the way Cosmos DB or Cassandra do, give the
option its meaning, and this profile shows that meaning honestly:

* every write is applied on the **primary**, which holds the Redis store's semantics (versions
  as ETags, the sticky first-write flag); ETags are always checked there, so a stale ETag read
  from a replica makes the following first-write save fail with 409;
* each write then reaches every replica after a lag drawn from a seeded distribution, in order
  (a replication stream is FIFO);
* ``eventual`` writes answer as soon as the primary applied them; ``strong`` writes answer only
  once every replica (or a configured quorum) has acknowledged, so their latency shows the cost;
  if the quorum is not reached within ``ackTimeoutMs`` the write stays on the primary and the
  client gets an error;
* ``eventual`` reads are served by a replica chosen by the seeded generator, so they can be
  stale; ``strong`` reads are served by the primary. The answer's metadata says which node
  served it (``Metadata.replica`` on the wire).

Replicas can be paused (frozen: no updates, no reads), partitioned (cut from the primary: no
updates, but clients that reach them still read) and resumed (they catch up).

Time comes from a clock: real time in the sidecar, virtual time in the simulator. In the sidecar
a strong write really waits: on the doors' event loops with ``asyncio.sleep``
(:class:`AsyncReplicatedStore`, which serves other requests meanwhile), with ``time.sleep`` for
synchronous callers (outside the store's lock); in the simulator the store only *reports* the
wait and the event loop delays the answer; on a clock of your own (the exercises' labs), pass a
function as *wait* and the store calls it with each wait, so that clock moves on by it before
the write answers. The writes return an :class:`Acknowledgement` (how long to wait, and the
error to answer then) so that each caller waits its own way.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from statelab.latency import Latency
from statelab.stores.base import (
    DeleteRequest,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.model import RedisModelStore

__all__ = ["Acknowledgement", "AsyncReplicatedStore", "LagModel", "Replica", "ReplicatedStore"]

REPLICATED_FEATURES = ("ETAG", "TRANSACTIONAL")


#: Replication lag uses the same seeded distributions as network latency.
LagModel = Latency
DEFAULT_LAG = Latency("uniform", 5.0, 50.0, 20.0)


@dataclass
class Replica:
    """One lagging copy: its data, the replication stream still in flight, and its faults."""

    name: str
    data: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    # (arrival time, key, entry or None for a delete, the delivery's log record)
    pending: deque[tuple[int, str, tuple[bytes, int] | None, dict[str, Any]]] = field(
        default_factory=deque)
    last_delivery_us: int = 0
    paused: bool = False
    partitioned: bool = False

    @property
    def connected(self) -> bool:
        return not (self.paused or self.partitioned)

    def catch_up(self, now_us: int) -> None:
        """Apply every replicated write that has arrived by *now_us* (none while cut off)."""
        if not self.connected:
            return
        while self.pending and self.pending[0][0] <= now_us:
            _, key, entry, _record = self.pending.popleft()
            if entry is None:
                self.data.pop(key, None)
            else:
                self.data[key] = entry


@dataclass(frozen=True)
class Acknowledgement:
    """How a write answers: after *delay_us* microseconds of waiting for the replicas (None:
    at once), with *error* (None: success)."""

    delay_us: int | None = None
    error: StoreError | None = None


_AT_ONCE = Acknowledgement()


class _WallClock:
    def __init__(self) -> None:
        self._start = time.monotonic_ns()

    def __call__(self) -> int:
        return (time.monotonic_ns() - self._start) // 1000


class ReplicatedStore:
    """A primary with Redis semantics plus *replicas* lagging copies (see the module docs)."""

    features: ClassVar[tuple[str, ...]] = REPLICATED_FEATURES
    note: ClassVar[str | None] = None

    def __init__(self, *, replicas: int = 2, lag: Latency | None = None,
                 write_quorum: int | None = None, ack_timeout_ms: float = 1000.0,
                 seed: int = 0, clock_us: Callable[[], int] | None = None,
                 wait: Literal["sleep", "report"] | Callable[[int], None] = "sleep"
                 ) -> None:
        if replicas < 0:
            raise ValueError("replicas must be 0 or more")
        quorum = replicas if write_quorum is None else write_quorum
        if not 0 <= quorum <= replicas:
            raise ValueError(f"write quorum must be between 0 and {replicas}")
        self.primary = RedisModelStore()
        self.replicas = [Replica(f"replica-{i + 1}") for i in range(replicas)]
        self.lag = lag or DEFAULT_LAG
        self.write_quorum = quorum
        self.ack_timeout_us = round(ack_timeout_ms * 1000)
        self._rng = random.Random(f"replicated-{seed}")
        self._clock = clock_us or _WallClock()
        self.wait = wait
        self._lock = threading.RLock()
        self._local = threading.local()
        #: Every replication message (for timelines), when ``record_deliveries`` is set.
        self.record_deliveries = False
        self.deliveries: list[dict[str, Any]] = []

    # -- introspection for the simulator ----------------------------------------------------

    @property
    def last_delay_us(self) -> int:
        """In ``report`` mode: how long the last strong write had to wait for acknowledgements."""
        return int(getattr(self._local, "delay_us", 0))

    @property
    def last_node(self) -> str:
        """Which node served the last read (``primary`` or ``replica-N``)."""
        return str(getattr(self._local, "node", "primary"))

    def replica(self, name: str) -> Replica:
        for replica in self.replicas:
            if replica.name == name:
                return replica
        raise KeyError(f"no replica named {name!r}; replicas: "
                       f"{', '.join(r.name for r in self.replicas) or 'none'}")

    # -- faults ------------------------------------------------------------------------------

    def pause(self, name: str) -> None:
        """Freeze a replica: it applies no updates and serves no reads until resumed."""
        with self._lock:
            self.replica(name).paused = True

    def partition(self, name: str) -> None:
        """Cut a replica off the primary: no updates, no acknowledgements; it still serves reads."""
        with self._lock:
            self.replica(name).partitioned = True

    def resume(self, name: str) -> None:
        """Heal a paused or partitioned replica; queued updates arrive from now on, in order."""
        with self._lock:
            replica = self.replica(name)
            now = self._clock()
            replica.paused = replica.partitioned = False
            healed: deque[tuple[int, str, tuple[bytes, int] | None, dict[str, Any]]] = deque()
            for at, key, entry, record in replica.pending:
                record["arrives_us"] = max(at, now)  # held back until the link came back
                healed.append((record["arrives_us"], key, entry, record))
            replica.pending = healed
            replica.catch_up(now)

    # -- replication -------------------------------------------------------------------------

    def _snapshot(self, key: str) -> tuple[bytes, int] | None:
        entry = self.primary.entry(key)
        return None if entry is None else (entry.data, entry.version)

    def _replicate(self, keys: Sequence[str], consistency: str) -> Acknowledgement:
        """Queue the primary's new state of *keys* to every replica, and say how long the
        write waits for acknowledgements before it answers (strong) and with what."""
        now = self._clock()
        arrivals: list[int] = []
        for replica in self.replicas:
            deliver = max(now + self.lag.draw_us(self._rng), replica.last_delivery_us)
            replica.last_delivery_us = deliver
            for key in keys:
                snapshot = self._snapshot(key)
                record = {"replica": replica.name, "key": key,
                          "version": snapshot[1] if snapshot else 0, "sent_us": now,
                          "arrives_us": None if not replica.connected else deliver}
                if self.record_deliveries:
                    self.deliveries.append(record)
                replica.pending.append((deliver, key, snapshot, record))
            if not replica.partitioned and not replica.paused:
                arrivals.append(deliver - now)
        self._local.delay_us = 0
        if consistency != "strong" or self.write_quorum == 0:
            return _AT_ONCE
        arrivals.sort()
        if len(arrivals) < self.write_quorum:
            return Acknowledgement(self.ack_timeout_us, StoreError(
                f"strong write acknowledged by {len(arrivals)} of {self.write_quorum} required "
                f"replicas within {self.ack_timeout_us // 1000} ms; the value is on the primary "
                "and will replicate when the replicas come back"))
        return Acknowledgement(arrivals[self.write_quorum - 1])

    def _answer(self, ack: Acknowledgement) -> None:
        """Wait as the acknowledgement says (outside the lock: other clients go on meanwhile),
        then answer with its error, if any."""
        if ack.delay_us is not None:
            self._wait_us(ack.delay_us)
        if ack.error is not None:
            raise ack.error

    def _wait_us(self, delay_us: int) -> None:
        self._local.delay_us = delay_us
        if callable(self.wait):
            self.wait(delay_us)  # a virtual clock moves on: the write answers after the wait
        elif self.wait == "sleep" and delay_us > 0:
            time.sleep(delay_us / 1e6)

    # -- writes that have not answered yet (the asyncio door waits for them its own way) -------

    def write(self, request: SetRequest) -> Acknowledgement:
        """Apply a save on the primary and replicate it; the caller waits and answers."""
        with self._lock:
            self.primary.set(request)
            return self._replicate([request.key], request.consistency)

    def erase(self, request: DeleteRequest) -> Acknowledgement:
        """Apply a delete on the primary and replicate it; the caller waits and answers."""
        with self._lock:
            self.primary.delete(request)
            return self._replicate([request.key], request.consistency)

    def transact(self, operations: Sequence[TransactionOperation],
                 metadata: dict[str, str]) -> Acknowledgement:
        """Run a transaction on the primary and replicate whatever it applied (a failed one
        may have applied some operations: Redis has no rollback); the primary's error is the
        answer unless the replicas' acknowledgement fails too."""
        with self._lock:
            failure: StoreError | None = None
            try:
                self.primary.multi(operations, metadata)
            except StoreError as exc:
                failure = exc
            keys = list(dict.fromkeys(op.request.key for op in operations))
            strong = any(op.request.consistency == "strong" for op in operations)
            ack = self._replicate(keys, "strong" if strong else "eventual")
        return ack if ack.error is not None or failure is None \
            else Acknowledgement(ack.delay_us, failure)

    # -- Store protocol ---------------------------------------------------------------------

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        with self._lock:
            now = self._clock()
            readable = [r for r in self.replicas if not r.paused]
            if consistency == "strong" or not readable:
                self._local.node = "primary"
                result = self.primary.get(key, metadata)
                if result is None:
                    return None
                return GetResult(result.data, result.etag, {"replica": "primary"})
            replica = readable[int(self._rng.random() * len(readable))]
            replica.catch_up(now)
            self._local.node = replica.name
            entry = replica.data.get(key)
            if entry is None:
                return None
            return GetResult(entry[0], str(entry[1]), {"replica": replica.name})

    def set(self, request: SetRequest) -> None:
        self._answer(self.write(request))

    def delete(self, request: DeleteRequest) -> None:
        self._answer(self.erase(request))

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        self._answer(self.transact(operations, metadata))

    def reset(self) -> None:
        with self._lock:
            self.primary.reset()
            self.deliveries.clear()
            for replica in self.replicas:
                replica.data.clear()
                replica.pending.clear()
                replica.last_delivery_us = 0
                replica.paused = replica.partitioned = False

    def close(self) -> None:
        self.reset()

    def status(self) -> list[dict[str, Any]]:
        """Each replica's state, for notebooks: connected or not, and how far behind it is."""
        with self._lock:
            now = self._clock()
            rows = []
            for replica in self.replicas:
                replica.catch_up(now)
                rows.append({"replica": replica.name, "paused": replica.paused,
                             "partitioned": replica.partitioned,
                             "pending_updates": len(replica.pending)})
            return rows


class AsyncReplicatedStore:
    """The same :class:`ReplicatedStore`, for an event loop: a strong write waits for its
    replicas' acknowledgements with ``asyncio.sleep``, so the loop serves other requests
    meanwhile instead of a worker thread sitting in ``time.sleep``. Every other step is the
    store's own (in memory, under its lock, microseconds)."""

    features: ClassVar[tuple[str, ...]] = REPLICATED_FEATURES

    def __init__(self, store: ReplicatedStore) -> None:
        self.store = store

    async def get(self, key: str, metadata: dict[str, str],
                  consistency: str = "") -> GetResult | None:
        return self.store.get(key, metadata, consistency)

    async def set(self, request: SetRequest) -> None:
        await self._answer(self.store.write(request))

    async def delete(self, request: DeleteRequest) -> None:
        await self._answer(self.store.erase(request))

    async def multi(self, operations: Sequence[TransactionOperation],
                    metadata: dict[str, str]) -> None:
        await self._answer(self.store.transact(operations, metadata))

    async def aclose(self) -> None:
        """Nothing to release: the replicas belong to the synchronous store."""

    @staticmethod
    async def _answer(ack: Acknowledgement) -> None:
        if ack.delay_us:
            await asyncio.sleep(ack.delay_us / 1e6)
        if ack.error is not None:
            raise ack.error


if TYPE_CHECKING:
    from statelab.stores.base import AsyncStore, Store

    # mypy --strict proves here that the classes satisfy the Store protocols.
    _CONFORMS: type[Store] = ReplicatedStore
    _CONFORMS_ASYNC: type[AsyncStore] = AsyncReplicatedStore
