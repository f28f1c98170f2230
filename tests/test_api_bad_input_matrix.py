"""The bad-input matrix: deep nesting, huge numbers, huge keys, invalid UTF-8, every body shape.

Each request goes over HTTP to every store profile (``profile``: redis-fake, redis-real,
memory) after the seed data of :mod:`test_api_bad_input` is stored and snapshotted (every
seeded key's GET answer and the whole key space). Every answer must be daprd's: JSON with an
``errorCode``, or a success, never a Python exception's text 500; and nothing but what the
request may write changes. The replicated teaching store gets the same deep and huge inputs
in-process at the end.

Depths count the whole body, as Go's scanner counts them (``maxNestingDepth`` = 10000): a save
body ``[{"key":..,"value":V}]`` is two levels deeper than ``V``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import test_api_bad_input as base
from test_api_bad_input import (
    Answer,
    Ctx,
    Snapshot,
    assert_unchanged,
    check_answer,
    exact,
    per_store,
    snapshot,
)

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.go.json import MAX_DEPTH
from statelab.server.sidecar import Sidecar

# The seeded store and the small-body-limit sidecar of test_api_bad_input, as fixtures here.
seeded = base.seeded
limited = base.limited

HUGE = "9" * 5000  # past Python's int() limit of 4300 digits
DEPTH_ERROR = "invalid character '[' exceeded max depth"


def nested(depth: int, core: str = "1") -> str:
    """A JSON array value nesting *depth* levels (0: the core alone)."""
    return "[" * depth + core + "]" * depth


def post(profile: Any, path: str, body: bytes | str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return profile.http.post(profile.url() + path, content=content)


def is_dapr_answer(reply: httpx.Response) -> None:
    """A success, or daprd's JSON error with an errorCode (never a text 500)."""
    if reply.status_code in (200, 204):
        return
    assert reply.headers["content-type"] == "application/json", reply.text[:300]
    body = reply.json()
    assert list(body)[:2] == ["errorCode", "message"] and body["errorCode"], body


# -- deep nesting: accepted up to Go's limit, stored and read back whole ------------------------

@pytest.mark.parametrize("body_depth", [3, 500, MAX_DEPTH])
def test_deep_values_are_stored_and_read_back(profile: Any, seeded: Snapshot,
                                              body_depth: int) -> None:
    value = nested(body_depth - 2)
    reply = post(profile, "", f'[{{"key":"deep","value":{value}}}]')
    assert reply.status_code == 204, reply.text[:300]
    got = profile.get("deep")
    assert got.status_code == 200 and got.content == value.encode()
    bulk = post(profile, "/bulk", '{"keys":["deep","k2"]}')
    assert bulk.status_code == 200
    assert bulk.content.startswith(b'[{"key":"deep","data":' + value.encode() + b',"etag":')
    # a transaction carries the same value four levels down
    tx_value = nested(body_depth - 4) if body_depth >= 4 else "1"
    reply = post(profile, "/transaction", '{"operations":[{"operation":"upsert","request":'
                                          f'{{"key":"deep2","value":{tx_value}}}}}]}}')
    assert reply.status_code == 204, reply.text[:300]
    assert profile.get("deep2").content == tx_value.encode()
    assert_unchanged(profile, seeded, {"deep", "deep2"})


def test_one_level_deeper_is_go_s_error_and_writes_nothing(profile: Any,
                                                           seeded: Snapshot) -> None:
    too_deep = nested(MAX_DEPTH - 1)  # 10001 levels inside a save body
    check_answer(post(profile, "", f'[{{"key":"k1","value":{too_deep}}}]'),
                 exact(400, "ERR_MALFORMED_REQUEST", DEPTH_ERROR))
    check_answer(post(profile, "/transaction", '{"operations":[{"operation":"upsert",'
                                               f'"request":{{"key":"k1","value":'
                                               f'{nested(MAX_DEPTH - 3)}}}}}]}}'),
                 exact(400, "ERR_MALFORMED_REQUEST",
                       "failed deserializing HTTP body: " + DEPTH_ERROR))
    check_answer(post(profile, "/bulk", f'{{"keys":["k1"],"x":{nested(MAX_DEPTH)}}}'),
                 exact(400, "ERR_MALFORMED_REQUEST",
                       "failed deserializing HTTP body: " + DEPTH_ERROR))
    # ... while one level less is fine for a bulk body (the unknown field is skipped)
    assert post(profile, "/bulk", f'{{"keys":["k1"],"x":{nested(MAX_DEPTH - 1)}}}'
                ).status_code == 200
    query = profile.http.post(f"/v1.0-alpha1/state/{profile.store}/query",
                              content=f'{{"filter":{nested(MAX_DEPTH)}}}'.encode())
    if profile.is_memory:  # E19 is answered before the body is read
        check_answer(query, Answer(500, "ERR_STATE_STORE_NOT_SUPPORTED", ".*", rich=True))
    else:
        check_answer(query, exact(500, "ERR_STATE_QUERY", f"state store {profile.store} query "
                                  f"failed: failed to parse JSON query body: {DEPTH_ERROR}",
                                  rich=True))
    assert_unchanged(profile, seeded)


# -- huge numbers in every numeric field ----------------------------------------------------------

def _atoi(func: str) -> str:
    return f'strconv.{func}: parsing "{HUGE}": value out of range'


def _memory_mismatch(key: str, wrap: str) -> Any:
    def answer(ctx: Ctx) -> Answer:
        detail = (f"possible etag mismatch. error from state store: state etag not match for "
                  f"key=myapp||{key}: current={ctx.etags[key]}, expect={HUGE}")
        if wrap == "save":
            return exact(409, "ERR_STATE_SAVE", f"failed saving state in state store "
                                                f"{ctx.store}: {detail}")
        return exact(500, "ERR_STATE_TRANSACTION",
                     f"error while executing state transaction: {detail}")
    return answer


HUGE_CASES: list[tuple[str, str, str, Any]] = [
    ("save-etag", "", f'[{{"key":"k1","value":1,"etag":"{HUGE}"}}]', per_store(
        lambda ctx: exact(400, "ERR_STATE_SAVE", f"failed saving state in state store "
                                                 f"{ctx.store}: invalid etag value: "
                                                 + _atoi("Atoi")),
        _memory_mismatch("k1", "save"))),
    ("save-ttl", "", f'[{{"key":"k1","value":1,"metadata":{{"ttlInSeconds":"{HUGE}"}}}}]',
     per_store(
         lambda ctx: exact(500, "ERR_STATE_SAVE", f"failed saving state in state store "
                                                  f"{ctx.store}: failed to parse ttl from "
                                                  "metadata: " + _atoi("ParseInt")),
         lambda ctx: exact(500, "ERR_STATE_SAVE", f"failed saving state in state store "
                                                  f"{ctx.store}: " + _atoi("Atoi")))),
    ("save-value", "", f'[{{"key":"k1","value":{HUGE}}}]',
     exact(400, "ERR_MALFORMED_REQUEST", f"json: cannot unmarshal number {HUGE} into Go "
                                         "struct field SetRequest.value of type float64")),
    ("save-value-1e400", "", '[{"key":"k1","value":[1e400]}]',
     exact(400, "ERR_MALFORMED_REQUEST", "json: cannot unmarshal number 1e400 into Go struct "
                                         "field SetRequest.value of type float64")),
    ("bulk-parallelism", "/bulk", f'{{"keys":["k1"],"parallelism":{HUGE}}}',
     exact(400, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: json: cannot "
                                         f"unmarshal number {HUGE} into Go struct field "
                                         "BulkGetRequest.parallelism of type int")),
    ("tx-etag", "/transaction", '{"operations":[{"operation":"upsert","request":'
                                f'{{"key":"k1","value":1,"etag":"{HUGE}"}}}}]}}', per_store(
        exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: invalid "
                                            "etag value: " + _atoi("Atoi")),
        _memory_mismatch("k1", "transaction"))),
    ("tx-ttl", "/transaction", '{"operations":[{"operation":"upsert","request":{"key":"k1",'
                               f'"value":1,"metadata":{{"ttlInSeconds":"{HUGE}"}}}}}}]}}',
     per_store(
         exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: failed "
                                             "to parse ttl from metadata: " + _atoi("ParseInt")),
         exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: "
                                             + _atoi("Atoi")))),
    ("tx-value", "/transaction", '{"operations":[{"operation":"upsert","request":{"key":"k1",'
                                 f'"value":{HUGE}}}}}]}}',
     Answer(400, "ERR_MALFORMED_REQUEST", re.escape(
         f"failed deserializing HTTP body: json: cannot unmarshal number {HUGE} into Go struct "
         "field ") + r"\S+ of type float64")),
]


@pytest.mark.parametrize(("path", "body", "expect"), [c[1:] for c in HUGE_CASES],
                         ids=[c[0] for c in HUGE_CASES])
def test_huge_numbers_get_go_s_range_errors(profile: Any, seeded: Snapshot, path: str,
                                            body: str, expect: Any) -> None:
    ctx = Ctx(profile.store, profile.is_redis, seeded.etags)
    check_answer(post(profile, path, body), expect(ctx) if callable(expect) else expect)
    assert_unchanged(profile, seeded)


def test_huge_etags_and_keys_on_paths(profile: Any, seeded: Snapshot) -> None:
    reply = profile.delete("k1", etag=HUGE)  # If-Match is compared, never parsed (spec 5)
    check_answer(reply, Answer(409, "ERR_STATE_DELETE",
                               re.escape("failed deleting state with key k1: ") + ".*"))
    assert profile.get(HUGE).status_code == 204   # a 5000-character key that is not there
    assert profile.delete(HUGE).status_code == 204
    long_key = "k" * 100_000
    assert post(profile, "/bulk", json.dumps({"keys": [long_key, "k1"]})).status_code == 200
    assert_unchanged(profile, seeded)
    reply = profile.save({"key": long_key, "value": "long"})
    assert reply.status_code == 204
    got = post(profile, "/bulk", json.dumps({"keys": [long_key]}))
    assert got.content.startswith(f'[{{"key":"{long_key}","data":"long"'.encode())
    assert_unchanged(profile, seeded, {long_key})


def test_ttl_that_overflows_the_store(profile: Any, seeded: Snapshot) -> None:
    """ttlInSeconds=9223372036854775807: daprd's Redis store writes the value, then its
    EXPIRE fails (JSON ERR_STATE_SAVE / ERR_STATE_TRANSACTION with Redis's text); its in-memory
    store's int64 arithmetic wraps, so the item is expired at once. No key is unreadable."""
    ttl = {"ttlInSeconds": "9223372036854775807"}
    save = profile.save({"key": "k1", "value": "new", "metadata": ttl})
    tx = post(profile, "/transaction", json.dumps({"operations": [
        {"operation": "upsert", "request": {"key": "k2", "value": "new", "metadata": ttl}}]}))
    if profile.is_redis:
        check_answer(save, exact(500, "ERR_STATE_SAVE", f"failed saving state in state store "
                                 f"{profile.store}: failed to set key myapp||k1 ttl: ERR "
                                 "invalid expire time in 'expire' command"))
        check_answer(tx, exact(500, "ERR_STATE_TRANSACTION", "error while executing state "
                               "transaction: ERR invalid expire time in 'expire' command"))
        for key in ("k1", "k2"):  # written before the EXPIRE failed, as on daprd
            assert profile.get(key).content == b'"new"'
    else:
        assert save.status_code == 204 and tx.status_code == 204
        for key in ("k1", "k2"):
            assert profile.get(key).status_code == 204
        for ttl_word in ("250000000000", "9223372036"):
            assert profile.save({"key": "k3", "value": 3,
                                 "metadata": {"ttlInSeconds": ttl_word}}).status_code == 204
            assert profile.get("k3").status_code in (200, 204)
            assert post(profile, "/bulk", '{"keys":["k3"]}').status_code == 200
    after = snapshot(profile)
    untouched = {k: v for k, v in seeded.reads.items() if k not in ("k1", "k2")}
    assert {k: v for k, v in after.reads.items() if k in untouched} == untouched


# -- invalid UTF-8 and every body shape ---------------------------------------------------------

def test_invalid_utf8_reads_as_go_does(profile: Any, seeded: Snapshot) -> None:
    # Go's decoder replaces invalid UTF-8 in strings with U+FFFD.
    reply = post(profile, "", b'[{"key":"bad-\xff","value":"\xfe\xff"}]')
    assert reply.status_code == 204
    assert profile.get("bad-%EF%BF%BD").content == '"\ufffd\ufffd"'.encode()
    for path, body in (("/bulk", b'{"keys":["\xff"]}'), ("", b"\xff"),
                       ("/transaction", b'{"operations":\xff}'), ("", b'[{"key":"k\xc3"}]')):
        is_dapr_answer(post(profile, path, body))
    is_dapr_answer(profile.http.get(profile.url("k1%FF")))
    assert_unchanged(profile, seeded, {"bad-\ufffd", "k\ufffd"})  # a save without a value


SHAPES = ["null", "true", "1", '"s"', "[]", "{}", "[null]", "[1]", "[[]]", '[{"key":null}]',
          '[{"key":[]}]', '[{"key":"k1","metadata":[]}]', '[{"key":"k1","metadata":{"a":{}}}]',
          '[{"key":"k1","options":{"concurrency":{}}}]', '[{"key":"k1","contentType":1}]',
          '[{"key":"k1","etag":true}]', '[{"key":"k1","options":[]}]', '{"operations":null}',
          '{"operations":[null]}', '{"operations":[{"operation":1}]}',
          '{"operations":[{"operation":"upsert","request":[]}]}',
          '{"operations":[{"operation":"delete","request":{"key":{}}}]}',
          '{"operations":[{"operation":"upsert","request":{"key":"k1","options":"x"}}]}',
          '{"operations":[{"operation":"upsert","request":{"key":"k1","metadata":{"a":1}}}]}',
          '{"operations":[{"operation":"delete","request":{"key":"k1","etag":[[1]]}}]}',
          '{"operations":[],"metadata":{"a":1}}', '{"metadata":[]}', '{"keys":null}',
          '{"keys":[1]}', '{"keys":"k1"}', '{"parallelism":-1}', '{"parallelism":"x"}',
          f'{{"keys":[{nested(100)}]}}', '{"keys":["k1"],"metadata":{"a":null}}']


@pytest.mark.parametrize("path", ["", "/bulk", "/transaction"])
def test_every_body_shape_gets_a_dapr_answer(profile: Any, seeded: Snapshot,
                                             path: str) -> None:
    for shape in SHAPES:
        reply = post(profile, path, shape)
        is_dapr_answer(reply)
        assert_unchanged(profile, seeded)


def test_an_oversized_metadata_put_stores_nothing(
        limited: tuple[str, httpx.Client, Sidecar]) -> None:
    _, http, _ = limited
    assert http.put("/v1.0/metadata/small", content=b"x" * 2048).status_code == 204
    check_answer(http.put("/v1.0/metadata/big", content=b"y" * 2049),
                 exact(400, "ERR_BODY_READ", "failed to read request body: stream too large"))
    extended = http.get("/v1.0/metadata").json()["extended"]
    assert extended["small"] == "x" * 2048 and "big" not in extended


# -- the replicated teaching store, in-process ---------------------------------------------------

def test_replicated_store_takes_the_same_inputs() -> None:
    api = StateAPI([Component(name="rep", type="state.replicated", version="v1",
                              metadata={"lagMinMs": "0", "lagMaxMs": "0"}, source="(tests)")])
    url = "/v1.0/state/rep"
    value = nested(MAX_DEPTH - 2)
    assert api.request("POST", url, content=f'[{{"key":"deep","value":{value}}}]').status == 204
    assert api.request("GET", url + "/deep", params={"consistency": "strong"}).body == \
        value.encode()
    assert api.request("POST", url, content=f'[{{"key":"k","value":{nested(MAX_DEPTH - 1)}}}]'
                       ).json()["message"] == DEPTH_ERROR
    reply = api.request("POST", url, json=[{"key": "k", "value": 1, "etag": HUGE}])
    assert (reply.status, reply.json()["message"]) == (
        400, "failed saving state in state store rep: invalid etag value: " + _atoi("Atoi"))
    reply = api.request("POST", url, json=[{"key": "k", "value": 1,
                                            "metadata": {"ttlInSeconds": HUGE}}])
    assert reply.status == 500 and reply.json()["message"].endswith(_atoi("ParseInt"))
    assert api.request("GET", url + "/k").status == 204
