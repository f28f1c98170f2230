"""Dapr's in-memory state store (``state.in-memory``, components-contrib v1.18).

It differs from the Redis store in ways that are lessons of their own (spec sections 9 and 12):
ETags are fresh UUIDs, a supplied ETag must match an existing item whatever the concurrency
mode, ``first-write`` without an ETag refuses to overwrite, transactions are atomic (all etags
are checked against the state before the transaction, then everything applies), values are
encoded by Go's ``encoding/json`` (sorted keys, ``<>&`` escaped) and the expiry time of a TTL
comes back as ``ttlExpireTime``.

The clock and the ETag generator are injectable so the simulator can replay a run exactly.
"""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from statelab.go import json as gojson
from statelab.go.stdlib import GoParseError, atoi
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
    check_request_options,
)

__all__ = ["MemoryStore", "go_expiry_ms"]

MEMORY_FEATURES = ("ETAG", "TRANSACTIONAL", "TTL", "DELETE_WITH_PREFIX", "KEYS_LIKE")


@dataclass(frozen=True)
class _Item:
    data: bytes
    etag: str
    expires_ms: int | None


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _uuid4() -> str:
    return str(uuid.uuid4())


def go_expiry_ms(now_ms: int, ttl_seconds: int) -> int:
    """When an item saved at *now_ms* with a TTL expires, by daprd's own arithmetic.

    components-contrib's ``doSet`` (state/in-memory/in_memory.go) computes
    ``clock.Now().Add(time.Duration(ttlInSeconds) * time.Second)``: an int64 multiplication of
    nanoseconds that wraps silently from 9223372037 s on. So a huge TTL lands somewhere within
    about 292 years of now, possibly in the past (the item is then expired at once); it never
    makes a date that cannot be read back, and every key stays readable.
    """
    nanos = (ttl_seconds * 1_000_000_000 + 2**63) % 2**64 - 2**63
    return (now_ms * 1_000_000 + nanos) // 1_000_000


class MemoryStore:
    """``state.in-memory`` semantics; thread-safe behind one lock, like the Go original."""

    features: ClassVar[tuple[str, ...]] = MEMORY_FEATURES
    note: ClassVar[str | None] = None

    def __init__(self, *, clock_ms: Callable[[], int] = _wall_clock_ms,
                 new_etag: Callable[[], str] = _uuid4) -> None:
        self._items: dict[str, _Item] = {}
        # (expiry, key) of every TTL stored, soonest first, for sweep_expired(); an entry whose
        # item has since changed or gone is skipped when it surfaces.
        self._expiries: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self._clock_ms = clock_ms
        self._new_etag = new_etag

    @staticmethod
    def encode(value: Any) -> bytes:
        """``encoding/json`` of a decoded value; ``bytes`` (the gRPC door's raw value) are
        stored verbatim, as the Go store's ``marshal`` keeps a ``[]byte`` (gRPC spec 4.6)."""
        if isinstance(value, bytes):
            return value
        return gojson.encode_std(value)

    # -- helpers (call with the lock held) -------------------------------------------------

    def _live(self, key: str) -> _Item | None:
        item = self._items.get(key)
        if item is not None and item.expires_ms is not None and self._clock_ms() > item.expires_ms:
            del self._items[key]  # lazily expired, as the Go store does on read
            return None
        return item

    def _validate_etag(self, key: str, etag: str | None, concurrency: str) -> None:
        item = self._live(key)
        if concurrency == "first-write" and not etag:
            if item is not None:
                raise EtagError("mismatch", "item already exists and no etag was passed")
            return
        if etag:
            if item is None:
                raise EtagError("mismatch", f"state not exist or expired for key={key}")
            if item.etag != etag:
                raise EtagError("mismatch", f"state etag not match for key={key}: "
                                            f"current={item.etag}, expect={etag}")

    @staticmethod
    def _ttl_seconds(request: SetRequest) -> int:
        raw = request.metadata.get("ttlInSeconds", "")
        if raw == "":
            return 0
        try:
            return max(atoi(raw), 0)  # negative values mean "no TTL"
        except GoParseError as exc:
            raise StoreError(str(exc)) from None

    def _prepare(self, request: SetRequest) -> tuple[bytes, int]:
        check_request_options(request.concurrency, request.consistency)
        return self.encode(request.value), self._ttl_seconds(request)

    def _store(self, key: str, data: bytes, ttl: int) -> None:
        expires = go_expiry_ms(self._clock_ms(), ttl) if ttl > 0 else None
        self._items[key] = _Item(data=data, etag=self._new_etag(), expires_ms=expires)
        if expires is not None:
            self._schedule_expiry(key, expires)

    def _schedule_expiry(self, key: str, expires_ms: int) -> None:
        heap = self._expiries
        if len(heap) > 2 * len(self._items) + 64:  # rewritten TTLs left stale entries behind
            heap[:] = [(i.expires_ms, k) for k, i in self._items.items()
                       if i.expires_ms is not None]
            heapq.heapify(heap)
        heapq.heappush(heap, (expires_ms, key))

    #: Items :meth:`sweep_expired` removes at most per call, so one call holds the lock briefly.
    SWEEP_LIMIT: ClassVar[int] = 20_000

    def sweep_expired(self) -> None:
        """Remove expired items nobody read again, at most :attr:`SWEEP_LIMIT` per call.

        daprd's in-memory store does this from a goroutine every second
        (``startCleanThread`` / ``doCleanExpiredItems`` in components-contrib
        state/in-memory/in_memory.go, a full scan under the write lock); here the due items
        come off a heap and the sidecar calls this once a second, so no thread is left behind.
        """
        popped = 0
        with self._lock:
            now = self._clock_ms()
            heap = self._expiries
            while heap and heap[0][0] < now and popped < self.SWEEP_LIMIT:
                expires, key = heapq.heappop(heap)
                popped += 1
                item = self._items.get(key)
                if item is not None and item.expires_ms == expires:
                    del self._items[key]

    # -- Store protocol ---------------------------------------------------------------------

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        with self._lock:
            item = self._live(key)
        if item is None:
            return None
        meta: dict[str, str] = {}
        if item.expires_ms is not None:
            moment = datetime.fromtimestamp(item.expires_ms / 1000, tz=timezone.utc)
            meta["ttlExpireTime"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        return GetResult(data=item.data, etag=item.etag, metadata=meta)

    def set(self, request: SetRequest) -> None:
        data, ttl = self._prepare(request)
        with self._lock:
            self._validate_etag(request.key, request.etag, request.concurrency)
            self._store(request.key, data, ttl)

    def delete(self, request: DeleteRequest) -> None:
        check_request_options(request.concurrency, request.consistency)
        with self._lock:
            self._validate_etag(request.key, request.etag, request.concurrency)
            self._items.pop(request.key, None)

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """All or nothing: validate every operation first, then apply them in order."""
        prepared: list[tuple[TransactionOperation, bytes, int]] = []
        for op in operations:
            if isinstance(op.request, SetRequest):
                data, ttl = self._prepare(op.request)
                prepared.append((op, data, ttl))
            else:
                check_request_options(op.request.concurrency, op.request.consistency)
                prepared.append((op, b"", 0))
        with self._lock:
            for op, _, _ in prepared:
                self._validate_etag(op.request.key, op.request.etag, op.request.concurrency)
            for op, data, ttl in prepared:
                if op.operation == "upsert":
                    self._store(op.request.key, data, ttl)
                else:
                    self._items.pop(op.request.key, None)

    def keys(self) -> list[str]:
        """The live keys, for inspection in notebooks (the Go store has no such view)."""
        with self._lock:
            return [k for k in list(self._items) if self._live(k) is not None]

    def reset(self) -> None:
        with self._lock:
            self._items.clear()
            self._expiries.clear()

    def close(self) -> None:
        self.reset()


if TYPE_CHECKING:
    from statelab.stores.base import Store

    # mypy --strict proves here that the class satisfies the Store protocol.
    _CONFORMS: type[Store] = MemoryStore
