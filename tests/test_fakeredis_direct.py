"""The direct path on an in-process fakeredis answers exactly like the Lua scripts.

:class:`RedisStore` runs its save, delete and get commands straight on an embedded fakeredis
server (``statelab/stores/fakeredis_direct.py``). These tests put the same keys, in ordinary and
odd states (legacy plain values, versions that are not integers, TTLs, other types), through
that path and through the Lua scripts (EVALSHA, on fakeredis and on a real redis-server), and
require the same answer (result or exception, error text included) and the same stored key
afterwards. They also show the path is atomic against other clients and keeps WATCH working.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import fakeredis
import pytest
import redis
from support import RedisServer

from statelab.dapr.components import default_components
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis import fakeredis_direct
from statelab.stores.redis.clients import embedded_redis_client
from statelab.stores.redis.fakeredis_direct import TESTED_FAKEREDIS, DirectFakeredis, is_tested
from statelab.stores.redis.scripts import SAVE_SCRIPT, script_sha
from statelab.stores.redis import store as store_module
from statelab.stores.redis.store import RedisStore

KEY = "myapp||k"

# Initial states of KEY, written with plain redis-py commands.
STATES: dict[str, Callable[[Any], None]] = {
    "missing": lambda c: None,
    "v1": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "1"}),
    "v7 sticky": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "7",
                                                "first-write": "0"}),
    "sticky empty flag": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "2",
                                                        "first-write": ""}),
    "data only": lambda c: c.hset(KEY, mapping={"data": '"a"'}),
    "version only": lambda c: c.hset(KEY, mapping={"version": "3"}),
    "empty version": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": ""}),
    "version abc": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "abc"}),
    "version 007": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "007"}),
    "version -3": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "-3"}),
    "version 0": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "0"}),
    "version max int64": lambda c: c.hset(KEY, mapping={"data": '"a"',
                                                        "version": str(2**63 - 1)}),
    "version max-1": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": str(2**63 - 2)}),
    "version +1": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "+1"}),
    "legacy string": lambda c: c.set(KEY, '{"legacy":true}'),
    "list": lambda c: c.rpush(KEY, "x"),
    "v1 with ttl": lambda c: (c.hset(KEY, mapping={"data": '"a"', "version": "1"}),
                              c.expire(KEY, 1000)),
    "extra fields": lambda c: c.hset(KEY, mapping={"data": '"a"', "version": "4", "z": "1"}),
}

ETAGS = [None, "1", "7", "0", "", "-3", "abc", "007", str(2**63 - 1), str(2**63 - 2)]
CONCURRENCY = ["", "first-write", "last-write"]


def operations() -> list[tuple[str, Callable[[RedisStore], Any]]]:
    ops: list[tuple[str, Callable[[RedisStore], Any]]] = [
        ("get", lambda s: s.get(KEY, {}))]
    for etag in ETAGS:
        for concurrency in CONCURRENCY:
            ops.append((f"set etag={etag!r} {concurrency}",
                        lambda s, e=etag, c=concurrency: s.set(SetRequest(
                            KEY, {"n": 1}, etag=e, concurrency=c))))
            ops.append((f"delete etag={etag!r} {concurrency}",
                        lambda s, e=etag, c=concurrency: s.delete(DeleteRequest(
                            KEY, etag=e, concurrency=c))))
    ops.append(("set ttl 50", lambda s: s.set(SetRequest(KEY, 2, metadata={
        "ttlInSeconds": "50"}))))
    ops.append(("set ttl -1", lambda s: s.set(SetRequest(KEY, 2, metadata={
        "ttlInSeconds": "-1"}))))
    return ops


def outcome(action: Callable[[], Any]) -> tuple[str, str]:
    try:
        return "ok", repr(action())
    except Exception as exc:  # noqa: BLE001 - the exception is the answer being compared
        return type(exc).__name__, str(exc)


def stored(client: Any) -> tuple[Any, ...]:
    """Everything observable about KEY: type, content, whether it expires."""
    kind = client.type(KEY)
    if kind == b"hash":
        content: Any = client.hgetall(KEY)
    elif kind == b"string":
        content = client.get(KEY)
    elif kind == b"list":
        content = client.lrange(KEY, 0, -1)
    else:
        content = None
    ttl = client.ttl(KEY)
    return kind, content, "expires" if ttl > 0 else ttl


def compare(direct_client: Any, reference_client: Any, reference: RedisStore, *,
            scripts: Literal["auto", "python"] = "auto") -> list[str]:
    direct = RedisStore(direct_client, scripts=scripts)
    assert direct.direct is not None and direct.direct.without_lua == (scripts == "python")
    mismatches = []
    for state_name, prepare in STATES.items():
        for op_name, op in operations():
            answers = []
            for client, store in ((direct_client, direct), (reference_client, reference)):
                client.delete(KEY)
                prepare(client)
                answers.append((outcome(lambda op=op, store=store: op(store)), stored(client)))
            if answers[0] != answers[1]:
                mismatches.append(f"{state_name} / {op_name}: direct {answers[0]} "
                                  f"!= lua {answers[1]}")
    return mismatches


@pytest.fixture
def fake_clients() -> Iterator[tuple[Any, Any]]:
    direct = embedded_redis_client("direct-tests", db=3)
    lua = embedded_redis_client("direct-tests-lua", db=3)
    for client in (direct, lua):
        client.flushdb()
    yield direct, lua
    for client in (direct, lua):
        client.close()


def test_same_answers_and_data_as_lua_on_fakeredis(fake_clients: tuple[Any, Any]) -> None:
    direct, lua = fake_clients
    assert compare(direct, lua, RedisStore(lua, scripts="lua")) == []


def test_without_lua_every_state_answers_as_the_scripts(fake_clients: tuple[Any, Any]) -> None:
    """Where Lua cannot run (Pyodide), odd states are played command by command: the same
    answers, error texts and stored data as the scripts on fakeredis's Lua."""
    direct, lua = fake_clients
    assert compare(direct, lua, RedisStore(lua, scripts="lua"), scripts="python") == []


OTHER = "myapp||other"

# Transactions (each a list of operations) over KEY in every state and a plain OTHER key.
TRANSACTIONS: dict[str, list[TransactionOperation]] = {
    "two upserts": [TransactionOperation("upsert", SetRequest(KEY, {"n": 1})),
                    TransactionOperation("upsert", SetRequest(OTHER, 2))],
    "stale etag first": [TransactionOperation("upsert", SetRequest(KEY, 3, etag="6")),
                         TransactionOperation("upsert", SetRequest(OTHER, 4))],
    "etag 1 then delete": [TransactionOperation("upsert", SetRequest(KEY, 5, etag="1")),
                           TransactionOperation("delete", DeleteRequest(OTHER))],
    "ttl then stale delete": [
        TransactionOperation("upsert", SetRequest(KEY, 6, metadata={"ttlInSeconds": "60"})),
        TransactionOperation("delete", DeleteRequest(OTHER, etag="9"))],
    "refused save keeps its ttl command": [
        TransactionOperation("upsert", SetRequest(KEY, 7, etag="99",
                                                   metadata={"ttlInSeconds": "60"}))],
    "persist": [TransactionOperation("upsert", SetRequest(KEY, 8,
                                                          metadata={"ttlInSeconds": "-1"}))],
    "delete with etag": [TransactionOperation("delete", DeleteRequest(KEY, etag="7")),
                         TransactionOperation("upsert", SetRequest(OTHER, 9))],
    "overflowing ttl": [TransactionOperation("upsert", SetRequest(
        KEY, 10, metadata={"ttlInSeconds": str(2**63 - 1)}))],
}


def test_without_lua_transactions_apply_and_fail_as_multi_exec(
        fake_clients: tuple[Any, Any]) -> None:
    direct_client, lua_client = fake_clients
    stores = ((direct_client, RedisStore(direct_client, scripts="python")),
              (lua_client, RedisStore(lua_client, scripts="lua")))
    mismatches = []
    for state_name, prepare in STATES.items():
        for name, operations_ in TRANSACTIONS.items():
            answers = []
            for client, store in stores:
                client.delete(KEY, OTHER)
                prepare(client)
                client.hset(OTHER, mapping={"data": "1", "version": "1"})
                answer = outcome(lambda s=store, o=operations_: s.multi(o, {}))
                answers.append((answer, stored(client), client.hgetall(OTHER)))
            if answers[0] != answers[1]:
                mismatches.append(f"{state_name} / {name}: {answers[0]} != {answers[1]}")
    assert mismatches == []


def test_without_lupa_the_embedded_store_plays_the_scripts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "lua_available", lambda: False)
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    store = RedisStore(client)
    assert store.direct is not None and store.direct.without_lua
    client.set(KEY, "legacy")
    store.set(SetRequest(KEY, 1))
    store.multi([TransactionOperation("upsert", SetRequest(KEY, 2, etag="1"))], {})
    assert client.hgetall(KEY) == {b"data": b"2", b"version": b"2"}
    assert client.script_exists(script_sha(SAVE_SCRIPT)) == [False]  # no Lua ever ran
    # Without Lua a store needs an in-process fakeredis: anything else is a clear error.
    with pytest.raises(ValueError, match="Lua scripts cannot run here"):
        RedisStore(redis.Redis(host="127.0.0.1", port=1))
    monkeypatch.undo()
    with pytest.raises(ValueError, match="Lua scripts cannot run here"):
        RedisStore(redis.Redis(host="127.0.0.1", port=1), scripts="python")


def test_without_lua_a_disconnected_server_fails_like_a_real_one() -> None:
    server = fakeredis.FakeServer()
    store = RedisStore(fakeredis.FakeRedis(server=server), scripts="python")
    server.connected = False
    for action in (lambda: store.get(KEY, {}), lambda: store.set(SetRequest(KEY, 1)),
                   lambda: store.delete(DeleteRequest(KEY)),
                   lambda: store.multi([TransactionOperation("upsert", SetRequest(KEY, 1))], {})):
        with pytest.raises(StoreError, match="connection error"):
            action()


@pytest.mark.real_redis
def test_same_answers_and_data_as_lua_on_a_real_server(fake_clients: tuple[Any, Any],
                                                      redis_server: RedisServer) -> None:
    real = redis_server.client(db=7)
    try:
        assert compare(fake_clients[0], real, RedisStore(real)) == []
        assert compare(fake_clients[0], real, RedisStore(real), scripts="python") == []
    finally:
        real.flushdb()
        real.close()


def test_the_embedded_store_uses_the_direct_path() -> None:
    store = default_components()[0].open()
    assert isinstance(store, RedisStore) and store.direct is not None


def test_lua_can_be_forced_and_other_clients_never_attach() -> None:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    assert RedisStore(client, scripts="lua").direct is None
    assert RedisStore(client).direct is not None
    # A client of a real server (never connected here) has no in-process server to attach to.
    assert DirectFakeredis.attach(redis.Redis(host="127.0.0.1", port=1)) == (None, None)
    assert DirectFakeredis.attach(object()) == (None, None)
    assert RedisStore(client).note is None
    with pytest.raises(ValueError, match="'auto', 'lua' or 'python'"):
        RedisStore(client, scripts="fast")  # type: ignore[arg-type]  # the wrong value is the test


def test_the_installed_fakeredis_is_a_tested_one() -> None:
    """pyproject.toml's pin and TESTED_FAKEREDIS name the same minor versions."""
    assert is_tested(fakeredis.__version__)
    assert is_tested("2.40.0") and is_tested("2.41.7")
    assert not is_tested("2.42.0") and not is_tested("2.4.0") and not is_tested("3.0.0")
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    pin = re.search(r'"fakeredis\[lua\]>=(\d+\.\d+),<(\d+)\.(\d+)"', pyproject)
    assert pin is not None
    lowest, major, minor_end = pin[1], int(pin[2]), int(pin[3])
    assert TESTED_FAKEREDIS[0] == lowest
    assert TESTED_FAKEREDIS[-1] == f"{major}.{minor_end - 1}"


def test_an_untested_fakeredis_keeps_lua_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fakeredis_direct, "fakeredis_version", lambda: "2.99.1")
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    store = RedisStore(client)
    assert store.direct is None
    assert store.note == ("fakeredis 2.99.1 is not in the tested list (2.40, 2.41); "
                          "using Lua scripts (slower, same answers)")
    store.set(SetRequest(KEY, 1))
    assert client.script_exists(script_sha(SAVE_SCRIPT)) == [True]  # the save ran as Lua
    assert store.get(KEY, {}) is not None
    # Forcing Lua is a choice, not a fallback: no note.
    assert RedisStore(client, scripts="lua").note is None


def test_missing_internals_keep_lua_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def moved(self: DirectFakeredis, server: Any, db: int) -> None:
        raise AttributeError("'FakeSocket' has no attribute '_db'")

    monkeypatch.setattr(DirectFakeredis, "__init__", moved)
    store = RedisStore(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
    assert store.direct is None
    assert store.note is not None and store.note.startswith(
        f"fakeredis {fakeredis_direct.fakeredis_version()} lacks the internals of the fast path")
    assert store.note.endswith("using Lua scripts (slower, same answers)")


def test_the_lua_script_runs_for_odd_states() -> None:
    """Handed back states go through EVALSHA: the script is then loaded on the server."""
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    store = RedisStore(client)
    store.set(SetRequest(KEY, 1))
    # The direct path needs no script.
    assert client.script_exists(script_sha(SAVE_SCRIPT)) == [False]
    client.hset(KEY, "version", "abc")
    with pytest.raises(Exception, match="hash value is not an integer"):
        store.set(SetRequest(KEY, 2))
    assert client.script_exists(script_sha(SAVE_SCRIPT)) == [True]


def test_a_disconnected_server_fails_like_a_real_one() -> None:
    """redis-py's connection error reaches the store, which says it as a StoreError (the
    service answers it in Dapr's format, as for a real server that is down)."""
    server = fakeredis.FakeServer()
    store = RedisStore(fakeredis.FakeRedis(server=server))
    server.connected = False
    for action in (lambda: store.get(KEY, {}), lambda: store.set(SetRequest(KEY, 1)),
                   lambda: store.delete(DeleteRequest(KEY))):
        with pytest.raises(StoreError, match="connection error") as caught:
            action()
        assert caught.value.__cause__ is None


def test_saves_invalidate_watch_like_any_write() -> None:
    server = fakeredis.FakeServer()
    learner = fakeredis.FakeRedis(server=server)
    store = RedisStore(fakeredis.FakeRedis(server=server))
    store.set(SetRequest(KEY, 1))
    with learner.pipeline() as pipe:
        pipe.watch(KEY)
        store.set(SetRequest(KEY, 2))
        pipe.multi()
        pipe.hset(KEY, "data", "mine")
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert learner.hgetall(KEY) == {b"data": b"2", b"version": b"2"}


def test_etag_checked_increments_stay_atomic_against_lua_writers() -> None:
    """Threads increment one counter with ETags and retries, half through the direct path and
    half through EVALSHA on the same server: no increment is lost."""
    server = fakeredis.FakeServer()
    stores = [RedisStore(fakeredis.FakeRedis(server=server), scripts=mode)
              for mode in ("auto", "lua", "auto", "lua")]
    stores[0].set(SetRequest(KEY, 0))
    increments = 60
    start = threading.Barrier(len(stores))
    conflicts = [0] * len(stores)

    def writer(index: int) -> None:
        store = stores[index]
        start.wait()
        for _ in range(increments):
            while True:
                current = store.get(KEY, {})
                assert current is not None
                try:
                    store.set(SetRequest(KEY, int(current.data) + 1, etag=current.etag,
                                         concurrency="first-write"))
                    break
                except EtagError:
                    conflicts[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = stores[1].get(KEY, {})
    assert final is not None
    assert int(final.data) == increments * len(stores)
    assert final.etag == str(increments * len(stores) + 1)


def notifications(client: Any, action: Callable[[], Any]) -> list[tuple[bytes, bytes]]:
    """The keyspace events *action* publishes, as a subscriber on the same server sees them."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe("__key*__:*")
    pubsub.subscribe("end-of-test")
    try:
        action()
        client.publish("end-of-test", "")  # delivered after every event the action caused
        seen = []
        for _ in range(1000):
            message = pubsub.get_message(timeout=5)
            if message is None:
                continue  # a subscribe confirmation, filtered out
            if message["channel"] == b"end-of-test":
                return seen
            seen.append((message["channel"], message["data"]))
        raise AssertionError(f"the end marker never arrived; events so far: {seen}")
    finally:
        pubsub.close()


def test_with_a_keyspace_subscriber_saves_notify_as_the_script_does() -> None:
    """A learner watching ``__keyspace@0__:*`` sees the events Lua's commands publish; the
    direct path then runs its commands through fakeredis's command layer, not in place."""
    events = {}
    for mode in ("auto", "lua"):
        client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        store = RedisStore(client, scripts=mode)  # type: ignore[arg-type]  # mode is "auto" or "lua"

        def scenario(store: RedisStore = store) -> None:
            store.set(SetRequest(KEY, 1, concurrency="first-write"))
            store.set(SetRequest(KEY, 2, etag="1"))
            with pytest.raises(EtagError):
                store.set(SetRequest(KEY, 3, etag="1"))
            store.delete(DeleteRequest(KEY, etag="2"))

        events[mode] = notifications(client, scenario)
    assert events["auto"] == events["lua"]
    assert (b"__keyspace@0__:" + KEY.encode(), b"hset") in events["auto"]
    assert (b"__keyevent@0__:hincrby", KEY.encode()) in events["auto"]
    assert (b"__keyspace@0__:" + KEY.encode(), b"del") in events["auto"]


def test_with_a_keyspace_subscriber_answers_and_data_stay_the_same(
        fake_clients: tuple[Any, Any]) -> None:
    direct, lua = fake_clients
    listeners = [client.pubsub() for client in (direct, lua)]
    for listener in listeners:
        listener.psubscribe("__keyspace@*")
    try:
        assert compare(direct, lua, RedisStore(lua, scripts="lua")) == []
    finally:
        for listener in listeners:
            listener.close()
