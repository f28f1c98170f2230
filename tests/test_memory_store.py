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
from statelab.stores.memory import MemoryStore, go_expiry_ms


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


def test_bytes_values_are_stored_verbatim(store: MemoryStore) -> None:
    """gRPC spec 4.6: raw bytes from the gRPC door round-trip; decoded JSON is re-encoded."""
    store.set(SetRequest("raw", b"\x00hello\xff"))
    store.set(SetRequest("json", "hello"))
    raw, decoded = store.get("raw", {}), store.get("json", {})
    assert raw is not None and raw.data == b"\x00hello\xff"
    assert decoded is not None and decoded.data == b'"hello"'


# -- issue 13: expired items nobody reads are reclaimed in the background -------------------------

def test_sweep_reclaims_expired_items_nobody_reads() -> None:
    from statelab.stores.base import ExpirySweeper, SetRequest as Set

    now = [1_000_000]
    store = MemoryStore(clock_ms=lambda: now[0])
    assert isinstance(store, ExpirySweeper)
    for i in range(50):
        store.set(Set(f"t{i}", i, metadata={"ttlInSeconds": "1"}))
    store.set(Set("long", 1, metadata={"ttlInSeconds": "100"}))
    store.set(Set("forever", 1))
    store.set(Set("t0", "rewritten", metadata={"ttlInSeconds": "10"}))  # a stale heap entry
    now[0] += 1001
    store.sweep_expired()
    assert sorted(store._items) == ["forever", "long", "t0"]  # noqa: SLF001 - what memory holds


def test_one_sweep_does_a_bounded_amount_of_work(monkeypatch: pytest.MonkeyPatch) -> None:
    from statelab.stores.base import SetRequest as Set

    monkeypatch.setattr(MemoryStore, "SWEEP_LIMIT", 10)
    now = [0]
    store = MemoryStore(clock_ms=lambda: now[0])
    for i in range(25):
        store.set(Set(f"t{i}", i, metadata={"ttlInSeconds": "1"}))
    now[0] += 2000
    remaining = []
    for _ in range(3):
        store.sweep_expired()
        remaining.append(len(store._items))  # noqa: SLF001 - what memory holds
    assert remaining == [15, 5, 0]


def test_huge_ttls_follow_daprd_s_int64_arithmetic(store: MemoryStore, clock: FakeClock
                                                   ) -> None:
    """doSet computes clock.Now().Add(time.Duration(ttl) * time.Second): nanoseconds in an
    int64 that wraps. Every key stays readable: a wrapped expiry lands in the past (the item
    is expired at once, as on daprd) or within about 292 years."""
    now = clock.now_ms
    assert go_expiry_ms(now, 10) == now + 10_000
    assert go_expiry_ms(now, 9_223_372_036) == now + 9_223_372_036_000  # the last unwrapped
    assert go_expiry_ms(now, 9_223_372_037) == (now * 10**6 + 9_223_372_037 * 10**9 - 2**64
                                                ) // 10**6
    store.set(SetRequest("k", 1, metadata={"ttlInSeconds": "9223372036"}))
    result = store.get("k", {})
    assert result is not None and result.metadata == {"ttlExpireTime": "2316-02-24T22:00:36Z"}
    for ttl in ("250000000000", "9223372036854775807", "9223372037"):
        store.set(SetRequest("k", 2, metadata={"ttlInSeconds": ttl}))
        assert store.get("k", {}) is None  # expired at once, as daprd's own arithmetic says
    with pytest.raises(StoreError, match="value out of range"):
        store.set(SetRequest("k", 3, metadata={"ttlInSeconds": "9" * 5000}))
