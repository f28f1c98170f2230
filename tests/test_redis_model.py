"""The simulator's fast Redis model answers exactly like the Lua scripts (issue: race lab).

The same seeded random operation sequences go through three stores behind one StateAPI each:
the pure-Python :class:`RedisModelStore`, :class:`RedisStore` running the Lua scripts on
fakeredis, and :class:`RedisStore` on a real redis-server. Every answer (status, Etag header,
body bytes, error text) must be identical.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from support import RedisServer

from statelab.dapr.components import Component
from statelab.dapr.http import Response, StateAPI
from statelab.stores.redis.clients import embedded_redis_client
from statelab.stores.redis.model import RedisModelStore
from statelab.stores.redis.store import RedisStore

KEYS = ["a", "b", "c"]
ETAGS = [None, "", "0", "1", "2", "3", "5", "abc", "-1", "+2"]
CONCURRENCY = [None, "first-write", "last-write", "sideways"]
CONSISTENCY = [None, "strong", "eventual"]
VALUES: list[Any] = [1, 2.5, 3.14159265, "text", "<b>&", None, {"z": 1, "a": [True, None]},
                     [1, "two"], 12345678901234567890, -0.0000001]


def api_on(store: Any) -> StateAPI:
    component = Component(name="s", type="state.redis", version="v1", metadata={},
                          source="(test)")
    component.store = store
    return StateAPI([component])


def random_item(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {"key": rng.choice(KEYS)}
    if rng.random() < 0.9:
        item["value"] = rng.choice(VALUES)
    etag = rng.choice(ETAGS)
    if etag is not None:
        item["etag"] = etag
    options = {}
    if (concurrency := rng.choice(CONCURRENCY)) is not None:
        options["concurrency"] = concurrency
    if (consistency := rng.choice(CONSISTENCY)) is not None:
        options["consistency"] = consistency
    if options:
        item["options"] = options
    if rng.random() < 0.1:
        item["metadata"] = {"ttlInSeconds": rng.choice(["100", "-1", "soon"])}
    return item


def random_call(rng: random.Random) -> Callable[[StateAPI], Response]:
    choice = rng.random()
    if choice < 0.35:
        items = [random_item(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        return lambda api: api.request("POST", "/v1.0/state/s", json=items)
    if choice < 0.6:
        key = rng.choice(KEYS)
        return lambda api: api.request("GET", f"/v1.0/state/s/{key}")
    if choice < 0.8:
        key = rng.choice(KEYS)
        etag = rng.choice(ETAGS)
        headers = {} if etag is None else {"If-Match": etag}
        params = {"concurrency": c} if (c := rng.choice(CONCURRENCY)) else {}
        return lambda api: api.request("DELETE", f"/v1.0/state/s/{key}", headers=headers,
                                       params=params)
    if choice < 0.9:
        keys = rng.sample(KEYS, rng.randint(0, 3))
        return lambda api: api.request("POST", "/v1.0/state/s/bulk", json={"keys": keys})
    operations = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.7:
            item = random_item(rng)
            item.pop("metadata", None) if rng.random() < 0.5 else None
            operations.append({"operation": "upsert", "request": item})
        else:
            request: dict[str, Any] = {"key": rng.choice(KEYS)}
            if (etag := rng.choice(ETAGS)) is not None:
                request["etag"] = etag
            operations.append({"operation": "delete", "request": request})
    return lambda api: api.request("POST", "/v1.0/state/s/transaction",
                                   json={"operations": operations})


def answer(response: Response) -> tuple[int, str | None, bytes]:
    return response.status, response.etag, response.body


@pytest.fixture(params=["fakeredis", "real"])
def lua_store(request: pytest.FixtureRequest) -> Any:
    if request.param == "fakeredis":
        client = embedded_redis_client("redis-model-tests", db=2)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = server.client(db=6)
    client.flushdb()
    yield RedisStore(client)
    client.close()


@pytest.mark.parametrize("seed", range(40))
def test_model_matches_the_lua_scripts(lua_store: RedisStore, seed: int) -> None:
    rng = random.Random(seed)
    calls = [random_call(rng) for _ in range(40)]
    lua_store.reset()
    model_api, lua_api = api_on(RedisModelStore()), api_on(lua_store)
    for number, call in enumerate(calls):
        expected = answer(call(lua_api))
        got = answer(call(model_api))
        assert got == expected, f"seed {seed}, call {number}"
    # And the stored hashes agree field for field.
    for key in KEYS:
        lua_hash = lua_store.client.hgetall(f"myapp||{key}")
        model = model_api.components[0].store
        assert isinstance(model, RedisModelStore)
        model_hash = model.entry(f"myapp||{key}")
        if model_hash is None:
            assert lua_hash == {}
        else:
            assert lua_hash[b"data"] == model_hash.data
            assert int(lua_hash[b"version"]) == model_hash.version
            assert (b"first-write" in lua_hash) == model_hash.first_write


def test_the_model_reports_redis_7_script_errors() -> None:
    api = api_on(RedisModelStore())
    api.request("POST", "/v1.0/state/s", json=[{"key": "k", "value": 1}])
    reply = api.request("POST", "/v1.0/state/s", json=[{"key": "k", "value": 2, "etag": "9"}])
    assert reply.status == 409
    message = json.loads(reply.body)["message"]
    assert message.startswith("failed saving state in state store s: possible etag mismatch. "
                              "error from state store: ERR user_script:")
