"""The Redis store profile on fakeredis and on a real redis-server (spec section 11).

Every test here runs twice through the ``client`` fixture, once per backend, so the Lua
scripts are shown to behave identically on both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import RedisServer, launch_primary_and_replica, launch_redis

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.clients import embedded_redis_client
from statelab.stores.redis.store import RedisStore

SCRIPT_ERROR = re.compile(r"^ERR user_script:\d+: failed to (set key|delete) myapp\|\|k "
                          r"script: [0-9a-f]{40}, on @user_script:\d+\.$")


@pytest.fixture(params=["fake", "real"])
def client(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        redis_client = embedded_redis_client("redis-store-tests", db=1)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        redis_client = server.client(db=1)
    redis_client.flushdb()
    yield redis_client
    redis_client.close()


def test_versions_and_hash_layout(client: Any) -> None:
    store = RedisStore(client)
    store.set(SetRequest("myapp||k", {"n": 1}))
    store.set(SetRequest("myapp||k", {"n": 2}, etag="1", concurrency="first-write"))
    # §11.1: data, version and the sticky first-write field.
    assert client.hgetall("myapp||k") == {b"data": b'{"n":2}', b"version": b"2",
                                          b"first-write": b"0"}
    result = store.get("myapp||k", {})
    assert result is not None and (result.data, result.etag) == (b'{"n":2}', "2")


def test_script_errors_read_like_redis_7_on_both_backends(client: Any) -> None:
    store = RedisStore(client)
    store.set(SetRequest("myapp||k", 1, concurrency="first-write"))
    with pytest.raises(StoreError) as plain:  # §9 S7: flag set, no etag
        store.set(SetRequest("myapp||k", 2))
    assert not isinstance(plain.value, EtagError)
    assert str(plain.value).startswith("failed to set key myapp||k: ERR user_script:")
    assert SCRIPT_ERROR.match(str(plain.value).split(": ", 1)[1])
    with pytest.raises(EtagError) as mismatch:
        store.delete(DeleteRequest("myapp||k", etag="9"))
    assert SCRIPT_ERROR.match(mismatch.value.cause)


def test_invalid_etag_and_last_write(client: Any) -> None:
    store = RedisStore(client)
    with pytest.raises(EtagError) as invalid:  # §9 S4 / E7
        store.set(SetRequest("myapp||k", 1, etag="abc"))
    assert invalid.value.kind == "invalid"
    assert str(invalid.value) == ('invalid etag value: strconv.Atoi: parsing "abc": '
                                  'invalid syntax')
    store.set(SetRequest("myapp||k", 1, etag="abc", concurrency="last-write"))  # §9 S10
    assert client.hget("myapp||k", "version") == b"1"


def test_legacy_plain_string_keys(client: Any) -> None:
    # §11.1: a plain string key is read without an ETag; the next save turns it into a hash.
    client.set("myapp||k", b"legacy")
    store = RedisStore(client)
    result = store.get("myapp||k", {})
    assert result is not None and (result.data, result.etag) == (b"legacy", None)
    store.set(SetRequest("myapp||k", "new"))
    assert client.hgetall("myapp||k") == {b"data": b'"new"', b"version": b"1"}


def test_hash_without_version_is_a_get_error(client: Any) -> None:
    client.hset("myapp||k", "data", "1")
    with pytest.raises(StoreError, match="required hash field 'data' or 'version' was not found"):
        RedisStore(client).get("myapp||k", {})


def test_ttl_is_kept_when_a_save_has_none(client: Any) -> None:
    store = RedisStore(client)
    store.set(SetRequest("myapp||k", 1, metadata={"ttlInSeconds": "100"}))
    store.set(SetRequest("myapp||k", 2))  # §11.5: no EXPIRE, no PERSIST
    assert 0 < client.ttl("myapp||k") <= 100
    store.set(SetRequest("myapp||k", 3, metadata={"ttlInSeconds": "-1"}))
    assert client.ttl("myapp||k") == -1
    with pytest.raises(StoreError, match='failed to parse ttl from metadata: strconv.ParseInt: '
                                         'parsing "soon": invalid syntax'):
        store.set(SetRequest("myapp||k", 4, metadata={"ttlInSeconds": "soon"}))
    assert client.hget("myapp||k", "data") == b"3"


def test_transactions_are_not_atomic(client: Any) -> None:
    store = RedisStore(client)
    store.set(SetRequest("myapp||a", "a1"))
    store.set(SetRequest("myapp||b", "b1"))
    operations = [
        TransactionOperation("upsert", SetRequest("myapp||new", "n1")),
        TransactionOperation("upsert", SetRequest("myapp||a", "a2", etag="7")),  # stale
        TransactionOperation("delete", DeleteRequest("myapp||b")),
    ]
    with pytest.raises(StoreError, match=r"^ERR user_script:\d+: failed to set key myapp\|\|a"):
        store.multi(operations, {})
    # §7.2: Redis has no rollback: the good operations were applied.
    assert client.hget("myapp||new", "data") == b'"n1"'
    assert client.hget("myapp||a", "data") == b'"a1"'
    assert client.exists("myapp||b") == 0


def test_invalid_etag_in_a_transaction_applies_nothing(client: Any) -> None:
    store = RedisStore(client)
    with pytest.raises(EtagError, match="invalid etag value"):
        store.multi([TransactionOperation("upsert", SetRequest("myapp||x", 1)),
                     TransactionOperation("upsert", SetRequest("myapp||y", 1, etag="zz"))], {})
    assert client.exists("myapp||x", "myapp||y") == 0


def test_transactions_never_set_the_first_write_flag(client: Any) -> None:
    store = RedisStore(client)
    store.multi([TransactionOperation("upsert", SetRequest("myapp||k", 1,
                                                           concurrency="first-write"))], {})
    assert client.hgetall("myapp||k") == {b"data": b"1", b"version": b"1"}  # §11.3


def wait_calls(client: Any) -> int:
    stats = client.info("commandstats")
    return int(stats.get("cmdstat_wait", {}).get("calls", 0))


@pytest.mark.real_redis
def test_strong_writes_wait_for_a_real_replica() -> None:
    """§11.5: with a replica connected at init, strong saves run WAIT; eventual ones don't."""
    primary, replica = launch_primary_and_replica()
    try:
        primary_client, replica_client = primary.client(), replica.client()
        component = Component(name="replicated", type="state.redis", version="v1",
                              metadata={"redisHost": primary.address}, source="(test)")
        api = StateAPI([component])
        store = component.open()
        assert isinstance(store, RedisStore) and store.replicas == 1
        before = wait_calls(primary_client)
        eventual = [{"key": "k", "value": 1, "options": {"consistency": "eventual"}}]
        assert api.request("POST", "/v1.0/state/replicated", json=eventual).status == 204
        assert wait_calls(primary_client) == before
        strong = [{"key": "k", "value": 2, "options": {"consistency": "strong"}}]
        assert api.request("POST", "/v1.0/state/replicated", json=strong).status == 204
        assert wait_calls(primary_client) == before + 1
        # Get and delete ignore consistency (§11.5).
        api.request("DELETE", "/v1.0/state/replicated/k", params={"consistency": "strong"})
        assert wait_calls(primary_client) == before + 1
        # After WAIT returned, the replica has the write.
        api.request("POST", "/v1.0/state/replicated", json=strong)
        assert replica_client.hget("myapp||k", "data") == b"2"
        replica_client.close()
        primary_client.close()
        store.close()
    finally:
        replica.stop()
        primary.stop()


@pytest.mark.real_redis
def test_a_real_replica_serves_stale_reads_and_dapr_ignores_missing_acks() -> None:
    """Issue 4, real replication: an eventual write is not on a cut-off replica yet; a strong
    write runs WAIT, which gives up after 1 s, and Dapr still answers 204 (it ignores the
    number of replicas that acknowledged, spec §11.5)."""
    primary = launch_redis("--repl-diskless-sync-delay", "0")
    replica = launch_redis("--replicaof", "127.0.0.1", str(primary.port))
    try:
        primary_client, replica_client = primary.client(), replica.client()

        def synchronised() -> bool:
            return (replica_client.info("replication").get("master_link_status") == "up"
                    and primary_client.info("replication").get("slave0", {}).get("state")
                    == "online")

        def wait_until(condition: Any, what: str) -> None:
            deadline = time.monotonic() + 20
            while not condition():
                assert time.monotonic() < deadline, what
                time.sleep(0.05)  # waiting for servers, not for a race

        wait_until(synchronised, "the replica never synchronised")
        component = Component(name="real-replicated", type="state.redis", version="v1",
                              metadata={"redisHost": primary.address}, source="(test)")
        api = StateAPI([component])
        store = component.open()
        assert isinstance(store, RedisStore) and store.replicas == 1
        api.request("POST", "/v1.0/state/real-replicated", json=[{"key": "k", "value": 1}])
        wait_until(lambda: replica_client.hget("myapp||k", "data") == b"1", "no replication")
        # Cut the replica off (a partition), then write: the replica keeps the old value.
        replica_client.execute_command("REPLICAOF", "NO", "ONE")
        eventual = [{"key": "k", "value": 2, "options": {"consistency": "eventual"}}]
        assert api.request("POST", "/v1.0/state/real-replicated", json=eventual).status == 204
        assert replica_client.hget("myapp||k", "data") == b"1"      # a stale read
        assert primary_client.hget("myapp||k", "data") == b"2"
        before = wait_calls(primary_client)
        strong = [{"key": "k", "value": 3, "options": {"consistency": "strong"}}]
        assert api.request("POST", "/v1.0/state/real-replicated", json=strong).status == 204
        assert wait_calls(primary_client) == before + 1             # WAIT ran, and timed out
        assert replica_client.hget("myapp||k", "data") == b"1"
        # Heal the partition: the replica catches up.
        replica_client.execute_command("REPLICAOF", "127.0.0.1", str(primary.port))
        wait_until(lambda: replica_client.hget("myapp||k", "data") == b"3", "no catch-up")
        for client in (primary_client, replica_client):
            client.close()
        store.close()
    finally:
        replica.stop()
        primary.stop()


def test_a_failing_redis_call_in_the_script_reads_like_redis_7_on_both_backends(
        client: Any) -> None:
    """A version that HINCRBY can't increment: Redis 7 appends the script's SHA and line."""
    store = RedisStore(client)
    client.hset("myapp||k", mapping={"data": "1", "version": "abc"})
    pattern = (r"ERR hash value is not an integer script: [0-9a-f]{40}, "
               r"on @user_script:\d+\.$")
    with pytest.raises(StoreError, match="^failed to set key myapp\\|\\|k: " + pattern):
        store.set(SetRequest("myapp||k", 2))
    with pytest.raises(StoreError, match="^" + pattern):
        store.multi([TransactionOperation("upsert", SetRequest("myapp||k", 3))], {})
    client.hset("myapp||k", "version", str(2**63 - 1))
    with pytest.raises(StoreError, match="increment or decrement would overflow script: "):
        store.set(SetRequest("myapp||k", 4))


# -- issue 13: connection errors and the background expiry --------------------------------------

def test_a_refused_connection_is_a_store_error_with_the_client_text() -> None:
    import redis

    from statelab.stores.base import StoreError as Failure
    from support import free_port

    client = redis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    store = RedisStore(client)
    with pytest.raises(Failure, match="Connection refused|connecting"):
        store.get("k", {})
    with pytest.raises(Failure, match="Connection refused|connecting"):
        store.set(SetRequest("k", 1))
    client.close()


def test_sweep_reclaims_expired_keys_of_the_embedded_server() -> None:
    client = embedded_redis_client("sweep-test")
    store = RedisStore(client)
    store.reset()
    for i in range(20):
        client.set(f"gone{i}", "x", px=1)
    client.set("kept", "x")
    server_db = client.connection_pool.connection_kwargs["server"].dbs[0]
    deadline = time.monotonic() + 10
    while True:  # the keys' expiry time passes (1 ms)
        store.sweep_expired()
        if len(server_db._dict) == 1:  # noqa: SLF001 - what fakeredis keeps in memory
            break
        assert time.monotonic() < deadline
    assert client.get("kept") == b"x"


def test_an_expire_that_overflows_fails_after_the_value_is_written(client: Any) -> None:
    """components-contrib StateStore.Set runs the save script, then EXPIRE as a command of
    its own: Redis refuses a TTL whose expiry time overflows, the value stays written, and
    the error is the EXPIRE's (state/redis/redis.go). Transactions queue the EXPIRE in
    MULTI/EXEC: the save applies, EXEC reports the error (spec 7.2, no rollback)."""
    store = RedisStore(client)
    huge = {"ttlInSeconds": "9223372036854775807"}
    with pytest.raises(StoreError) as info:
        store.set(SetRequest("myapp||k", 1, metadata=huge))
    assert str(info.value) == ("failed to set key myapp||k ttl: ERR invalid expire time in "
                               "'expire' command")
    assert client.hget("myapp||k", "data") == b"1"
    assert client.ttl("myapp||k") == -1  # no expiry was set
    with pytest.raises(StoreError) as info:
        store.multi([TransactionOperation("upsert", SetRequest("myapp||t", 2, metadata=huge))],
                    {})
    assert str(info.value) == "ERR invalid expire time in 'expire' command"
    assert client.hget("myapp||t", "data") == b"2"
    # Large but valid TTLs are Redis's to keep.
    store.set(SetRequest("myapp||k", 3, metadata={"ttlInSeconds": "250000000000"}))
    assert client.ttl("myapp||k") > 249_999_999_000


def test_huge_ttl_and_etag_words_are_go_range_errors(client: Any) -> None:
    store = RedisStore(client)
    digits = "9" * 5000  # past Python's int() limit of 4300 digits
    with pytest.raises(StoreError) as info:
        store.set(SetRequest("myapp||k", 1, metadata={"ttlInSeconds": digits}))
    assert str(info.value) == (f'failed to parse ttl from metadata: strconv.ParseInt: parsing '
                               f'"{digits}": value out of range')
    with pytest.raises(EtagError) as etag_info:
        store.set(SetRequest("myapp||k", 1, etag=digits))
    assert str(etag_info.value) == (f'invalid etag value: strconv.Atoi: parsing "{digits}": '
                                    'value out of range')
    assert client.exists("myapp||k") == 0
