"""Bad input never corrupts stored data.

Every test stores known values first (plain keys and keys with a space, a slash, a ``+`` and
non-ASCII letters) and records each one's GET answer (status, bytes, etag) and the store's
whole key space. It then sends one bad request: a malformed or wrongly typed body, an odd key,
a bad etag, an unknown option word, a bad TTL, a bad transaction, a body over the size limit.
Each must get a clear Dapr-format answer (``{"errorCode", "message"}`` JSON, or Go's plain
text where the spec says so) and leave every earlier value and etag as it was.

Expected answers cite ``docs/dapr-state-api.md`` (E-numbers are its section 2.2).
Everything runs over HTTP for each store profile (``profile`` fixture).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Union
from urllib.parse import quote

import httpx
import pytest
from support import free_port

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

MISMATCH = "possible etag mismatch. error from state store: "
SCRIPT_ERROR = r"ERR user_script:\d+: {what} script: [0-9a-f]{{40}}, on @user_script:\d+\."

#: The data every test starts from: (key, JSON value sent).
SEED: tuple[tuple[str, Any], ...] = (
    ("k1", {"a": 1, "b": [1, 2]}),
    ("k2", "two"),
    ("a b", "space"),        # reached as a%20b or a+b (spec 1: "+" becomes a space)
    ("x/y", "slash"),        # reached only as x%2Fy (spec 4)
    ("a+b", "plus"),         # reached only as a%2Bb
    ("ключ-ü", "unicode"),
)


@dataclass
class Snapshot:
    """What the store holds: each seeded key's GET answer, and every stored key."""

    reads: dict[str, tuple[int, bytes, str | None]]
    keyspace: set[str]

    @property
    def etags(self) -> dict[str, str]:
        return {k: v[2] for k, v in self.reads.items() if v[2] is not None}


def path_of(profile: Any, key: str) -> str:
    return profile.url(quote(key, safe=""))


def keyspace(profile: Any) -> set[str]:
    if profile.is_redis:
        return {k.decode() for k in profile.sidecar.redis(profile.store).keys("*")}
    return set(profile.sidecar.component(profile.store).store.keys())


def snapshot(profile: Any) -> Snapshot:
    reads = {}
    for key, _ in SEED:
        reply = profile.http.get(path_of(profile, key))
        reads[key] = (reply.status_code, reply.content, reply.headers.get("etag"))
    return Snapshot(reads, keyspace(profile))


@pytest.fixture
def seeded(profile: Any) -> Snapshot:
    reply = profile.save(*({"key": k, "value": v} for k, v in SEED))
    assert reply.status_code == 204, reply.text
    before = snapshot(profile)
    assert all(status == 200 for status, _, _ in before.reads.values()), before
    return before


def assert_unchanged(profile: Any, before: Snapshot,
                     created: set[str] | frozenset[str] = frozenset()) -> None:
    after = snapshot(profile)
    assert after.reads == before.reads  # values and etags as they were
    assert after.keyspace == before.keyspace | {f"myapp||{k}" for k in created}


# -- expected answers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    code: str | None            # None: Go's plain-text http.Error body (spec 1)
    message: str                # a regex that must match the whole message (or text)
    rich: bool = False          # kit error with "details" (spec 2.1.2)


def exact(status: int, code: str | None, message: str, rich: bool = False) -> Answer:
    return Answer(status, code, re.escape(message), rich)


@dataclass(frozen=True)
class Ctx:
    """What an expectation may depend on: the store and the etags stored before."""

    store: str
    redis: bool
    etags: dict[str, str]


Expect = Union[Answer, Callable[[Ctx], Answer]]


def per_store(redis: Expect, memory: Expect) -> Callable[[Ctx], Answer]:
    def pick(ctx: Ctx) -> Answer:
        chosen = redis if ctx.redis else memory
        return chosen(ctx) if callable(chosen) else chosen
    return pick


def save_error(status: int, detail: str) -> Callable[[Ctx], Answer]:
    """E6, E7, E8: the store's error behind Dapr's prefix; *detail* is literal text."""
    return lambda ctx: exact(status, "ERR_STATE_SAVE",
                             f"failed saving state in state store {ctx.store}: {detail}")


def memory_etag_mismatch(key: str, sent: str, wrap: str) -> Callable[[Ctx], Answer]:
    """in-memory's strict etag check (spec 12), behind the save or transaction prefix."""
    def answer(ctx: Ctx) -> Answer:
        detail = (f"{MISMATCH}state etag not match for key=myapp||{key}: "
                  f"current={ctx.etags[key]}, expect={sent}")
        if wrap == "save":
            return exact(409, "ERR_STATE_SAVE",
                         f"failed saving state in state store {ctx.store}: {detail}")
        return exact(500, "ERR_STATE_TRANSACTION",
                     f"error while executing state transaction: {detail}")
    return answer


def malformed(message: str) -> Answer:
    return exact(400, "ERR_MALFORMED_REQUEST", message)  # E4, E5


def body_error(message: str) -> Answer:
    return exact(400, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {message}")


def illegal_key(key: str) -> Answer:
    # E3: a rich error with details (BadRequest, ResourceInfo, ErrorInfo)
    # daprd's HTTP handlers wrap the kit error once more (InvalidKeyName(key, err.Error()))
    return exact(400, "ERR_MALFORMED_REQUEST", "api error: code = InvalidArgument desc = "
                 f"input key/keyPrefix '{key}' can't contain '||'", rich=True)


DIRECT_INVOKE = exact(404, "ERR_DIRECT_INVOKE",
                      "failed getting app id either from the URL path or the header dapr-app-id")


def atoi_error(text: str, why: str = "invalid syntax", func: str = "Atoi") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'strconv.{func}: parsing "{escaped}": {why}'


def parse_int_error(text: str, why: str = "invalid syntax") -> str:
    """The Redis store reads a TTL with strconv.ParseInt (components-contrib parseTTL)."""
    return atoi_error(text, why, "ParseInt")


# -- the cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str                     # after /v1.0/state/{store}; sent as is (already escaped)
    expect: Expect
    body: bytes | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    creates: frozenset[str] = field(default_factory=frozenset)  # new keys a partial save makes
    store: str | None = None      # another store name than the profile's


def save(body: str, **kwargs: Any) -> dict[str, Any]:
    return {"method": "POST", "path": "", "body": body.encode(), **kwargs}


def transaction(body: str, **kwargs: Any) -> dict[str, Any]:
    return {"method": "POST", "path": "/transaction", "body": body.encode(), **kwargs}


CASES = [
    # -- malformed save bodies: E4, E5 (spec 3.1, test D basic.go) -----------------------------
    Case("empty-body", **save(""), expect=malformed("EOF")),
    Case("object-not-array", **save("{}"),
         expect=malformed("json: cannot unmarshal object into Go value of type "
                          "[]state.SetRequest")),
    Case("string-not-array", **save('"k1"'),
         expect=malformed("json: cannot unmarshal string into Go value of type "
                          "[]state.SetRequest")),
    Case("not-json", **save("foobar"),
         expect=malformed("invalid character 'o' in literal false (expecting 'a')")),
    Case("trailing-comma", **save('[{"key":"k1","value":"X"},]'),
         expect=malformed("invalid character ']' looking for beginning of value")),
    Case("truncated", **save('[{"key":"k1","value":"X"}'), expect=malformed("unexpected EOF")),
    Case("item-without-key", **save("[{}]"), expect=malformed('"key" is a required field')),
    Case("empty-key", **save('[{"key":"","value":"X"}]'),
         expect=malformed('"key" is a required field')),
    # All keys are checked before anything is saved: k1 stays as it was (E5).
    Case("good-item-then-empty-key", **save('[{"key":"k1","value":"X"},{"value":"Y"}]'),
         expect=malformed('"key" is a required field')),
    Case("key-is-a-number", **save('[{"key":1,"value":"X"}]'),
         expect=malformed("json: cannot unmarshal number into Go struct field SetRequest.key "
                          "of type string")),
    Case("etag-is-a-number", **save('[{"key":"k1","value":"X","etag":1}]'),
         expect=malformed("json: cannot unmarshal number into Go struct field SetRequest.etag "
                          "of type string")),
    # The JS SDK's {value} etag type (spec 17.1) is an object here.
    Case("etag-is-an-object", **save('[{"key":"k1","value":"X","etag":{"value":"1"}}]'),
         expect=malformed("json: cannot unmarshal object into Go struct field SetRequest.etag "
                          "of type string")),
    # metadata values must be strings; Go's field path for a map entry varies by version.
    Case("ttl-is-a-number", **save('[{"key":"k1","value":"X","metadata":{"ttlInSeconds":60}}]'),
         expect=Answer(400, "ERR_MALFORMED_REQUEST",
                       r"json: cannot unmarshal number into Go struct field "
                       r"SetRequest\.metadata(\.ttlInSeconds)? of type string")),
    Case("options-is-a-string", **save('[{"key":"k1","value":"X","options":"first-write"}]'),
         expect=malformed("json: cannot unmarshal string into Go struct field SetRequest.options "
                          "of type state.SetStateOption")),
    Case("illegal-key-in-second-item", **save('[{"key":"k1","value":"X"},{"key":"k2||x"}]'),
         expect=illegal_key("k2||x")),
    Case("prefixed-key", **save('[{"key":"myapp||k1","value":"X"}]'),
         expect=illegal_key("myapp||k1")),
    Case("unknown-store-checked-first", method="POST", path="", body=b"foobar", store="nope",
         expect=exact(400, "ERR_STATE_STORE_NOT_FOUND", "state store nope is not found",
                      rich=True)),

    # -- bad etags on save: E6, E7 (spec 9 S4, S9) ----------------------------------------------
    Case("garbage-etag", **save('[{"key":"k1","value":"X","etag":"abc"}]'),
         expect=per_store(save_error(400, "invalid etag value: " + atoi_error("abc")),
                          memory_etag_mismatch("k1", "abc", "save"))),
    Case("quoted-etag", **save('[{"key":"k1","value":"X","etag":"\\"1\\""}]'),
         expect=per_store(save_error(400, "invalid etag value: " + atoi_error('"1"')),
                          memory_etag_mismatch("k1", '"1"', "save"))),
    Case("huge-etag", **save('[{"key":"k1","value":"X","etag":"99999999999999999999"}]'),
         expect=per_store(save_error(400, "invalid etag value: "
                                     + atoi_error("99999999999999999999", "value out of range")),
                          memory_etag_mismatch("k1", "99999999999999999999", "save"))),
    Case("stale-etag-on-slash-key", **save('[{"key":"x/y","value":"X","etag":"7"}]'),
         expect=per_store(
             lambda ctx: Answer(409, "ERR_STATE_SAVE", re.escape(
                 f"failed saving state in state store {ctx.store}: {MISMATCH}")
                 + SCRIPT_ERROR.format(what=re.escape("failed to set key myapp||x/y"))),
             memory_etag_mismatch("x/y", "7", "save"))),

    # -- unknown option words: E8 (spec 3.1, 19.6); consistency is checked first ------------------
    Case("concurrency-word", **save('[{"key":"k1","value":"X","options":'
                                    '{"concurrency":"FIRST-WRITE"}}]'),
         expect=save_error(500, "unrecognized concurrency model 'FIRST-WRITE'")),
    Case("consistency-word", **save('[{"key":"k1","value":"X","options":'
                                    '{"consistency":"linearizable"}}]'),
         expect=save_error(500, "unrecognized consistency model 'linearizable'")),
    Case("both-words", **save('[{"key":"k1","value":"X","options":'
                              '{"concurrency":"x","consistency":"y"}}]'),
         expect=save_error(500, "unrecognized consistency model 'y'")),

    # -- bad TTLs: E8 (spec 11.5, 12) -------------------------------------------------------------
    *[Case(f"ttl-{name}", **save(f'[{{"key":"k1","value":"X","metadata":'
                                 f'{{"ttlInSeconds":"{ttl}"}}}}]'),
           expect=per_store(save_error(500, "failed to parse ttl from metadata: "
                                       + parse_int_error(ttl, why)),
                            save_error(500, atoi_error(ttl, why))))
      for name, ttl, why in (("word", "abc", "invalid syntax"),
                             ("float", "1.5", "invalid syntax"),
                             ("space", " 5", "invalid syntax"),
                             ("huge", "99999999999999999999", "value out of range"))],
    Case("ttl-in-url", **save('[{"key":"k1","value":"X"}]',
                              params={"metadata.ttlInSeconds": "soon"}),
         expect=per_store(save_error(500, "failed to parse ttl from metadata: "
                                     + parse_int_error("soon")),
                          save_error(500, atoi_error("soon")))),
    # Several items are not atomic (spec 3.3): the good item to a new key is written.
    Case("bad-ttl-beside-a-good-item",
         **save('[{"key":"k1","value":"X","metadata":{"ttlInSeconds":"abc"}},'
                '{"key":"fresh","value":1}]'),
         creates=frozenset({"fresh"}),
         expect=per_store(save_error(500, "failed to parse ttl from metadata: "
                                     + parse_int_error("abc")),
                          save_error(500, atoi_error("abc")))),

    # -- odd keys in the path (spec 1, 4) ---------------------------------------------------------
    Case("literal-slash-get", method="GET", path="/x/y", expect=DIRECT_INVOKE),
    Case("literal-slash-delete", method="DELETE", path="/x/y", expect=DIRECT_INVOKE),
    Case("no-key-delete", method="DELETE", path="/", expect=DIRECT_INVOKE),  # no bulk delete
    Case("store-delete", method="DELETE", path="", expect=DIRECT_INVOKE),    # (spec 14)
    Case("patch", method="PATCH", path="", body=b"[]", expect=DIRECT_INVOKE),
    Case("bad-escape-get", method="GET", path="/a%ZZ",
         expect=exact(400, None, 'failed to unescape request parameter "key". Error: '
                                 'invalid URL escape "%ZZ"\n')),
    Case("bad-escape-delete", method="DELETE", path="/k1%E0%A4%A",
         expect=exact(400, None, 'failed to unescape request parameter "key". Error: '
                                 'invalid URL escape "%A"\n')),
    Case("illegal-key-get", method="GET", path="/k1||x", expect=illegal_key("k1||x")),
    Case("illegal-key-delete", method="DELETE", path="/a%7C%7Cb", expect=illegal_key("a||b")),
    Case("prefixed-key-delete", method="DELETE", path="/myapp%7C%7Ck1",
         expect=illegal_key("myapp||k1")),

    # -- bad If-Match and options on delete: E10, E11 (spec 5) -----------------------------------
    Case("garbage-if-match", method="DELETE", path="/k1", headers={"If-Match": "abc"},
         expect=per_store(  # Redis never parses it: a mismatch, not 400 (spec 5)
             Answer(409, "ERR_STATE_DELETE",
                    re.escape(f"failed deleting state with key k1: {MISMATCH}")
                    + SCRIPT_ERROR.format(what=re.escape("failed to delete myapp||k1"))),
             lambda ctx: exact(409, "ERR_STATE_DELETE",
                               f"failed deleting state with key k1: {MISMATCH}state etag not "
                               f"match for key=myapp||k1: current={ctx.etags['k1']}, "
                               f"expect=abc"))),
    Case("quoted-if-match-on-slash-key", method="DELETE", path="/x%2Fy",
         headers={"If-Match": '"1"'},  # compared verbatim (spec 4)
         expect=lambda ctx: Answer(409, "ERR_STATE_DELETE", re.escape(
             f"failed deleting state with key x/y: {MISMATCH}") + ".*")),
    Case("delete-concurrency-word", method="DELETE", path="/k1",
         params={"concurrency": "bogus"},
         expect=exact(500, "ERR_STATE_DELETE", "failed deleting state with key k1: "
                                               "unrecognized concurrency model 'bogus'")),
    Case("delete-consistency-word", method="DELETE", path="/a%20b",
         params={"consistency": "foo", "concurrency": "bar"},
         expect=exact(500, "ERR_STATE_DELETE", "failed deleting state with key a b: "
                                               "unrecognized consistency model 'foo'")),

    # -- bad transactions: E3, E15, E16, E18 (spec 7) --------------------------------------------
    Case("tx-empty-body", **transaction(""), expect=body_error("EOF")),
    Case("tx-not-json", **transaction("{operations:[]}"),
         expect=body_error("invalid character 'o' looking for beginning of object key string")),
    Case("tx-operations-not-a-list", **transaction('{"operations":"upsert"}'),
         expect=Answer(400, "ERR_MALFORMED_REQUEST", re.escape(
             "failed deserializing HTTP body: json: cannot unmarshal string into Go struct "
             "field ") + r"\S+\.operations of type .*")),
    # Each operation is decoded before any runs, so the good delete of k2 never happens.
    Case("tx-unknown-operation", **transaction(
        '{"operations":[{"operation":"delete","request":{"key":"k2"}},'
        '{"operation":"Upsert","request":{"key":"k1","value":"X"}}]}'),
         expect=exact(400, "ERR_NOT_SUPPORTED_STATE_OPERATION",
                      "operation type Upsert not supported")),
    Case("tx-etag-is-a-number", **transaction(
        '{"operations":[{"operation":"delete","request":{"key":"k2"}},'
        '{"operation":"upsert","request":{"key":"k1","value":"X","etag":1}}]}'),
         # mapstructure names the Go field (ETag), and prints the value with fmt's %v
         expect=body_error("1 error(s) decoding:\n\n* 'ETag' expected type 'string', got "
                           "unconvertible type 'float64', value: '1'")),
    Case("tx-etag-is-an-object", **transaction(
        '{"operations":[{"operation":"upsert","request":{"key":"k1","value":"X",'
        '"etag":{"value":"1"}}}]}'),
         expect=body_error("1 error(s) decoding:\n\n* 'ETag' expected type 'string', got "
                           "unconvertible type 'map[string]interface {}', value: "
                           "'map[value:1]'")),
    Case("tx-ttl-is-a-number", **transaction(
        '{"operations":[{"operation":"upsert","request":{"key":"k1","value":"X",'
        '"metadata":{"ttlInSeconds":5}}}]}'),
         expect=Answer(400, "ERR_MALFORMED_REQUEST",
                       re.escape("failed deserializing HTTP body: ") + "(?s:.*ttlInSeconds.*)")),
    Case("tx-request-is-a-string", **transaction(
        '{"operations":[{"operation":"upsert","request":"k1"}]}'),
         expect=Answer(400, "ERR_MALFORMED_REQUEST",
                       re.escape("failed deserializing HTTP body: ") + "(?s:.+)")),
    Case("tx-illegal-key", **transaction(
        '{"operations":[{"operation":"delete","request":{"key":"k2"}},'
        '{"operation":"upsert","request":{"key":"k1||x","value":"X"}}]}'),
         expect=illegal_key("k1||x")),
    # Redis parses upsert etags before EXEC; in-memory checks all etags first: either way
    # nothing runs, not even the good delete before it (spec 7.2).
    Case("tx-garbage-etag", **transaction(
        '{"operations":[{"operation":"delete","request":{"key":"k2"}},'
        '{"operation":"upsert","request":{"key":"k1","value":"X","etag":"abc"}}]}'),
         expect=per_store(
             exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: "
                                                 "invalid etag value: " + atoi_error("abc")),
             memory_etag_mismatch("k1", "abc", "transaction"))),
    Case("tx-bad-ttl", **transaction(
        '{"operations":[{"operation":"delete","request":{"key":"k2"}},'
        '{"operation":"upsert","request":{"key":"k1","value":"X",'
        '"metadata":{"ttlInSeconds":"abc"}}}]}'),
         expect=per_store(
             exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: "
                   "failed to parse ttl from metadata: " + parse_int_error("abc")),
             exact(500, "ERR_STATE_TRANSACTION", "error while executing state transaction: "
                   + atoi_error("abc")))),
    Case("tx-unknown-store", method="POST", path="/transaction", body=b"{}", store="nope",
         expect=exact(400, "ERR_STATE_STORE_NOT_FOUND", "state store nope is not found",
                      rich=True)),

    # -- bulk get (read only, but must not write either): E3, E12 (spec 6) -----------------------
    Case("bulk-keys-not-a-list", method="POST", path="/bulk", body=b'{"keys":"k1"}',
         expect=body_error("json: cannot unmarshal string into Go struct field "
                           "BulkGetRequest.keys of type []string")),
    Case("bulk-illegal-key", method="POST", path="/bulk", body=b'{"keys":["k1","a||b"]}',
         expect=illegal_key("a||b")),
]


def _send(profile: Any, case: Case) -> httpx.Response:
    store = case.store or profile.store
    return profile.http.request(case.method, f"/v1.0/state/{store}{case.path}",
                                content=case.body, params=case.params, headers=case.headers)


def check_answer(reply: httpx.Response, answer: Answer) -> None:
    assert reply.status_code == answer.status, reply.text
    if answer.code is None:
        # Go's http.Error: plain text with a trailing newline (spec 1, path decoding)
        assert reply.headers["content-type"] == "text/plain; charset=utf-8"
        assert re.fullmatch(answer.message, reply.text), reply.text
        return
    assert reply.headers["content-type"] == "application/json"
    assert not reply.content.endswith(b"\n")  # json.Marshal, no newline (spec 1)
    body = reply.json()
    expected_fields = ["errorCode", "message"] + (["details"] if answer.rich else [])
    assert list(body) == expected_fields, body  # spec 2.1
    assert body["errorCode"] == answer.code, body
    assert re.fullmatch(answer.message, body["message"]), (body["message"], answer.message)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_request_leaves_data_unchanged(profile: Any, seeded: Snapshot, case: Case) -> None:
    ctx = Ctx(profile.store, profile.is_redis, seeded.etags)
    answer = case.expect(ctx) if callable(case.expect) else case.expect
    check_answer(_send(profile, case), answer)
    assert_unchanged(profile, seeded, case.creates)


# -- odd keys are distinct keys, reached only by their exact escaping ---------------------------

def test_odd_keys_are_reached_only_by_their_escaping(profile: Any, seeded: Snapshot) -> None:
    get = profile.http.get
    base = profile.url()
    assert get(f"{base}/a+b").content == b'"space"'     # "+" decodes to " " (spec 1)
    assert get(f"{base}/a%20b").content == b'"space"'
    assert get(f"{base}/a%2Bb").content == b'"plus"'    # the "+" key needs %2B (spec 4)
    assert get(f"{base}/x%2Fy").content == b'"slash"'
    assert get(f"{base}/x%2fy").content == b'"slash"'   # hex digits in either case
    assert get(f"{base}/%D0%BA%D0%BB%D1%8E%D1%87-%C3%BC").content == b'"unicode"'
    assert get(f"{base}/x").status_code == 204          # "x/y" is not "x"
    assert_unchanged(profile, seeded)

    # Deleting "a+b" unescaped deletes the key "a b", and only it.
    assert profile.http.delete(f"{base}/a+b").status_code == 204
    assert get(f"{base}/a%20b").status_code == 204
    expected = dict(seeded.reads)
    del expected["a b"]
    after = snapshot(profile)
    assert {k: v for k, v in after.reads.items() if k != "a b"} == expected
    assert after.keyspace == seeded.keyspace - {"myapp||a b"}


def test_ttl_words_that_are_not_errors(profile: Any, seeded: Snapshot) -> None:
    """An empty TTL means none; a negative one means "no TTL" (spec 11.5, 12). These saves
    succeed and touch only their own key."""
    for ttl in ("", "-1", "0", "+0"):
        reply = profile.save({"key": "fresh", "value": ttl, "metadata": {"ttlInSeconds": ttl}})
        assert reply.status_code == 204, (ttl, reply.text)
    assert profile.get("fresh").content == b'"+0"'
    if profile.is_memory:
        assert "metadata.ttlexpiretime" not in profile.get("fresh").headers  # no TTL (spec 4)
    assert_unchanged(profile, seeded, {"fresh"})


# -- bodies over the size limit (spec 1: --max-body-size) --------------------------------------

LIMIT = 2048


@pytest.fixture(params=["redis-fake", "redis-real", "memory"])
def limited(request: pytest.FixtureRequest) -> Iterator[tuple[str, httpx.Client, Sidecar]]:
    """A sidecar started with max_body_size=2048 and one store of the given profile."""
    name = request.param
    if name == "redis-fake":
        component = Component(name="limited", type="state.redis", version="v1", metadata={},
                              source="(tests)")
    elif name == "redis-real":
        server = request.getfixturevalue("redis_server")
        component = Component(name="limited", type="state.redis", version="v1",
                              metadata={"redisHost": server.address, "redisDB": "6"},
                              source="(tests)")
    else:
        component = Component(name="limited", type="state.in-memory", version="v1",
                              metadata={}, source="(tests)")
    saved = {n: os.environ.get(n) for n in ("DAPR_HTTP_PORT", "DAPR_API_TOKEN")}
    sidecar = start(free_port(), "myapp", [component], quiet=True, max_body_size=LIMIT)
    try:
        sidecar.reset("limited")
        with httpx.Client(base_url=sidecar.url, timeout=10) as http:
            yield name, http, sidecar
    finally:
        sidecar.reset("limited")
        sidecar.stop()
        if component.store is not None and name == "redis-real":
            component.store.close()
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def _sized_save(size: int, key: str = "big") -> bytes:
    """A one-item save body of exactly *size* bytes (the value is padded)."""
    head, tail = f'[{{"key":"{key}","value":"'.encode(), b'"}]'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def test_bodies_over_the_limit(limited: tuple[str, httpx.Client, Sidecar]) -> None:
    _, http, _ = limited
    url = "/v1.0/state/limited"
    assert http.post(url, json=[{"key": k, "value": v} for k, v in SEED]).status_code == 204
    reads = {k: http.get(f"{url}/{quote(k, safe='')}") for k, _ in SEED}
    before = {k: (r.status_code, r.content, r.headers.get("etag")) for k, r in reads.items()}

    # The limit is inclusive: exactly LIMIT bytes are read, one more is refused.
    assert http.post(url, content=_sized_save(LIMIT)).status_code == 204
    too_large = [
        ("save", url, _sized_save(LIMIT + 1, "k1"), "stream too large"),
        ("huge save", url, _sized_save(100 * LIMIT, "k1"), "stream too large"),
        ("transaction", url + "/transaction",
         b'{"operations":[{"operation":"upsert","request":{"key":"k1","value":"'
         + b"y" * LIMIT + b'"}}]}', "failed deserializing HTTP body: stream too large"),
        ("bulk", url + "/bulk", b'{"keys":[' + b'"k1",' * LIMIT + b'"k2"]}',
         "failed deserializing HTTP body: stream too large"),
    ]
    for what, target, body, message in too_large:
        reply = http.post(target, content=body)
        # 400 ERR_MALFORMED_REQUEST: the decoder reports dapr/kit's LimitReadCloser error
        # (statelab's reading of the kit source; the exact daprd text is not in the spec).
        check_answer(reply, exact(400, "ERR_MALFORMED_REQUEST", message))
        after = {k: http.get(f"{url}/{quote(k, safe='')}") for k, _ in SEED}
        assert {k: (r.status_code, r.content, r.headers.get("etag"))
                for k, r in after.items()} == before, what
    # The sidecar still answers normally afterwards.
    assert http.post(url, json=[{"key": "k2", "value": "after"}]).status_code == 204
    assert http.get(f"{url}/k2").content == b'"after"'
