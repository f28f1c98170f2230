"""The asyncio Redis store against the synchronous one, on fakeredis and on a real redis-server.

What must hold (issue 14): the same scripts, answers, errors and stored bytes as
:class:`RedisStore`, call for call (a Hypothesis differential over random operations, each
store on its own database of the same server); NOSCRIPT reloads; WAIT after a strong save with
a real replica; MULTI/EXEC applying the good operations when one fails; connection failures as
the same StoreErrors, within the component's timeouts, and a pool that never grows past
``poolSize``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from support import RedisServer, free_port, launch_primary_and_replica, launch_redis

from statelab.dapr.components import Component
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.async_store import AsyncRedisStore
from statelab.stores.redis.clients import async_store_client
from statelab.stores.redis.store import RedisStore

SYNC_DB, ASYNC_DB = 5, 6


class Backend:
    """One server seen through a synchronous and an asyncio client, on two databases."""

    def __init__(self, kind: str, server: RedisServer | None) -> None:
        self.kind = kind
        if server is None:
            import fakeredis

            fake = fakeredis.FakeServer()
            self.sync_client = fakeredis.FakeRedis(server=fake, db=SYNC_DB)
            self.inspect_async_db = fakeredis.FakeRedis(server=fake, db=ASYNC_DB)
            self.make_async: Callable[[], Any] = lambda: fakeredis.FakeAsyncRedis(
                server=fake, db=ASYNC_DB)
        else:
            import redis.asyncio

            self.sync_client = server.client(db=SYNC_DB)
            self.inspect_async_db = server.client(db=ASYNC_DB)
            self.make_async = lambda: redis.asyncio.Redis(host="127.0.0.1", port=server.port,
                                                          db=ASYNC_DB)

    def flush(self) -> None:
        self.sync_client.flushdb()
        self.inspect_async_db.flushdb()

    def close(self) -> None:
        self.sync_client.close()
        self.inspect_async_db.close()


@pytest.fixture(params=["fake", "real"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    server = None if request.param == "fake" else request.getfixturevalue("redis_server")
    found = Backend(request.param, server)
    found.flush()
    yield found
    found.flush()
    found.close()


def run_async_store(backend: Backend, work: Callable[[AsyncRedisStore], Awaitable[Any]]) -> Any:
    """Run *work* on a fresh asyncio store (its client lives on this one loop), then close."""
    async def main() -> Any:
        store = AsyncRedisStore(backend.make_async())
        try:
            return await work(store)
        finally:
            await store.aclose()
    return asyncio.run(main())


# -- the differential: same operations, same answers, same bytes --------------------------------

KEYS = st.sampled_from(["k", "other"])
ETAGS = st.one_of(st.none(), st.sampled_from(["", "1", "2", "3", "0", "x", "99"]))
CONCURRENCY = st.sampled_from(["", "first-write", "last-write", "bogus"])
VALUES = st.one_of(st.integers(-3, 3), st.text(max_size=3), st.binary(max_size=3),
                   st.lists(st.integers(0, 2), max_size=2))
TTLS = st.one_of(st.none(), st.sampled_from(["10", "-1", "0", "x"]))


def _set(key: str, value: Any, etag: str | None, concurrency: str, ttl: str | None,
         strong: bool) -> SetRequest:
    return SetRequest(key, value, etag=etag, concurrency=concurrency,
                      consistency="strong" if strong else "",
                      metadata={} if ttl is None else {"ttlInSeconds": ttl})


SAVES = st.builds(lambda *a: ("set", _set(*a)), KEYS, VALUES, ETAGS, CONCURRENCY, TTLS,
                  st.booleans())
DELETES = st.builds(lambda k, e, c: ("delete", DeleteRequest(k, etag=e, concurrency=c)),
                    KEYS, ETAGS, CONCURRENCY)
GETS = st.builds(lambda k: ("get", k), KEYS)
TRANSACTIONS = st.builds(
    lambda ops: ("multi", [TransactionOperation("upsert", r) if isinstance(r, SetRequest)
                           else TransactionOperation("delete", r) for _, r in ops]),
    st.lists(st.one_of(SAVES, DELETES), min_size=1, max_size=3))
OPERATIONS = st.lists(st.one_of(SAVES, DELETES, GETS, TRANSACTIONS), min_size=1, max_size=8)


def _outcome(result: Any) -> Any:
    if isinstance(result, StoreError):
        return (type(result).__name__, str(result))
    return result


def _stored(client: Any) -> dict[bytes, dict[bytes, bytes]]:
    return {key: client.hgetall(key) for key in sorted(client.keys("*"))}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_asyncio_store_answers_and_stores_as_the_synchronous_one(
        backend: Backend, operations: list[tuple[str, Any]]) -> None:
    backend.flush()
    sync = RedisStore(backend.sync_client, scripts="lua")

    def call_sync(kind: str, arg: Any) -> Any:
        try:
            if kind == "get":
                return sync.get(arg, {})
            if kind == "multi":
                return sync.multi(arg, {})
            return getattr(sync, kind)(arg)
        except StoreError as exc:
            return exc

    expected = [_outcome(call_sync(kind, arg)) for kind, arg in operations]

    async def work(store: AsyncRedisStore) -> list[Any]:
        outcomes = []
        for kind, arg in operations:
            try:
                if kind == "get":
                    outcomes.append(await store.get(arg, {}))
                elif kind == "multi":
                    outcomes.append(await store.multi(arg, {}))
                else:
                    outcomes.append(await getattr(store, kind)(arg))
            except StoreError as exc:
                outcomes.append(_outcome(exc))
        return outcomes

    assert run_async_store(backend, work) == expected
    assert _stored(backend.inspect_async_db) == _stored(backend.sync_client)


# -- the Lua scripts, EVALSHA and NOSCRIPT ------------------------------------------------------

def test_a_flushed_script_cache_is_reloaded(backend: Backend) -> None:
    async def work(store: AsyncRedisStore) -> Any:
        await store.set(SetRequest("k", 1))
        await store.client.script_flush()  # a restarted server forgets every script
        await store.set(SetRequest("k", 2, etag="1", concurrency="first-write"))
        await store.client.script_flush()
        await store.multi([TransactionOperation("upsert", SetRequest("t", 3))], {})
        await store.client.script_flush()
        await store.delete(DeleteRequest("t", etag="1"))
        return await store.get("k", {}), await store.get("t", {})

    k, t = run_async_store(backend, work)
    assert (k.data, k.etag, t) == (b"2", "2", None)


def test_a_transaction_applies_its_good_operations_when_one_fails(backend: Backend) -> None:
    """MULTI/EXEC has no rollback (spec 7.2): the stale ETag fails, the rest is written."""
    async def work(store: AsyncRedisStore) -> Any:
        await store.set(SetRequest("a", 1))
        with pytest.raises(StoreError, match="failed to set key a"):
            await store.multi([
                TransactionOperation("upsert", SetRequest("b", 2)),
                TransactionOperation("upsert", SetRequest("a", 9, etag="7")),
                TransactionOperation("delete", DeleteRequest("zz")),
                TransactionOperation("upsert", SetRequest("c", 3,
                                                          metadata={"ttlInSeconds": "60"})),
            ], {})
        return [await store.get(key, {}) for key in ("a", "b", "c")]

    a, b, c = run_async_store(backend, work)
    assert (a.data, b.data, c.data) == (b"1", b"2", b"3")
    assert 0 < backend.inspect_async_db.ttl("c") <= 60


def test_an_invalid_etag_fails_the_transaction_before_anything_is_sent(
        backend: Backend) -> None:
    async def work(store: AsyncRedisStore) -> Any:
        with pytest.raises(EtagError, match="invalid etag value"):
            await store.multi([TransactionOperation("upsert", SetRequest("b", 2)),
                               TransactionOperation("upsert", SetRequest("a", 1, etag="x"))],
                              {})
        return await store.get("b", {})

    assert run_async_store(backend, work) is None


def test_a_plain_string_key_reads_without_an_etag(backend: Backend) -> None:
    backend.inspect_async_db.set("legacy", b"raw")

    async def work(store: AsyncRedisStore) -> Any:
        return await store.get("legacy", {})

    found = run_async_store(backend, work)
    assert (found.data, found.etag) == (b"raw", None)


# -- replicas: WAIT after a strong save ---------------------------------------------------------

def _wait_calls(client: Any) -> int:
    return int(client.info("commandstats").get("cmdstat_wait", {}).get("calls", 0))


@pytest.mark.real_redis
def test_strong_saves_wait_for_a_real_replica() -> None:
    primary, replica = launch_primary_and_replica()
    try:
        primary_client, replica_client = primary.client(), replica.client()
        component = Component(name="replicated", type="state.redis", version="v1",
                              metadata={"redisHost": primary.address}, source="(test)")
        assert isinstance(component.open(), RedisStore)
        before = _wait_calls(primary_client)

        async def work() -> None:
            store = component.asynchronous()
            assert isinstance(store, AsyncRedisStore) and store.replicas == 1
            try:
                await store.set(SetRequest("k", 1, consistency="eventual"))
                assert _wait_calls(primary_client) == before
                await store.set(SetRequest("k", 2, consistency="strong"))
                assert _wait_calls(primary_client) == before + 1
                # After WAIT returned, the replica has the write.
                assert replica_client.hget("k", "data") == b"2"
                await store.delete(DeleteRequest("k", consistency="strong"))
                assert _wait_calls(primary_client) == before + 1  # deletes never WAIT (11.5)
            finally:
                await store.aclose()

        asyncio.run(work())
        component.open().close()
        primary_client.close()
        replica_client.close()
    finally:
        replica.stop()
        primary.stop()


# -- connection failures and the pool -----------------------------------------------------------

def _component(address: str, **metadata: str) -> Component:
    return Component(name="statestore", type="state.redis", version="v1",
                     metadata={"redisHost": address, **metadata}, source="(test)")


def test_a_refused_connection_is_each_operations_error() -> None:
    """The same StoreErrors as the synchronous store (test_redis_store): a save without an
    ETag fails to set the key, with an ETag it reads as a mismatch, a delete always does."""
    component = _component(f"127.0.0.1:{free_port()}", dialTimeout="300ms",
                           redisMaxRetries="1")
    refused = "Connection refused|connecting"

    async def work() -> None:
        store = AsyncRedisStore(async_store_client(component))
        try:
            with pytest.raises(StoreError, match=refused) as got:
                await store.get("k", {})
            assert type(got.value) is StoreError
            with pytest.raises(StoreError, match="^failed to set key k: .*(" + refused + ")"):
                await store.set(SetRequest("k", 1))
            with pytest.raises(EtagError, match="possible etag mismatch"):
                await store.set(SetRequest("k", 1, etag="1"))
            with pytest.raises(EtagError, match="possible etag mismatch"):
                await store.delete(DeleteRequest("k"))
            with pytest.raises(StoreError, match=refused):
                await store.multi([TransactionOperation("upsert", SetRequest("k", 1))], {})
        finally:
            await store.aclose()

    asyncio.run(work())


@pytest.mark.real_redis
def test_a_frozen_server_ends_each_call_at_the_read_timeout_then_recovers() -> None:
    server = launch_redis()
    component = _component(server.address, readTimeout="300ms")
    try:
        async def work() -> tuple[list[Any], float]:
            store = AsyncRedisStore(async_store_client(component), queue_timeout=1.3)
            try:
                await store.set(SetRequest("k", 1))
                os.kill(server.process.pid, signal.SIGSTOP)
                try:
                    started = time.monotonic()
                    # A burst of 4,000 reads: 63 batches, two in flight, would take 32 read
                    # timeouts (9.6 s) one after the other; the queue timeout (the component's
                    # pool timeout: read + 1 s) ends the rest after about 1.3 s.
                    outcomes = await asyncio.gather(
                        *(store.get("k", {}) for _ in range(4000)), return_exceptions=True)
                    elapsed = time.monotonic() - started
                finally:
                    os.kill(server.process.pid, signal.SIGCONT)
                found = await store.get("k", {})  # back by itself: no restart, no reset
                assert found is not None and found.data == b"1"
                return outcomes, elapsed
            finally:
                await store.aclose()

        outcomes, elapsed = asyncio.run(work())
        print(f"4,000 reads on a frozen server ended in {elapsed:.2f} s")
        assert all(isinstance(o, StoreError) for o in outcomes)
        texts = {str(o) for o in outcomes}
        assert all("Timeout" in t or t == "redis: connection pool timeout" for t in texts), texts
        assert "redis: connection pool timeout" in texts
        # Bounded by the timeouts, not by the server or the size of the burst: a generous
        # margin for a busy machine, far below the 9.6 s of read timeouts one after another.
        assert elapsed < 6, elapsed
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


@pytest.mark.real_redis
def test_the_pool_never_opens_more_than_pool_size_connections(redis_server: RedisServer
                                                              ) -> None:
    component = _component(redis_server.address, poolSize="3", redisDB="7")
    watcher = redis_server.client()

    def connections() -> int:
        return len(watcher.client_list())

    before = connections()

    async def work() -> tuple[int, list[Any]]:
        store = AsyncRedisStore(async_store_client(component))
        try:
            await asyncio.gather(*(store.set(SetRequest(f"k{i}", i)) for i in range(40)))
            opened = connections() - before
            values = await asyncio.gather(*(store.get(f"k{i}", {}) for i in range(40)))
            return opened, values
        finally:
            await store.aclose()

    opened, values = asyncio.run(work())
    assert 1 <= opened <= 3
    assert [v.data for v in values] == [str(i).encode() for i in range(40)]
    assert connections() == before  # closing the store closed its pool
    redis_server.client(db=7).flushdb()
    watcher.close()
