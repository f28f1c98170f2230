"""The in-memory store profile (spec section 12) with an injected clock and etag generator."""

from __future__ import annotations

import itertools

import pytest

from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.memory import MemoryStore


class FakeClock:
    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    counter = itertools.count(1)
    return MemoryStore(clock_ms=clock, new_etag=lambda: f"etag-{next(counter)}")


def test_every_write_gets_a_new_etag(store: MemoryStore) -> None:
    store.set(SetRequest("k", {"b": 1.0, "a": "<x>"}))
    first = store.get("k", {})
    assert first is not None
    assert (first.data, first.etag) == (b'{"a":"\\u003cx\\u003e","b":1}', "etag-1")  # §3.4
    store.set(SetRequest("k", 2.0, etag="etag-1"))
    assert store.get("k", {}).etag == "etag-2"  # type: ignore[union-attr]  # the key exists


@pytest.mark.parametrize(("request_", "cause"), [
    (SetRequest("missing", 1, etag="5"), "state not exist or expired for key=missing"),  # S3
    (SetRequest("k", 1, concurrency="first-write"),
     "item already exists and no etag was passed"),                                       # S6
    (SetRequest("k", 1, etag="stale", concurrency="last-write"),
     "state etag not match for key=k: current=etag-1, expect=stale"),                    # S10
])
def test_strict_etags(store: MemoryStore, request_: SetRequest, cause: str) -> None:
    store.set(SetRequest("k", 1))
    with pytest.raises(EtagError) as info:
        store.set(request_)
    assert (info.value.kind, info.value.cause) == ("mismatch", cause)


def test_delete_rules(store: MemoryStore) -> None:
    store.delete(DeleteRequest("missing"))                                   # D1
    with pytest.raises(EtagError):
        store.delete(DeleteRequest("missing", etag="3"))                     # D2
    store.set(SetRequest("k", 1))
    with pytest.raises(EtagError):
        store.delete(DeleteRequest("k", concurrency="first-write"))          # D5
    store.delete(DeleteRequest("k", etag="etag-1"))                          # D3
    assert store.get("k", {}) is None


def test_ttl_expires_on_the_injected_clock(store: MemoryStore, clock: FakeClock) -> None:
    store.set(SetRequest("k", 1, metadata={"ttlInSeconds": "10"}))
    result = store.get("k", {})
    assert result is not None
    assert result.metadata == {"ttlExpireTime": "2023-11-14T22:13:30Z"}  # §12: RFC 3339 UTC
    clock.now_ms += 10_000
    assert store.get("k", {}) is not None
    clock.now_ms += 1
    assert store.get("k", {}) is None
    assert store.keys() == []


def test_negative_ttl_means_none_and_bad_ttl_fails(store: MemoryStore) -> None:
    store.set(SetRequest("k", 1, metadata={"ttlInSeconds": "-5"}))
    assert store.get("k", {}).metadata == {}  # type: ignore[union-attr]  # the key exists
    with pytest.raises(StoreError, match='strconv.Atoi: parsing "x": invalid syntax'):
        store.set(SetRequest("k", 2, metadata={"ttlInSeconds": "x"}))
    assert store.get("k", {}).data == b"1"  # type: ignore[union-attr]  # the key exists


def test_transactions_are_atomic(store: MemoryStore) -> None:
    store.set(SetRequest("a", "a1"))
    operations = [TransactionOperation("upsert", SetRequest("new", 1)),
                  TransactionOperation("upsert", SetRequest("a", "a2", etag="stale")),
                  TransactionOperation("delete", DeleteRequest("a"))]
    with pytest.raises(EtagError):
        store.multi(operations, {})
    assert store.keys() == ["a"]  # §7.2: all or nothing
    store.multi([TransactionOperation("upsert", SetRequest("a", "a2", etag="etag-1")),
                 TransactionOperation("upsert", SetRequest("b", "b1"))], {})
    assert sorted(store.keys()) == ["a", "b"]


def test_options_are_validated(store: MemoryStore) -> None:
    with pytest.raises(StoreError, match="unrecognized concurrency model 'x'"):
        store.set(SetRequest("k", 1, concurrency="x"))
    with pytest.raises(StoreError, match="unrecognized consistency model 'y'"):
        store.delete(DeleteRequest("k", consistency="y"))


def test_reset(store: MemoryStore) -> None:
    store.set(SetRequest("k", 1))
    store.reset()
    assert store.keys() == []
