"""HTTP contract tests: a running sidecar, spoken to over real HTTP, for every store profile.

Each expectation cites the section of ``docs/dapr-state-api.md`` it comes from
(``# §9 S6``). The same test runs on ``redis-fake``, ``redis-real`` and ``memory`` (the
``profile`` fixture); where the spec gives Redis and in-memory different answers, the test
branches on ``profile.is_redis``.

Redis script errors embed a line number and a SHA1 that depend on the script text, so they are
matched with regular expressions (§11.2 step 5). Nothing here sleeps: Redis TTLs are read with
the ``TTL`` command, and in-memory expiry runs on a fake clock.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import httpx
import pytest
from support import free_port

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start
from statelab.stores.memory import MemoryStore

SHA = r"[0-9a-f]{40}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
RFC3339_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RESOURCE_INFO = "type.googleapis.com/google.rpc.ResourceInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
MISMATCH = "possible etag mismatch. error from state store: "

#: Tests about the Redis layout only: run on redis-fake and redis-real, not in-memory.
redis_only = pytest.mark.parametrize("profile", ["redis-fake", "redis-real"], indirect=True)


# -- helpers ---------------------------------------------------------------------------------

def set_script_error(key: str) -> str:
    """§11.2 step 5: Redis 7's wording of the set script's error (line and SHA vary)."""
    return (rf"ERR user_script:\d+: failed to set key {re.escape(key)} script: {SHA}, "
            rf"on @user_script:\d+\.")


def del_script_error(key: str) -> str:
    """§11.4: the delete script's error, same Redis 7 wording."""
    return (rf"ERR user_script:\d+: failed to delete {re.escape(key)} script: {SHA}, "
            rf"on @user_script:\d+\.")


def error_of(resp: httpx.Response, status: int, code: str) -> str:
    """Check an error answer (§2.1) and return its message."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"  # §1 JSON responses
    assert not resp.content.endswith(b"\n")  # §1 error bodies use json.Marshal: no newline
    body = resp.json()
    assert body["errorCode"] == code, body
    return body["message"]


def plain_error_of(resp: httpx.Response, code: str, message: str) -> dict[str, Any]:
    """§2.1.1: a plain APIError has exactly errorCode and message."""
    body = resp.json()
    assert body == {"errorCode": code, "message": message}
    return body


def assert_204(resp: httpx.Response) -> None:
    """§1, §19.1: 204 is status only, empty body, no Content-Type."""
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    assert "content-type" not in resp.headers


def contract_header_names(profile: Any, key: str) -> list[str]:
    """Header names as the contract layer (``StateAPI``) spells them for a GET of *key*.

    On the wire uvicorn's httptools parser lowercases response header names (a documented
    deviation, see ``statelab/http.py``), so the Go-canonical spelling is checked here.
    """
    return [name for name, _ in profile.sidecar.api.request("GET", profile.url(key)).headers]


def etag_of(profile: Any, key: str) -> str:
    resp = profile.get(key)
    assert resp.status_code == 200, resp.text
    return resp.headers["etag"]


def body_of(profile: Any, key: str) -> bytes | None:
    resp = profile.get(key)
    if resp.status_code == 204:
        return None
    assert resp.status_code == 200, resp.text
    return resp.content


class RedisView:
    """What the Redis server holds behind a store (``HGETALL``, ``TTL``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def hash(self, key: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.client.hgetall(f"myapp||{key}").items()}

    def ttl(self, key: str) -> int:
        return int(self.client.ttl(f"myapp||{key}"))


@pytest.fixture
def redis_view(profile: Any) -> Iterator[RedisView | None]:
    if not profile.is_redis:
        yield None
        return
    client = profile.sidecar.redis(profile.store)
    try:
        yield RedisView(client)
    finally:
        client.close()


@pytest.fixture
def client(contract_sidecar: Sidecar) -> Iterator[httpx.Client]:
    """An HTTP client on the contract sidecar, for profile-independent checks."""
    with httpx.Client(base_url=contract_sidecar.url, timeout=10) as http:
        yield http


@pytest.fixture
def launch() -> Iterator[Callable[..., httpx.Client]]:
    """Start an extra sidecar (on its own free port) and return a client on it.

    A fixed free port, not 0: ``start()`` treats a second call with the same requested port
    and another configuration as a replacement and would stop the contract sidecar (port 0).
    ``start()`` also exports DAPR_HTTP_PORT/DAPR_API_TOKEN; they are restored afterwards.
    """
    saved = {name: os.environ.get(name) for name in ("DAPR_HTTP_PORT", "DAPR_API_TOKEN")}
    sidecars: list[Sidecar] = []
    clients: list[httpx.Client] = []

    def _launch(components: list[Component], **kwargs: Any) -> httpx.Client:
        sidecar = start(free_port(), "myapp", components, quiet=True, **kwargs)
        sidecars.append(sidecar)
        http = httpx.Client(base_url=sidecar.url, timeout=10)
        clients.append(http)
        return http

    try:
        yield _launch
    finally:
        for http in clients:
            http.close()
        for sidecar in sidecars:
            sidecar.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def memory_component(name: str = "extra", **kwargs: Any) -> Component:
    return Component(name=name, type="state.in-memory", version="v1", metadata={},
                     source="(test_api)", **kwargs)


def post_raw(profile: Any, body: bytes, path: str | None = None, **kwargs: Any) -> httpx.Response:
    return profile.http.post(path or profile.url(), content=body, **kwargs)


def transact(profile: Any, operations: list[dict[str, Any]], **kwargs: Any) -> httpx.Response:
    return profile.http.post(profile.url("transaction"), json={"operations": operations},
                             **kwargs)


# =============================================================================================
# §9: the ETag and concurrency matrix, single-item save and delete
# =============================================================================================
# Variants of one row run in one test, each on its own key (the loops keep the suite fast).

DEF, LW, FW = {}, {"concurrency": "last-write"}, {"concurrency": "first-write"}


def test_s1_new_key_no_etag(profile: Any, redis_view: RedisView | None) -> None:
    for key, options in (("def", DEF), ("lw", LW)):
        assert_204(profile.save({"key": key, "value": 1, "options": options}))
        etag = etag_of(profile, key)
        if profile.is_redis:
            assert etag == "1"  # §9 S1 R: version 1
            assert redis_view.hash(key) == {"data": "1", "version": "1"}  # §11.1, no flag
        else:
            assert re.fullmatch(UUID, etag)  # §9 S1 M: a new UUID etag


def test_s2_new_key_first_write(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1, "options": FW}))
    if profile.is_redis:
        # §9 S2 R: version 1 and the first-write flag set on the hash (§11.1: value 0)
        assert redis_view.hash("k") == {"data": "1", "version": "1", "first-write": "0"}
    else:
        assert re.fullmatch(UUID, etag_of(profile, "k"))  # §9 S2 M: 204


def test_s3_new_key_with_etag(profile: Any, redis_view: RedisView | None) -> None:
    for key, options in (("def", DEF), ("fw", FW)):
        resp = profile.save({"key": key, "value": 1, "etag": "5", "options": options})
        if profile.is_redis:
            assert_204(resp)  # §9 S3 R: the etag is ignored because the key is absent
            assert redis_view.hash(key)["version"] == "1"  # §9 S3 R: version becomes 1
        else:
            message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S3 M, E6
            assert message == (f"failed saving state in state store {profile.store}: "
                               f"{MISMATCH}state not exist or expired for key=myapp||{key}")
            assert profile.get(key).status_code == 204  # nothing written


def test_s4_non_integer_etag(profile: Any) -> None:
    for existing in (False, True):
        for name, options in (("def", DEF), ("fw", FW)):
            key = f"{name}-{existing}"
            if existing:
                assert_204(profile.save({"key": key, "value": 1}))
            resp = profile.save({"key": key, "value": 2, "etag": "abc", "options": options})
            if profile.is_redis:
                message = error_of(resp, 400, "ERR_STATE_SAVE")  # §9 S4 R: 400 (E7)
                plain_error_of(resp, "ERR_STATE_SAVE", message)  # §2.1.1 plain APIError
                assert message == (f"failed saving state in state store {profile.store}: "
                                   'invalid etag value: strconv.Atoi: parsing "abc": '
                                   "invalid syntax")  # §2.2 E7
            else:
                message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S4 M: etags are opaque
                assert message.startswith(f"failed saving state in state store "
                                          f"{profile.store}: {MISMATCH}")  # §2.2 E6
            assert body_of(profile, key) == (b"1" if existing else None)  # nothing written


def test_s5_existing_key_no_etag(profile: Any, redis_view: RedisView | None) -> None:
    for key, options in (("def", DEF), ("lw", LW)):
        assert_204(profile.save({"key": key, "value": 1}))
        first = etag_of(profile, key)
        assert_204(profile.save({"key": key, "value": 2, "options": options}))
        assert body_of(profile, key) == b"2"  # §9 S5: last write wins
        if profile.is_redis:
            assert redis_view.hash(key) == {"data": "2", "version": "2"}  # §9 S5 R: version+1
        else:
            assert etag_of(profile, key) != first  # §9 S5 M: new UUID
            assert re.fullmatch(UUID, etag_of(profile, key))


def test_s6_existing_key_first_write_no_etag(profile: Any,
                                             redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    resp = profile.save({"key": "k", "value": 2, "options": FW})
    if profile.is_redis:
        assert_204(resp)  # §9 S6 R: overwrites ...
        assert redis_view.hash("k") == {"data": "2", "version": "2", "first-write": "0"}  # (!)
    else:
        message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S6 M
        assert message == (f"failed saving state in state store {profile.store}: {MISMATCH}"
                           "item already exists and no etag was passed")
        assert body_of(profile, "k") == b"1"


def test_s7_flagged_key_no_etag(profile: Any, redis_view: RedisView | None) -> None:
    for key, options in (("def", DEF), ("lw", LW), ("fw", FW)):
        assert_204(profile.save({"key": key, "value": 1, "options": FW}))
        resp = profile.save({"key": key, "value": 2, "options": options})
        if profile.is_redis:
            # §9 S7 R: 500, not an ETag error because no etag was sent (§11.2 step 6, E8)
            message = error_of(resp, 500, "ERR_STATE_SAVE")
            plain_error_of(resp, "ERR_STATE_SAVE", message)
            assert re.fullmatch(
                re.escape(f"failed saving state in state store {profile.store}: failed to set "
                          f"key myapp||{key}: ") + set_script_error(f"myapp||{key}"), message)
            assert redis_view.hash(key) == {"data": "1", "version": "1", "first-write": "0"}
        elif options is FW:
            message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S7 M: fw gives 409
            assert message.endswith("item already exists and no etag was passed")
        else:
            assert_204(resp)  # §9 S7 M: no flag concept, def/lw give 204
            assert body_of(profile, key) == b"2"


def test_s8_matching_etag(profile: Any, redis_view: RedisView | None) -> None:
    for flagged in (False, True):
        for name, options in (("def", DEF), ("fw", FW)):
            key = f"{name}-{flagged}"
            assert_204(profile.save({"key": key, "value": 1, "options": FW if flagged else DEF}))
            etag = etag_of(profile, key)
            assert_204(profile.save({"key": key, "value": 2, "etag": etag,
                                     "options": options}))  # §9 S8
            assert body_of(profile, key) == b"2"
            if profile.is_redis:
                assert redis_view.hash(key)["version"] == "2"  # §9 S8 R: version+1
            else:
                assert etag_of(profile, key) != etag  # §9 S8 M: new UUID


def test_s9_stale_etag(profile: Any, redis_view: RedisView | None) -> None:
    for key, options in (("def", DEF), ("fw", FW)):
        assert_204(profile.save({"key": key, "value": 1}))
        current = etag_of(profile, key)
        stale = "7" if profile.is_redis else "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
        resp = profile.save({"key": key, "value": 2, "etag": stale, "options": options})
        message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S9: 409 (E6)
        plain_error_of(resp, "ERR_STATE_SAVE", message)  # §2.1.1
        prefix = f"failed saving state in state store {profile.store}: {MISMATCH}"
        if profile.is_redis:
            assert re.fullmatch(re.escape(prefix) + set_script_error(f"myapp||{key}"), message)
            assert redis_view.hash(key) == {"data": "1", "version": "1"}
        else:
            # §7.2: the in-memory store's wording
            assert message == (prefix + f"state etag not match for key=myapp||{key}: "
                               f"current={current}, expect={stale}")
        assert body_of(profile, key) == b"1"


def test_s10_last_write_with_etag(profile: Any, redis_view: RedisView | None) -> None:
    for kind in ("stale", "non-numeric", "matching"):
        assert_204(profile.save({"key": kind, "value": 1}))
        etag = {"stale": "7", "non-numeric": "abc", "matching": etag_of(profile, kind)}[kind]
        resp = profile.save({"key": kind, "value": 2, "etag": etag, "options": LW})
        if profile.is_redis or kind == "matching":
            assert_204(resp)  # §9 S10 R: etag ignored with last-write, overwrite
            assert body_of(profile, kind) == b"2"
            if profile.is_redis:
                assert redis_view.hash(kind)["version"] == "2"
        else:
            error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S10 M: etag still checked
            assert body_of(profile, kind) == b"1"
    # §9 S10 R: if the flag is set it fails, and since an etag was sent it is 409
    assert_204(profile.save({"key": "flagged", "value": 1, "options": FW}))
    resp = profile.save({"key": "flagged", "value": 2, "etag": "7", "options": LW})
    message = error_of(resp, 409, "ERR_STATE_SAVE")  # (M: "7" does not match the UUID)
    if profile.is_redis:
        assert re.fullmatch(re.escape(f"failed saving state in state store {profile.store}: "
                                      f"{MISMATCH}") + set_script_error("myapp||flagged"),
                            message)
        assert redis_view.hash("flagged")["data"] == "1"


def test_s11_empty_etag_is_no_etag(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1, "etag": ""}))  # §9 S11: new key
    assert_204(profile.save({"key": "k", "value": 2, "etag": ""}))  # §9 S11: as no etag
    assert body_of(profile, "k") == b"2"
    resp = profile.save({"key": "k", "value": 3, "etag": "", "options": FW})
    if profile.is_redis:
        assert_204(resp)  # §9 S6 R applies: fw without etag overwrites and sets the flag
        # §9 S11 + S7: on the flagged key "" is still "no etag": 500, not 409
        resp = profile.save({"key": "k", "value": 4, "etag": ""})
        message = error_of(resp, 500, "ERR_STATE_SAVE")
        assert "failed to set key myapp||k: " in message
        assert redis_view.hash("k")["data"] == "3"
    else:
        message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S11 M + S6 M
        assert message.endswith("item already exists and no etag was passed")


def test_s12_zero_etag(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    resp = profile.save({"key": "k", "value": 2, "etag": "0"})
    if profile.is_redis:
        assert_204(resp)  # §9 S12 R: same as no etag (the Lua compares with "0")
        assert redis_view.hash("k") == {"data": "2", "version": "2"}
        # §11.2: "0" with a flagged key fails the script; an etag was sent, so 409 (step 6)
        assert_204(profile.save({"key": "f", "value": 1, "options": FW}))
        error_of(profile.save({"key": "f", "value": 2, "etag": "0"}), 409, "ERR_STATE_SAVE")
    else:
        error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S12 M: a mismatch
        assert body_of(profile, "k") == b"1"


def test_s13_recreate_after_delete(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    old = etag_of(profile, "k")
    assert_204(profile.save({"key": "k", "value": 2}))
    assert_204(profile.delete("k"))
    assert_204(profile.save({"key": "k", "value": 3}))
    if profile.is_redis:
        assert etag_of(profile, "k") == "1"  # §9 S13 R: the version restarts at 1
        assert_204(profile.save({"key": "k", "value": 4, "etag": old}))  # ABA: "1" matches
        assert redis_view.hash("k")["version"] == "2"
    else:
        assert etag_of(profile, "k") != old  # §9 S13 M: new UUID
        error_of(profile.save({"key": "k", "value": 4, "etag": old}), 409, "ERR_STATE_SAVE")


def test_d1_d2_delete_missing(profile: Any) -> None:
    assert_204(profile.delete("missing"))  # §9 D1, §5
    resp = profile.delete("missing", etag="3")
    if profile.is_redis:
        assert_204(resp)  # §9 D2 R: nothing to compare
    else:
        message = error_of(resp, 409, "ERR_STATE_DELETE")  # §9 D2 M, §5, E10
        plain_error_of(resp, "ERR_STATE_DELETE", message)
        assert message == (f"failed deleting state with key missing: {MISMATCH}"
                           "state not exist or expired for key=myapp||missing")


def test_d3_delete_matching_if_match(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1, "options": FW}))
    assert_204(profile.delete("k", etag=etag_of(profile, "k")))  # §9 D3
    assert profile.get("k").status_code == 204
    if profile.is_redis:
        assert redis_view.hash("k") == {}  # §11.3: the flag goes with the key


def test_d4_delete_stale_or_non_numeric_if_match(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    for etag in ("7", "abc", '"1"'):
        resp = profile.delete("k", etag=etag)
        message = error_of(resp, 409, "ERR_STATE_DELETE")  # §9 D4: 409, §5: never 400 on Redis
        plain_error_of(resp, "ERR_STATE_DELETE", message)
        prefix = f"failed deleting state with key k: {MISMATCH}"  # §2.2 E10: no store name
        if profile.is_redis:
            assert re.fullmatch(re.escape(prefix) + del_script_error("myapp||k"), message), message
        else:
            assert message.startswith(prefix + "state etag not match for key=myapp||k: ")
    assert body_of(profile, "k") == b"1"


def test_d5_delete_first_write_without_if_match(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    resp = profile.delete("k", params={"concurrency": "first-write"})
    if profile.is_redis:
        assert_204(resp)  # §9 D5 R: deletes
        assert profile.get("k").status_code == 204
    else:
        message = error_of(resp, 409, "ERR_STATE_DELETE")  # §9 D5 M
        assert message == (f"failed deleting state with key k: {MISMATCH}"
                           "item already exists and no etag was passed")
        assert body_of(profile, "k") == b"1"


def test_if_match_is_compared_verbatim(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    etag = etag_of(profile, "k")
    # §4 ETag quoting: a quoted etag is a mismatch; §5: an empty If-Match counts as no etag
    error_of(profile.delete("k", etag=f'"{etag}"'), 409, "ERR_STATE_DELETE")
    assert_204(profile.delete("k", etag=""))
    assert profile.get("k").status_code == 204


# =============================================================================================
# §2.2: the error catalogue
# =============================================================================================

def _all_state_calls(http: httpx.Client, store: str) -> list[httpx.Response]:
    """One call per state route, each with a malformed body where a body is read (§19.2)."""
    base = f"/v1.0/state/{store}"
    return [
        http.get(f"{base}/k"),
        http.delete(f"{base}/k"),
        http.post(base, content=b"foobar"),
        http.post(f"{base}/bulk", content=b"foobar"),
        http.post(f"{base}/transaction", content=b"foobar"),
        http.post(f"/v1.0-alpha1/state/{store}/query", content=b"foobar"),
    ]


def test_e1_no_state_store_configured(launch: Callable[..., httpx.Client]) -> None:
    http = launch([])
    for resp in _all_state_calls(http, "statestore"):
        # §2.2 E1: 500, checked before the store name and before the body (§19.2)
        message = error_of(resp, 500, "ERR_STATE_STORE_NOT_CONFIGURED")
        assert message == "state store statestore is not configured"
        assert resp.json()["details"] == [  # §2.1.2: [ErrorInfo] only, metadata appID
            {"@type": ERROR_INFO, "reason": "DAPR_STATE_NOT_CONFIGURED", "domain": "dapr.io",
             "metadata": {"appID": "myapp"}}]
    meta = http.get("/v1.0/metadata")
    assert meta.status_code == 200 and meta.json()["id"] == "myapp"  # §13.1
    assert "components" not in meta.json()  # §13.1: fields are omitted when empty


def test_e2_unknown_store(client: httpx.Client) -> None:
    for resp in _all_state_calls(client, "nope"):
        # §2.2 E2, checked before body parsing (§19.2)
        message = error_of(resp, 400, "ERR_STATE_STORE_NOT_FOUND")
        assert message == "state store nope is not found"
        assert resp.json()["details"] == [  # §2.1.2: [ErrorInfo] only
            {"@type": ERROR_INFO, "reason": "DAPR_STATE_NOT_FOUND", "domain": "dapr.io",
             "metadata": {"appID": "myapp"}}]
    # §7.1 order of checks: the store exists (E2) before "empty operations gives 204"
    resp = client.post("/v1.0/state/nope/transaction", json={"operations": []})
    error_of(resp, 400, "ERR_STATE_STORE_NOT_FOUND")
    error_of(client.post("/v1.0/state/nope", json=[]), 400, "ERR_STATE_STORE_NOT_FOUND")


def _check_illegal_key(resp: httpx.Response, store: str, key: str = "a||b",
                       field: str | None = None) -> None:
    """E3 as daprd's HTTP handlers answer it: each wraps GetModifiedStateKey's kit error in
    InvalidKeyName(key, err.Error()) again (pkg/api/http/http.go), so the message carries the
    kit's "api error: code = ... desc = ..." text; *field* is the BadRequest field (the key,
    or "" in a transaction, whose handler has already cleared the key)."""
    field = key if field is None else field
    message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E3
    assert message == (f"api error: code = InvalidArgument desc = input key/keyPrefix "
                       f"'{key}' can't contain '||'")
    # §2.1.2: illegal key details are [BadRequest, ResourceInfo, ErrorInfo], in that order,
    # each a Go map written with sorted keys; a violation's empty field is omitted (omitempty)
    violation = ({"field": field} if field else {}) | {"description": message}
    assert resp.content == json.dumps({
        "errorCode": "ERR_MALFORMED_REQUEST", "message": message, "details": [
            {"@type": BAD_REQUEST, "field_violations": [violation]},
            {"@type": RESOURCE_INFO, "description": "", "owner": "", "resource_name": store,
             "resource_type": "state"},
            {"@type": ERROR_INFO, "domain": "dapr.io", "metadata": None,
             "reason": "DAPR_STATE_ILLEGAL_KEY"}]},
        separators=(",", ":"), ensure_ascii=False).encode()


def test_e3_illegal_key_everywhere(profile: Any) -> None:
    _check_illegal_key(profile.get("a||b"), profile.store)  # §4 + E3
    _check_illegal_key(profile.delete("a||b"), profile.store)  # §5 + E3
    _check_illegal_key(profile.get("a%7C%7Cb"), profile.store)  # escaped, decoded first (§1)
    # §3.1 + E3: checked for every item before the store is called; nothing is written
    _check_illegal_key(profile.save({"key": "good", "value": 1}, {"key": "a||b", "value": 2}),
                       profile.store)
    assert profile.get("good").status_code == 204
    # §6: a key with || fails the whole bulk call
    _check_illegal_key(profile.http.post(profile.url("bulk"), json={"keys": ["ok", "a||b"]}),
                       profile.store)
    # §7.1: || in a transaction key (upsert or delete): the BadRequest field is ""
    _check_illegal_key(transact(profile, [
        {"operation": "upsert", "request": {"key": "good", "value": 1}},
        {"operation": "delete", "request": {"key": "a||b"}}]), profile.store, field="")
    _check_illegal_key(transact(profile, [
        {"operation": "upsert", "request": {"key": "a||b", "value": 1}}]), profile.store,
        field="")
    assert profile.get("good").status_code == 204


E4_CASES = [
    # (body, exact message) §2.2 E4: the raw Go decoder text, no prefix
    (b"", "EOF"),
    (b"{}", "json: cannot unmarshal object into Go value of type []state.SetRequest"),
    (b"foobar", "invalid character 'o' in literal false (expecting 'a')"),
    (b'[{"key":"k","value":1},]', "invalid character ']' looking for beginning of value"),
    (b'[{"key":"k","value":1,"etag":123}]',
     "json: cannot unmarshal number into Go struct field SetRequest.etag of type string"),
    # §16 #1: a JSON string literal instead of an array
    (b'"[{\\"key\\":\\"k\\"}]"',
     "json: cannot unmarshal string into Go value of type []state.SetRequest"),
    # §2.2 E5: missing or empty key
    (b"[{}]", '"key" is a required field'),
    (b'[{"ey":"k","value":1}]', '"key" is a required field'),
    (b'[{"key":"","value":1}]', '"key" is a required field'),
    (b'[{"key":"k2","value":1},{"value":2}]', '"key" is a required field'),
]


def test_e4_e5_malformed_save_body(profile: Any) -> None:
    for body, expected in E4_CASES:
        resp = post_raw(profile, body)
        message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E4/E5
        plain_error_of(resp, "ERR_MALFORMED_REQUEST", expected)  # §2.1.1: no details
        assert message == expected, body
    assert profile.get("k").status_code == 204  # nothing written
    assert profile.get("k2").status_code == 204


def test_e4_metadata_value_must_be_a_string(profile: Any) -> None:
    resp = post_raw(profile, b'[{"key":"k","value":1,"metadata":{"ttlInSeconds":120}}]')
    message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E4, §3.1 metadata
    # Go may or may not append the map key to the field path: match both forms.
    assert message.startswith("json: cannot unmarshal number into Go struct field "
                              "SetRequest.metadata")
    assert message.endswith(" of type string")
    assert profile.get("k").status_code == 204


def test_e8_bad_ttl(profile: Any) -> None:
    resp = profile.save({"key": "k", "value": 1, "metadata": {"ttlInSeconds": "abc"}})
    message = error_of(resp, 500, "ERR_STATE_SAVE")  # §2.2 E8, §11.5
    prefix = f"failed saving state in state store {profile.store}: "
    if profile.is_redis:
        # components-contrib parseTTL: strconv.ParseInt(val, 10, 0) (state/redis/redis.go)
        assert message == (prefix + 'failed to parse ttl from metadata: strconv.ParseInt: '
                           'parsing "abc": invalid syntax')  # §11.5
    else:
        assert message.startswith(prefix) and 'parsing "abc": invalid syntax' in message  # §12
    assert profile.get("k").status_code == 204


def test_e8_unknown_option_word_on_save(profile: Any) -> None:
    for field, word in (("concurrency", "x"), ("consistency", "y"), ("concurrency", "First")):
        resp = profile.save({"key": "k", "value": 1, "options": {field: word}})
        message = error_of(resp, 500, "ERR_STATE_SAVE")  # §2.2 E8, §19.6
        assert message == (f"failed saving state in state store {profile.store}: "
                           f"unrecognized {field} model '{word}'")
    assert profile.get("k").status_code == 204


@redis_only
def test_e9_redis_hash_without_version(profile: Any, redis_view: RedisView | None) -> None:
    redis_view.client.hset("myapp||broken", "data", "1")
    message = error_of(profile.get("broken"), 500, "ERR_STATE_GET")  # §2.2 E9, §4
    plain_error_of(profile.get("broken"), "ERR_STATE_GET", message)  # §2.1.1
    assert message == (f"fail to get broken from state store {profile.store}: "
                       "required hash field 'data' or 'version' was not found")
    # §6: per-key errors go into the item's error field, data and etag omitted
    resp = profile.http.post(profile.url("bulk"), json={"keys": ["broken"]})
    assert resp.status_code == 200
    assert resp.json() == [{"key": "broken",
                            "error": "required hash field 'data' or 'version' was not found"}]


def test_e11_delete_bad_option_words(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    for params, detail in (({"consistency": "foo"}, "unrecognized consistency model 'foo'"),
                           ({"concurrency": "bar"}, "unrecognized concurrency model 'bar'")):
        resp = profile.delete("k", params=params)
        message = error_of(resp, 500, "ERR_STATE_DELETE")  # §2.2 E11
        assert message == f"failed deleting state with key k: {detail}"
    assert body_of(profile, "k") == b"1"


def test_option_validation_rules(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    resp = profile.get("k", params={"consistency": "foo", "concurrency": "bar"})
    assert resp.status_code == 200 and resp.content == b"1"  # §4, §19.6: not validated on get
    assert_204(profile.save({"key": "s", "value": 1,
                             "options": {"concurrency": "last-write",
                                         "consistency": "strong"}}))  # §3.1 valid words
    assert_204(profile.delete("s", params={"consistency": "eventual",
                                           "concurrency": "last-write"}))  # §5
    assert_204(profile.save({"key": "k", "value": 1}))
    # §16 #4: consistency/concurrency sent as headers are ignored (a bad word would be 500)
    resp = profile.http.get(profile.url("k"), headers={"consistency": "bogus"})
    assert resp.status_code == 200
    resp = profile.http.delete(profile.url("k"), headers={"concurrency": "bogus",
                                                          "consistency": "bogus"})
    assert_204(resp)
    # §5 + §9 D5 M: as a header first-write has no effect, so in-memory deletes too
    assert_204(profile.save({"key": "k", "value": 1}))
    assert_204(profile.http.delete(profile.url("k"), headers={"concurrency": "first-write"}))
    assert profile.get("k").status_code == 204


def test_e12_bulk_body_not_decodable(profile: Any) -> None:
    resp = post_raw(profile, b"foobar", profile.url("bulk"))
    message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E12
    plain_error_of(resp, "ERR_MALFORMED_REQUEST", message)
    assert message == ("failed deserializing HTTP body: "
                       "invalid character 'o' in literal false (expecting 'a')")
    resp = post_raw(profile, b'{"keys":"k1"}', profile.url("bulk"))
    message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E12
    assert message.startswith("failed deserializing HTTP body: json: cannot unmarshal string "
                              "into Go struct field")
    resp = post_raw(profile, b'{"keys":["k1"],"parallelism":"2"}', profile.url("bulk"))
    message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §6: parallelism is an int
    assert message.startswith("failed deserializing HTTP body: json: cannot unmarshal string")


E15_BODIES = [
    b"foobar",
    b"",
    b'{"operations":{}}',
    b'{"operations":[{"operation":"upsert","request":{"key":"k","etag":5}}]}',
    b'{"operations":[{"operation":"upsert","request":{"key":"k","metadata":{"ttlInSeconds":5}}}]}',
    b'{"operations":[{"operation":"upsert","request":"k"}]}',
    b'{"operations":[{"operation":"upsert","request":{"key":"k","value":1}},'
    b'{"operation":"delete","request":{"key":"k","etag":{"value":"1"}}}]}',  # §17.1 JS pitfall
]


def test_e15_transaction_body_not_decodable(profile: Any) -> None:
    for body in E15_BODIES:
        resp = post_raw(profile, body, profile.url("transaction"))
        message = error_of(resp, 400, "ERR_MALFORMED_REQUEST")  # §2.2 E15, §7.1 mapstructure
        plain_error_of(resp, "ERR_MALFORMED_REQUEST", message)
        assert message.startswith("failed deserializing HTTP body: "), body
    assert profile.get("k").status_code == 204  # nothing applied


def test_e16_unknown_transaction_operation(profile: Any) -> None:
    for operation in ("UPSERT", "Delete", "get", ""):
        resp = transact(profile, [{"operation": "upsert", "request": {"key": "k", "value": 1}},
                                  {"operation": operation, "request": {"key": "k2"}}])
        message = error_of(resp, 400, "ERR_NOT_SUPPORTED_STATE_OPERATION")  # §2.2 E16
        plain_error_of(resp, "ERR_NOT_SUPPORTED_STATE_OPERATION", message)
        assert message == f"operation type {operation} not supported"  # case-sensitive
    assert profile.get("k").status_code == 204  # §7.1: decoding happens before the store


def test_e19_e20_query(profile: Any) -> None:
    url = f"/v1.0-alpha1/state/{profile.store}/query"
    for body in (b'{"filter":{"EQ":{"a":1}}}', b"foobar"):
        resp = profile.http.post(url, content=body)
        if profile.is_memory:
            # §2.2 E19 (checked before the body is parsed)
            message = error_of(resp, 500, "ERR_STATE_STORE_NOT_SUPPORTED")
            assert message == "state store does not support querying"
            reason = "DAPR_STATE_QUERYING_NOT_SUPPORTED"
        else:
            message = error_of(resp, 500, "ERR_STATE_QUERY")  # §2.2 E20
            prefix = f"state store {profile.store} query failed: "
            if body == b"foobar":
                assert message.startswith(prefix + "failed to parse JSON query body: ")
            else:
                assert message == (prefix + "redis-json server support is required for "
                                   "query capability")  # §8.3: no RedisJSON module
            reason = None
        details = resp.json()["details"]
        # §2.1.2: query unsupported or failed: [ResourceInfo, ErrorInfo]
        assert [d["@type"] for d in details] == [RESOURCE_INFO, ERROR_INFO]
        assert details[0]["resource_name"] == profile.store
        if reason:
            assert details[1]["reason"] == reason
    # §1: query accepts PUT too; GET is not routed (404)
    assert profile.http.put(url, content=b"{}").status_code == 500
    error_of(profile.http.get(url), 404, "ERR_DIRECT_INVOKE")


# =============================================================================================
# §1: routing, path decoding, token, health and metadata
# =============================================================================================

DIRECT_INVOKE = "failed getting app id either from the URL path or the header dapr-app-id"


def test_unmatched_routes_fall_back_to_direct_invoke(profile: Any) -> None:
    base = profile.url()
    for method, path in [("GET", f"{base}/a/b"), ("DELETE", base), ("PATCH", base),
                         ("GET", base), ("PUT", f"{base}/k"), ("DELETE", f"{base}/a/b"),
                         ("GET", "/v1.0/nothing-here")]:
        resp = profile.http.request(method, path)
        message = error_of(resp, 404, "ERR_DIRECT_INVOKE")  # §1 unmatched route or method
        plain_error_of(resp, "ERR_DIRECT_INVOKE", message)
        assert message == DIRECT_INVOKE


def test_get_bulk_is_a_get_of_key_bulk(profile: Any) -> None:
    assert profile.get("bulk").status_code == 204  # §1: GET .../bulk reads key "bulk"
    assert_204(profile.save({"key": "bulk", "value": "b"}))
    assert profile.get("bulk").content == b'"b"'
    assert_204(profile.save({"key": "transaction", "value": "t"}))
    assert profile.get("transaction").content == b'"t"'
    assert_204(profile.delete("bulk"))  # DELETE .../bulk deletes key "bulk" too


def test_path_decoding(profile: Any) -> None:
    assert_204(profile.save({"key": "a/b", "value": 1}, {"key": "a b", "value": 2},
                            {"key": "a+b", "value": 3}, {"key": "50%", "value": 4}))
    assert profile.get("a%2Fb").content == b"1"  # §1: %2F decodes to /, a key with a slash
    error_of(profile.get("a/b"), 404, "ERR_DIRECT_INVOKE")  # §4: a literal / is another route
    assert profile.get("a+b").content == b"2"  # §1: + becomes a space
    assert profile.get("a%20b").content == b"2"
    assert profile.get("a%2Bb").content == b"3"  # §4: the client must send %2B
    assert profile.get("50%25").content == b"4"
    assert_204(profile.delete("a+b"))  # deletes "a b"
    assert profile.get("a%20b").status_code == 204
    assert profile.get("a%2Bb").content == b"3"


def test_bad_escape_is_plain_text_400(profile: Any) -> None:
    for method, path, param, bad in (
            ("GET", f"{profile.url()}/a%zz", "key", "%zz"),
            ("GET", f"{profile.url()}/a%2", "key", "%2"),
            ("DELETE", f"{profile.url()}/%G1", "key", "%G1"),
            ("GET", "/v1.0/state/s%zz/k", "storeName", "%zz")):
        resp = profile.http.request(method, path)
        assert resp.status_code == 400, path  # §1 path decoding
        assert resp.headers["content-type"].startswith("text/plain")  # http.Error, not JSON
        assert resp.text == (f'failed to unescape request parameter "{param}". '
                             f'Error: invalid URL escape "{bad}"\n')


def test_double_and_trailing_slashes(profile: Any) -> None:
    store = profile.store
    assert_204(profile.http.post(f"/v1.0//state/{store}/", json=[{"key": "k", "value": 1}]))
    assert profile.http.get(f"/v1.0//state//{store}//k").content == b"1"  # §1 normalisation
    assert profile.http.get(f"/v1.0/state/{store}/k/").content == b"1"
    resp = profile.http.post(f"/v1.0/state/{store}/bulk/", json={"keys": ["k"]})
    assert resp.status_code == 200 and resp.json()[0]["data"] == 1
    assert_204(profile.http.delete(f"/v1.0/state//{store}/k/"))
    assert profile.get("k").status_code == 204


def test_put_is_accepted_like_post(profile: Any) -> None:
    # §1 Methods: save, bulk and transaction accept POST or PUT
    assert_204(profile.http.put(profile.url(), json=[{"key": "k", "value": 1}]))
    assert profile.http.put(profile.url("bulk"), json={"keys": ["k"]}).status_code == 200
    assert_204(profile.http.put(profile.url("transaction"), json={"operations": [
        {"operation": "delete", "request": {"key": "k"}}]}))
    assert profile.get("k").status_code == 204


def test_request_decoding_rules(profile: Any) -> None:
    # §1 JSON decoding: case-insensitive field names, unknown fields ignored,
    # trailing bytes after the first value ignored, Content-Type ignored
    body = b'[{"KEY":"ci","Value":{"x":1},"eTag":"","unknown":true}] trailing garbage'
    assert_204(post_raw(profile, body, headers={"Content-Type": "text/plain"}))
    assert profile.get("ci").content == b'{"x":1}'
    assert_204(profile.save())  # §3.2: [] is 204, the store is not touched
    # §3.2: an item without value stores null; duplicate keys are 204
    assert_204(profile.save({"key": "nv", "vae": 1}, {"key": "dup", "value": 1},
                            {"key": "dup", "value": 1}))
    assert profile.get("nv").content == b"null"
    # §19.2 + §3.2: a known store with a bad body gets E4; an unknown one gets E2 (see E2 test)
    error_of(post_raw(profile, b"foobar"), 400, "ERR_MALFORMED_REQUEST")
    resp = profile.http.post("/v1.0/state/unknown", content=b"foobar")
    error_of(resp, 400, "ERR_STATE_STORE_NOT_FOUND")


def test_api_token(launch: Callable[..., httpx.Client]) -> None:
    http = launch([memory_component()], api_token="s3cret")
    for path in ("/v1.0/state/extra/k", "/v1.0/metadata", "/v1.0/state/extra/a/b"):
        for headers in ({}, {"dapr-api-token": "wrong"}):
            resp = http.get(path, headers=headers)
            assert resp.status_code == 401  # §1 API token
            assert resp.headers["content-type"].startswith("text/plain")
            assert resp.text == "invalid api token\n"  # plain text (http.Error adds \n)
    resp = http.post("/v1.0/state/extra", content=b"foobar")
    assert resp.status_code == 401  # the token is checked before anything else
    # §1, §13.2: healthz and healthz/outbound need no token
    assert_204(http.get("/v1.0/healthz"))
    assert_204(http.get("/v1.0/healthz/outbound"))
    token = {"dapr-api-token": "s3cret"}
    assert_204(http.post("/v1.0/state/extra", json=[{"key": "k", "value": 1}], headers=token))
    assert http.get("/v1.0/state/extra/k", headers=token).content == b"1"
    assert http.get("/v1.0/state/extra/k", headers={"DAPR-API-TOKEN": "s3cret"}).content == b"1"


def test_healthz(client: httpx.Client) -> None:
    assert_204(client.get("/v1.0/healthz"))  # §13.2
    assert_204(client.get("/v1.0/healthz", params={"appid": "myapp"}))
    assert_204(client.get("/v1.0/healthz/outbound"))  # §13.2, §19.12 Python SDK probe
    resp = client.get("/v1.0/healthz", params={"appid": "other"})
    message = error_of(resp, 500, "ERR_HEALTH_APPID_NOT_MATCH")  # §13.2
    assert message == "dapr app-id does not match"


def test_metadata(client: httpx.Client, contract_sidecar: Sidecar) -> None:
    resp = client.get("/v1.0/metadata")
    assert resp.status_code == 200  # §13.1
    assert resp.headers["content-type"] == "application/json"
    assert resp.content.strip()  # §13.1, §19.12: non-empty body (JS SDK probe)
    payload = resp.json()
    assert payload["id"] == "myapp"
    assert payload["runtimeVersion"] == "1.18.3"
    assert payload["extended"]["daprRuntimeVersion"] == "1.18.3"
    components = {c["name"]: c for c in payload["components"]}
    redis_caps = ["ETAG", "TRANSACTIONAL", "TTL", "KEYS_LIKE", "ACTOR"]  # §13.1 Redis, no JSON
    memory_caps = ["ETAG", "TRANSACTIONAL", "TTL", "DELETE_WITH_PREFIX", "KEYS_LIKE",
                   "ACTOR"]  # §13.1 in-memory
    assert components["fakestore"] == {"name": "fakestore", "type": "state.redis",
                                       "version": "v1", "capabilities": redis_caps}
    assert components["memstore"] == {"name": "memstore", "type": "state.in-memory",
                                      "version": "v1", "capabilities": memory_caps}
    if "realstore" in components:
        assert components["realstore"]["capabilities"] == redis_caps
    # §13.1: PUT /v1.0/metadata/{attr} stores the raw body in extended and answers 204
    assert_204(client.put("/v1.0/metadata/test-api-attr", content=b"hello world"))
    assert client.get("/v1.0/metadata").json()["extended"]["test-api-attr"] == "hello world"
    # GET on an attribute is not routed
    error_of(client.get("/v1.0/metadata/test-api-attr"), 404, "ERR_DIRECT_INVOKE")


def test_body_size_limit(launch: Callable[..., httpx.Client]) -> None:
    http = launch([memory_component()], max_body_size=256)
    assert_204(http.post("/v1.0/state/extra", json=[{"key": "k", "value": "small"}]))
    big = [{"key": "k", "value": "x" * 1000}]
    resp = http.post("/v1.0/state/extra", json=big)
    # §1 body size: the body is refused (the exact daprd answer is not in the spec)
    assert 400 <= resp.status_code < 500, resp.text
    resp = http.post("/v1.0/state/extra/transaction", json={"operations": [
        {"operation": "upsert", "request": big[0]}]})
    assert 400 <= resp.status_code < 500, resp.text
    assert http.get("/v1.0/state/extra/k").content == b'"small"'  # data intact afterwards
    assert_204(http.post("/v1.0/state/extra", json=[{"key": "k", "value": "next"}]))
    assert http.get("/v1.0/state/extra/k").content == b'"next"'


# =============================================================================================
# §3.4 values, §19.1 status discipline, §4 get headers
# =============================================================================================

VALUE_CASES = [
    # (sent value as raw JSON, Redis GET body, in-memory GET body) §3.4
    (b'"value1"', b'"value1"', b'"value1"'),  # strings keep their quotes
    (b"42", b"42", b"42"),
    (b"3.14159265", b"3.141593", b"3.14159265"),  # jsoniter ConfigFastest: 6 decimals
    (b"0.0000001", b"0", b"1e-7"),
    (b"-2.5", b"-2.5", b"-2.5"),
    (b"12345678901234567890", b"12345678901234567000", b"12345678901234567000"),  # float64
    (b'"<b>&"', b'"<b>&"', b'"\\u003cb\\u003e\\u0026"'),  # only in-memory HTML-escapes
    (b"null", b"null", b"null"),
    (b"true", b"true", b"true"),
    (b'[1, "a", null]', b'[1,"a",null]', b'[1,"a",null]'),
    (b'{"z": {"y": 1.25}, "a": [0.5]}', None, b'{"a":[0.5],"z":{"y":1.25}}'),
]


def test_values(profile: Any, redis_view: RedisView | None) -> None:
    for index, (sent, redis_body, memory_body) in enumerate(VALUE_CASES):
        key = f"v{index}"
        assert_204(post_raw(profile, b'[{"key":"' + key.encode() + b'","value":' + sent + b"}]"))
        resp = profile.get(key)
        assert resp.status_code == 200  # §4 found (null included, §3.4)
        assert resp.headers["content-type"] == "application/json"
        if profile.is_redis:
            if redis_body is None:
                # §3.4: Redis key order is effectively random; the content is what counts
                assert json.loads(resp.content) == json.loads(sent)
                assert b" " not in resp.content
            else:
                assert resp.content == redis_body, sent
            assert redis_view.hash(key)["data"].encode() == resp.content  # §3.4 verbatim
        else:
            assert resp.content == memory_body, sent  # §3.4 in-memory: encoding/json
    # §3.4: object key order
    assert_204(profile.save({"key": "o", "value": {"b": 1, "a": 2}}))
    body = profile.get("o").content
    if profile.is_redis:
        assert body in (b'{"b":1,"a":2}', b'{"a":2,"b":1}')  # §3.4 R: any order
    else:
        assert body == b'{"a":2,"b":1}'  # §3.4 M: sorted
    assert_204(profile.save({"key": "n"}))
    resp = profile.get("n")
    assert resp.status_code == 200 and resp.content == b"null"  # §3.4: 200 with body null
    assert resp.headers["etag"]


def test_status_discipline_and_etag_header(profile: Any) -> None:
    resp = profile.save({"key": "k", "value": {"a": 1}})
    assert_204(resp)  # §19.1 save: 204, no body
    resp = profile.get("k")
    assert resp.status_code == 200  # §19.1 get hit: 200 with the stored bytes
    assert resp.headers["content-type"] == "application/json"
    assert "Etag" in contract_header_names(profile, "k")  # §4, §19.9: Go-canonical spelling
    etag = resp.headers["etag"]
    assert not etag.startswith('"') and not etag.startswith("W/")  # §4: unquoted
    if profile.is_redis:
        assert etag == "1"  # §19.4: "1", "2", ...
    else:
        assert re.fullmatch(UUID, etag)  # §19.4: UUIDs
    assert not any(name.lower().startswith("metadata.") for name in resp.headers)  # no TTL
    miss = profile.get("missing")
    assert_204(miss)  # §19.1 get miss: 204, empty body, no Etag
    assert "etag" not in miss.headers
    assert_204(transact(profile, [{"operation": "delete", "request": {"key": "k"}}]))  # §19.1
    assert_204(profile.delete("k"))  # §5: delete of a missing key is 204 too


@redis_only
def test_redis_legacy_plain_string_key(profile: Any, redis_view: RedisView | None) -> None:
    redis_view.client.set("myapp||legacy", b'"raw"')
    resp = profile.get("legacy")
    assert resp.status_code == 200 and resp.content == b'"raw"'  # §11.1: returned raw ...
    assert "etag" not in resp.headers  # ... without an ETag
    assert_204(profile.save({"key": "legacy", "value": 1}))  # §11.1/§11.2: recreated as hash
    assert redis_view.hash("legacy") == {"data": "1", "version": "1"}


# =============================================================================================
# §6 bulk get
# =============================================================================================

def test_bulk_get(profile: Any) -> None:
    assert_204(profile.save({"key": "k1", "value": "v1"}, {"key": "k2", "value": {"n": 1}}))
    e1, e2 = etag_of(profile, "k1"), etag_of(profile, "k2")
    resp = profile.http.post(profile.url("bulk"), json={"keys": ["k2", "k3", "k1", "k1"],
                                                        "parallelism": 2})
    assert resp.status_code == 200  # §6
    assert resp.headers["content-type"] == "application/json"
    assert resp.content.endswith(b"]\n")  # §1, §19.11: json.Encoder adds a newline
    # §6: request order, duplicates twice, missing key is {"key": ...} only, data is raw JSON;
    # field order key, data, etag (Go struct order)
    expected = [
        {"key": "k2", "data": {"n": 1}, "etag": e2},
        {"key": "k3"},
        {"key": "k1", "data": "v1", "etag": e1},
        {"key": "k1", "data": "v1", "etag": e1},
    ]
    assert resp.json() == expected
    assert resp.content == (json.dumps(expected, separators=(",", ":")) + "\n").encode()


def test_bulk_get_no_keys(profile: Any) -> None:
    for body in ({"keys": []}, {}, {"keys": None}):
        resp = profile.http.post(profile.url("bulk"), json=body)
        assert resp.status_code == 200 and resp.content == b"[]\n"  # §6: empty keys gives []


def test_bulk_get_html_escapes_data(profile: Any) -> None:
    assert_204(profile.save({"key": "h", "value": "<b>"}))
    single = profile.get("h").content
    assert single == (b'"<b>"' if profile.is_redis else b'"\\u003cb\\u003e"')  # §3.4
    resp = profile.http.post(profile.url("bulk"), json={"keys": ["h"]})
    assert b'"data":"\\u003cb\\u003e"' in resp.content  # §6: json.Encoder HTML-escapes data
    assert resp.json()[0]["data"] == "<b>"


@redis_only
def test_bulk_get_redis_compacts_and_non_json(profile: Any,
                                              redis_view: RedisView | None) -> None:
    redis_view.client.hset("myapp||spaced", mapping={"data": '{ "a" : 1 }', "version": "1"})
    assert profile.get("spaced").content == b'{ "a" : 1 }'  # §4: the GET body is verbatim
    resp = profile.http.post(profile.url("bulk"), json={"keys": ["spaced"]})
    assert resp.content == b'[{"key":"spaced","data":{"a":1},"etag":"1"}]\n'  # §6 compacts
    redis_view.client.hset("myapp||raw", mapping={"data": "not json", "version": "1"})
    resp = profile.http.post(profile.url("bulk"), json={"keys": ["spaced", "raw"]})
    assert resp.status_code == 200 and resp.content == b""  # §6 (inferred): 200, empty body


def test_bulk_get_url_metadata_wins(profile: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = profile.sidecar.component(profile.store).store
    seen: list[dict[str, str]] = []
    real_get = store.get

    def spy(key: str, metadata: dict[str, str]) -> Any:
        seen.append(dict(metadata))
        return real_get(key, metadata)

    monkeypatch.setattr(store, "get", spy)
    resp = profile.http.post(profile.url("bulk"),
                             params={"metadata.a": "url", "Metadata.c": "ignored"},
                             json={"keys": ["k"], "metadata": {"a": "body", "b": "body"}})
    assert resp.status_code == 200
    # §6: body metadata merged with URL metadata.*, the URL wins; §1: exact "metadata." prefix
    assert seen == [{"a": "url", "b": "body"}]


# =============================================================================================
# §3.3 several items in one save
# =============================================================================================

def test_multi_item_partial_failure(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    stale = "7" if profile.is_redis else "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    resp = profile.save({"key": "good", "value": "g"}, {"key": "k", "value": 2, "etag": stale})
    message = error_of(resp, 409, "ERR_STATE_SAVE")  # §3.3: all failures are etag errors
    # §3.3: the prefix is repeated twice
    assert message.startswith(f"failed saving state in state store {profile.store}: "
                              f"{MISMATCH}{MISMATCH}")
    assert profile.get("good").content == b'"g"'  # §3.3: items that did not fail stay written
    assert body_of(profile, "k") == b"1"


def test_multi_item_all_etag_failures_joined(profile: Any) -> None:
    assert_204(profile.save({"key": "a", "value": 1}, {"key": "b", "value": 1}))
    resp = profile.save({"key": "a", "value": 2, "etag": "98"},
                        {"key": "b", "value": 2, "etag": "99"})
    message = error_of(resp, 409, "ERR_STATE_SAVE")  # §3.3
    head, _, tail = message.partition("\n")  # §3.3: errors.Join, separated by newlines
    assert head.startswith(f"failed saving state in state store {profile.store}: "
                           f"{MISMATCH}{MISMATCH}")
    assert tail.startswith(MISMATCH) and "\n" not in tail
    assert "myapp||a" in message and "myapp||b" in message


def test_multi_item_invalid_etag_gives_400_on_redis(profile: Any) -> None:
    assert_204(profile.save({"key": "a", "value": 1}, {"key": "b", "value": 1}))
    resp = profile.save({"key": "a", "value": 2, "etag": "98"},
                        {"key": "b", "value": 2, "etag": "abc"})
    if profile.is_redis:
        message = error_of(resp, 400, "ERR_STATE_SAVE")  # §3.3: 400 if any is invalid
        assert 'invalid etag value: strconv.Atoi: parsing "abc": invalid syntax' in message
    else:
        error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S4 M: opaque etags, only mismatches


def test_multi_item_mixed_failures_are_500(profile: Any) -> None:
    assert_204(profile.save({"key": "a", "value": 1}))
    resp = profile.save({"key": "a", "value": 2, "etag": "98"},
                        {"key": "b", "value": 2, "metadata": {"ttlInSeconds": "abc"}},
                        {"key": "c", "value": 3})
    message = error_of(resp, 500, "ERR_STATE_SAVE")  # §3.3 / E8: not all are etag errors
    prefix = f"failed saving state in state store {profile.store}: "
    assert message.startswith(prefix)
    lines = message[len(prefix):].split("\n")
    assert len(lines) == 2  # §3.3: joined with a newline, no re-wrapping
    assert sum(line.startswith(MISMATCH) for line in lines) == 1
    assert any("invalid syntax" in line for line in lines)
    assert profile.get("c").content == b"3"


def test_multi_item_duplicate_keys(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "d", "value": 1}, {"key": "d", "value": 2}))  # §3.2
    assert body_of(profile, "d") in (b"1", b"2")  # §3.3: which write lands last is undefined
    if profile.is_redis:
        assert redis_view.hash("d")["version"] == "2"  # §3.3: each write bumps the version


# =============================================================================================
# §7 transactions
# =============================================================================================

def test_transaction_success(profile: Any) -> None:
    assert_204(profile.save({"key": "old", "value": 1}))
    resp = transact(profile, [
        {"operation": "upsert", "request": {"key": "k1", "value": {"n": 1}}},
        {"operation": "upsert", "request": {"KEY": "k2", "VALUE": "two"}},  # §7.1 case-insens.
        {"operation": "delete", "request": {"key": "old"}},
    ])
    assert_204(resp)  # §7.2
    assert profile.get("k1").content == b'{"n":1}'
    assert profile.get("k2").content == b'"two"'
    assert profile.get("old").status_code == 204


def test_transaction_empty_operations(profile: Any) -> None:
    for body in ({"operations": []}, {}, {"operations": None}):
        assert_204(profile.http.post(profile.url("transaction"), json=body))  # §7.1 step 5


def test_transaction_etag_mismatch_is_500_and_redis_is_not_atomic(
        profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "m1", "value": "old"}, {"key": "gone", "value": 1}))
    current = etag_of(profile, "m1")
    stale = "9" if profile.is_redis else "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    resp = transact(profile, [
        {"operation": "upsert", "request": {"key": "m2", "value": "new"}},
        {"operation": "upsert", "request": {"key": "m1", "value": "new", "etag": stale}},
        {"operation": "delete", "request": {"key": "gone"}},
    ])
    message = error_of(resp, 500, "ERR_STATE_TRANSACTION")  # §2.2 E18: 500, never 409
    plain_error_of(resp, "ERR_STATE_TRANSACTION", message)
    prefix = "error while executing state transaction: "
    assert body_of(profile, "m1") == b'"old"'
    if profile.is_redis:
        # §7.2: the raw Redis script error; the other queued commands still ran
        assert re.fullmatch(re.escape(prefix) + set_script_error("myapp||m1"), message), message
        assert profile.get("m2").content == b'"new"'
        assert profile.get("gone").status_code == 204
        assert redis_view.hash("m1")["version"] == "1"
    else:
        # §7.2: in-memory is atomic and validates against the pre-transaction state
        assert message == (prefix + MISMATCH + f"state etag not match for key=myapp||m1: "
                           f"current={current}, expect={stale}")
        assert profile.get("m2").status_code == 204
        assert profile.get("gone").content == b"1"


def test_transaction_invalid_etag(profile: Any) -> None:
    assert_204(profile.save({"key": "m1", "value": "old"}))
    resp = transact(profile, [
        {"operation": "upsert", "request": {"key": "m2", "value": "new"}},
        {"operation": "upsert", "request": {"key": "m1", "value": "new", "etag": "abc"}},
    ])
    message = error_of(resp, 500, "ERR_STATE_TRANSACTION")  # §7.2, E18
    if profile.is_redis:
        # §7.2: a non-integer etag fails before EXEC, so nothing is applied
        assert message == ('error while executing state transaction: invalid etag value: '
                           'strconv.Atoi: parsing "abc": invalid syntax')
    else:
        assert message.startswith("error while executing state transaction: " + MISMATCH)
    assert profile.get("m2").status_code == 204
    assert body_of(profile, "m1") == b'"old"'


def test_transaction_delete_etag_goes_in_the_body(profile: Any) -> None:
    assert_204(profile.save({"key": "k", "value": 1}))
    etag = etag_of(profile, "k")
    stale = "9" if profile.is_redis else "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    # §7.1: If-Match is not read for a transaction; the body etag is
    resp = transact(profile, [{"operation": "delete", "request": {"key": "k", "etag": stale}}],
                    headers={"If-Match": etag})
    message = error_of(resp, 500, "ERR_STATE_TRANSACTION")  # §7.2, E18
    if profile.is_redis:
        assert re.fullmatch(re.escape("error while executing state transaction: ")
                            + del_script_error("myapp||k"), message), message
    assert body_of(profile, "k") == b"1"
    assert_204(transact(profile, [{"operation": "delete",
                                   "request": {"key": "k", "etag": etag}}]))  # §7.1
    assert profile.get("k").status_code == 204


def test_transaction_and_first_write_flag(profile: Any, redis_view: RedisView | None) -> None:
    resp = transact(profile, [{"operation": "upsert", "request": {
        "key": "t", "value": 1, "options": {"concurrency": "first-write"}}}])
    assert_204(resp)
    if not profile.is_redis:
        return
    assert "first-write" not in redis_view.hash("t")  # §11.3: transactions never set the flag
    assert_204(profile.save({"key": "f", "value": 1, "options": {"concurrency": "first-write"}}))
    resp = transact(profile, [{"operation": "upsert", "request": {"key": "f", "value": 2}}])
    message = error_of(resp, 500, "ERR_STATE_TRANSACTION")  # §11.3: ... but are blocked by it
    assert re.fullmatch(re.escape("error while executing state transaction: ")
                        + set_script_error("myapp||f"), message), message


def test_transaction_without_key_upserts_the_bare_prefix(profile: Any,
                                                         redis_view: RedisView | None) -> None:
    # §7.1: no empty-key check in transactions (inferred from code D)
    assert_204(transact(profile, [{"operation": "upsert", "request": {"value": 1}}]))
    if profile.is_redis:
        assert redis_view.client.hgetall("myapp||") == {b"data": b"1", b"version": b"1"}
    else:
        assert "myapp||" in profile.sidecar.component(profile.store).store.keys()


def test_transaction_ttl(profile: Any, redis_view: RedisView | None) -> None:
    resp = transact(profile, [
        {"operation": "upsert", "request": {"key": "op", "value": 1,
                                            "metadata": {"ttlInSeconds": "100"}}},
        {"operation": "upsert", "request": {"key": "plain", "value": 1}},
    ])
    assert_204(resp)
    # §7.1: body-level metadata is not copied into the operations
    assert_204(profile.http.post(profile.url("transaction"), json={
        "operations": [{"operation": "upsert", "request": {"key": "body", "value": 1}}],
        "metadata": {"ttlInSeconds": "100"}}))
    # §7.1: URL metadata.* is merged into each operation
    assert_204(transact(profile, [{"operation": "upsert", "request": {"key": "url", "value": 1}}],
                        params={"metadata.ttlInSeconds": "50"}))
    if profile.is_redis:
        assert 0 < redis_view.ttl("op") <= 100  # §7.1 op-level TTL, §11.5 EXPIRE
        assert redis_view.ttl("plain") == -1
        assert redis_view.ttl("body") == -1
        assert 0 < redis_view.ttl("url") <= 50
    else:
        for key, has_ttl in (("op", True), ("plain", False), ("body", False), ("url", True)):
            header = profile.get(key).headers.get("metadata.ttlexpiretime")
            assert (header is not None) == has_ttl, key  # §12: ttlExpireTime on get


@redis_only
def test_transaction_stale_etag_with_ttl_still_expires_on_redis(
        profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "m1", "value": "old"}))
    resp = transact(profile, [{"operation": "upsert", "request": {
        "key": "m1", "value": "new", "etag": "9", "metadata": {"ttlInSeconds": "100"}}}])
    error_of(resp, 500, "ERR_STATE_TRANSACTION")
    assert body_of(profile, "m1") == b'"old"'
    assert 0 < redis_view.ttl("m1") <= 100  # §7.2: EXPIRE still runs, on the old value


# =============================================================================================
# §11.5, §12 TTL
# =============================================================================================

def _expire_time(resp: httpx.Response) -> datetime:
    value = resp.headers["metadata.ttlexpiretime"]
    assert re.fullmatch(RFC3339_UTC, value)  # §4: RFC 3339, UTC
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def test_ttl_per_item_and_in_url(profile: Any, redis_view: RedisView | None) -> None:
    now = datetime.now(timezone.utc)
    assert_204(profile.save({"key": "item", "value": 1, "metadata": {"ttlInSeconds": "100"}}))
    assert_204(profile.save({"key": "url", "value": 1},
                            params={"metadata.ttlInSeconds": "50"}))
    # §3.1: the URL wins over item metadata; §1: only the first repeated value is used
    assert_204(profile.http.post(
        profile.url() + "?metadata.ttlInSeconds=40&metadata.ttlInSeconds=500",
        json=[{"key": "wins", "value": 1, "metadata": {"ttlInSeconds": "1000"}}]))
    # §1: the prefix is exact and case-sensitive
    assert_204(profile.save({"key": "case", "value": 1},
                            params={"Metadata.ttlInSeconds": "30"}))
    if profile.is_redis:
        assert 0 < redis_view.ttl("item") <= 100  # §11.5 EXPIRE
        assert 0 < redis_view.ttl("url") <= 50
        assert 0 < redis_view.ttl("wins") <= 40
        assert redis_view.ttl("case") == -1
        # §4, §11.5: Redis reports no TTL metadata
        assert "metadata.ttlexpiretime" not in profile.get("item").headers
    else:
        # §4, §19.9: header spelling Metadata.ttlexpiretime
        assert "Metadata.ttlexpiretime" in contract_header_names(profile, "item")
        for key, seconds in (("item", 100), ("url", 50), ("wins", 40)):
            delta = (_expire_time(profile.get(key)) - now).total_seconds()  # §12
            assert seconds - 5 <= delta <= seconds + 5, (key, delta)
        assert "metadata.ttlexpiretime" not in profile.get("case").headers


def test_ttl_update_rules(profile: Any, redis_view: RedisView | None) -> None:
    assert_204(profile.save({"key": "k", "value": 1, "metadata": {"ttlInSeconds": "100"}}))
    assert_204(profile.save({"key": "k", "value": 2}))  # a save without TTL
    assert_204(profile.save({"key": "p", "value": 1, "metadata": {"ttlInSeconds": "100"}}))
    assert_204(profile.save({"key": "p", "value": 2, "metadata": {"ttlInSeconds": "-1"}}))
    assert_204(profile.save({"key": "z", "value": 1, "metadata": {"ttlInSeconds": "100"}}))
    assert_204(profile.save({"key": "z", "value": 2, "metadata": {"ttlInSeconds": "0"}}))
    if profile.is_redis:
        assert 0 < redis_view.ttl("k") <= 100  # §11.5: Redis keeps the old TTL
        assert redis_view.ttl("p") == -1  # §11.5, §19.5: -1 persists the key
        assert redis_view.ttl("z") == -1  # §11.5: <= 0 runs PERSIST
    else:
        assert "metadata.ttlexpiretime" not in profile.get("k").headers  # §11.5: TTL dropped
        assert "metadata.ttlexpiretime" not in profile.get("p").headers  # §12: negative = none
        assert "metadata.ttlexpiretime" not in profile.get("z").headers
    assert body_of(profile, "k") == b"2" and body_of(profile, "p") == b"2"


def test_in_memory_expiry_on_a_fake_clock(launch: Callable[..., httpx.Client]) -> None:
    clock = [1_700_000_000_000]
    store = MemoryStore(clock_ms=lambda: clock[0])
    http = launch([memory_component("clockstore", store=store)])
    base = "/v1.0/state/clockstore"
    assert_204(http.post(base, json=[{"key": "k", "value": 1,
                                      "metadata": {"ttlInSeconds": "60"}}]))
    resp = http.get(f"{base}/k")
    expiry = datetime.fromtimestamp(1_700_000_060, tz=timezone.utc)
    assert _expire_time(resp) == expiry  # §12: ttlExpireTime = now + ttl
    etag = resp.headers["etag"]
    bulk = http.post(f"{base}/bulk", json={"keys": ["k"]})
    # §6: in-memory bulk items carry metadata.ttlExpireTime
    assert bulk.json() == [{"key": "k", "data": 1, "etag": etag,
                            "metadata": {"ttlExpireTime": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}}]
    clock[0] += 59_000
    assert http.get(f"{base}/k").status_code == 200
    clock[0] += 1_001
    assert_204(http.get(f"{base}/k"))  # §4: expired TTL gives 204 (checked lazily, §12)
    assert http.post(f"{base}/bulk", json={"keys": ["k"]}).json() == [{"key": "k"}]  # §6
    resp = http.post(base, json=[{"key": "k", "value": 2, "etag": etag}])
    message = error_of(resp, 409, "ERR_STATE_SAVE")  # §9 S3 M after expiry
    assert message.endswith("state not exist or expired for key=myapp||k")


def test_component_default_ttl_on_redis(launch: Callable[..., httpx.Client]) -> None:
    component = Component(name="test-api-ttl-default", type="state.redis", version="v1",
                          metadata={"ttlInSeconds": "300"}, source="(test_api)")
    http = launch([component])
    base = "/v1.0/state/test-api-ttl-default"
    assert_204(http.post(base, json=[{"key": "d", "value": 1},
                                     {"key": "r", "value": 1,
                                      "metadata": {"ttlInSeconds": "10"}}]))
    client = component.redis_client()
    try:
        assert 10 < client.ttl("myapp||d") <= 300  # §11.5: the component default applies
        assert 0 < client.ttl("myapp||r") <= 10  # §11.5: a per-request TTL wins
    finally:
        client.flushdb()
        client.close()
