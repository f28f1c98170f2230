"""Stateful property test: random request sequences against a small model of the spec.

Hypothesis drives saves (one item and several; with no, current, stale, empty or garbage
etags; first-write, last-write or no concurrency; now and then an unknown option word),
gets, deletes (with and without ``If-Match``, ``?concurrency=first-write``) and transactions
(upserts and deletes, with etags) against :class:`SpecModel`, written from
``docs/dapr-state-api.md`` alone (it imports nothing from statelab's engine). After
each request it compares the status, ``errorCode`` and message; after each step it reads
every key back and compares the stored bytes and etags:

* Redis (``state.redis``): etags are exact integers; the sticky first-write flag and the
  version restarting at 1 after a delete are modelled (spec 9, 11.2 to 11.4); the Redis hash
  itself (``data``, ``version``, ``first-write``) is compared too (spec 10, 11.1);
* in-memory (``state.in-memory``): etags are fresh UUIDs on every write and are checked
  strictly (spec 9, 12);
* transactions: Redis applies the good operations when one fails, in-memory applies all or
  nothing (spec 7.2); saves of several items are never atomic (spec 3.3);
* bulk gets return the exact bytes spec 6 describes (request order, HTML-escaped data).

The Redis model runs on the embedded fakeredis server and on a real ``redis-server``; the
in-memory model on ``state.in-memory``. The big runs call ``StateAPI.request`` in-process; a
smaller run goes over HTTP through the ``profile`` fixture. Every run is derandomized.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any, Callable
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from statelab.dapr.http import StateAPI
from statelab.dapr.components import Component

APP_ID = "myapp"  # keys are stored as "myapp||<key>" (spec 10)
# Plain keys and keys that need escaping in the URL: space, "+", "/" and non-ASCII (spec 1, 4).
KEYS = ("k1", "k2", "a/b", "ü n+")

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NEVER_ISSUED = "00000000-0000-4000-8000-000000000000"  # a well-formed etag no store issued


# -- values and the bytes each store keeps (spec 3.4) ---------------------------------------

MISSING = object()  # the item has no "value" field at all: stored as null (spec 3.2, 3.4)


@dataclass(frozen=True)
class Value:
    sent: Any
    redis: bytes
    memory: bytes
    loose: bool = False  # Redis writes object keys in Go map order: compare parsed (spec 3.4)


# Rows of the spec's 3.4 table: Redis (jsoniter ConfigFastest) vs in-memory (encoding/json).
SPEC_VALUES = (
    Value("value1", b'"value1"', b'"value1"'),
    Value({"b": 1, "a": 2}, b'{"b":1,"a":2}', b'{"a":2,"b":1}', loose=True),
    Value(42, b"42", b"42"),
    Value(3.14159265, b"3.141593", b"3.14159265"),
    Value(0.0000001, b"0", b"1e-7"),
    Value(12345678901234567890, b"12345678901234567000", b"12345678901234567000"),
    Value("<b>&", b'"<b>&"', b'"\\u003cb\\u003e\\u0026"'),
    Value(None, b"null", b"null"),
    Value(True, b"true", b"true"),
    Value(MISSING, b"null", b"null"),
)


def _has_multikey_object(value: Any) -> bool:
    if isinstance(value, dict):
        return len(value) > 1 or any(_has_multikey_object(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_multikey_object(v) for v in value)
    return False


def _simple_value(value: Any) -> Value:
    """Small ints, plain ASCII strings, bools, null, lists and objects: both Go encoders
    write these like compact JSON; only in-memory sorts object keys (spec 3.4)."""
    compact = {"separators": (",", ":")}
    return Value(value, json.dumps(value, **compact).encode(),
                 json.dumps(value, sort_keys=True, **compact).encode(),
                 loose=_has_multikey_object(value))


_scalars = (st.integers(-1000, 1000) | st.text("abz _-.", max_size=5) | st.booleans()
            | st.none())
VALUES = st.one_of(
    st.sampled_from(SPEC_VALUES),
    st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text("abcd", min_size=1, max_size=2), inner, max_size=3),
                 max_leaves=5).map(_simple_value),
)

# Etag choices, resolved against the model when the rule runs. "g:" are garbage etags:
# not integers (Redis 400, S4), integers in odd spellings that Go's Atoi still accepts
# ("+1", "-0", "007"), "0" (means "no etag" to the Redis scripts, S12), a quoted etag
# (compared verbatim, spec 4) and an out-of-range number.
GARBAGE = ("abc", "0", "+1", "-0", "007", '"1"', "1.0", "99999999999999999999")
ETAG_CHOICES = st.sampled_from(
    ("none",) * 4 + ("current",) * 5 + ("stale", "older", "empty", "garbage", "garbage")
).flatmap(lambda c: st.sampled_from(GARBAGE).map("g:".__add__) if c == "garbage"
          else st.just(c))
# Mostly valid words; now and then one Dapr rejects (case-sensitive, E8 and E11).
CONCURRENCY = st.sampled_from((None,) * 3 + ("first-write",) * 3 + ("last-write",) * 2
                              + ("First-Write",))
CONSISTENCY = st.sampled_from((None,) * 5 + ("strong", "eventual", "linearizable"))
VALID_CONCURRENCY = (None, "", "first-write", "last-write")
VALID_CONSISTENCY = (None, "", "strong", "eventual")


# -- the model ---------------------------------------------------------------------------------

def go_atoi(text: str) -> int:
    """strconv.Atoi on 64-bit Go; raises ValueError with Go's message (spec 11.2, E7)."""
    quoted = json.dumps(text)
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"strconv.Atoi: parsing {quoted}: invalid syntax")
    number = int(text)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f"strconv.Atoi: parsing {quoted}: value out of range")
    return number


def script_error(what: str, stored_key: str) -> str:
    """Redis 7's wording of a Lua ``error()`` raised by the set or delete script (11.2)."""
    return (rf"ERR user_script:\d+: {re.escape(what + ' ' + stored_key)} "
            rf"script: [0-9a-f]{{40}}, on @user_script:\d+\.")


MISMATCH = "possible etag mismatch. error from state store: "


@dataclass(frozen=True)
class Fail:
    kind: str     # "mismatch" (409), "invalid" (400) or "other" (500): daprd's mapping
    detail: str   # regex of the store's error text


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None
    message: str | None = None                 # regex, must match the whole message
    lines: tuple[str, ...] | None = None       # multi-item save: joined errors, any order


@dataclass
class Entry:
    value: Value
    version: int = 0            # Redis: the hash's version field, i.e. the etag (11.1)
    flag: bool = False          # Redis: the sticky first-write field (11.3)
    etag: str | None = None     # in-memory: the UUID last read back; None = not read yet


class SpecModel:
    """Dapr's state API over one store, as the spec describes it."""

    def __init__(self, redis: bool, store: str) -> None:
        self.redis = redis
        self.store = store
        self.entries: dict[str, Entry] = {}
        self.old_versions: dict[str, int] = {}       # Redis: version before the last delete
        self.history: dict[str, list[str]] = {}      # in-memory: etags a key has had
        self.seen: set[str] = set()                  # in-memory: every etag read back

    @staticmethod
    def stored(key: str) -> str:
        return f"{APP_ID}||{key}"

    # -- resolving symbolic etag choices ------------------------------------------------

    def etag_for(self, key: str, choice: str) -> str | None:
        entry = self.entries.get(key)
        if choice == "none":
            return None
        if choice == "empty":
            return ""
        if choice.startswith("g:"):
            return choice[2:]
        if self.redis:
            version = entry.version if entry else self.old_versions.get(key, 0)
            if choice == "current":
                return str(version or 1)
            if choice == "stale":
                return str(version + 1)
            return str(version - 1) if version >= 2 else str(version + 2)  # "older"
        if entry is not None and choice == "current":
            assert entry.etag is not None, "every write is read back before the next step"
            return entry.etag
        old = [e for e in self.history.get(key, []) if entry is None or e != entry.etag]
        if choice == "current" or (choice == "older" and old):
            return old[-1] if old else NEVER_ISSUED
        return old[0] if choice == "stale" and old else NEVER_ISSUED

    # -- single operations ------------------------------------------------------------------

    @staticmethod
    def check_options(concurrency: str | None, consistency: str | None) -> Fail | None:
        """CheckRequestOptions: consistency is checked before concurrency (E8, E11)."""
        if consistency not in VALID_CONSISTENCY:
            return Fail("other", re.escape(f"unrecognized consistency model '{consistency}'"))
        if concurrency not in VALID_CONCURRENCY:
            return Fail("other", re.escape(f"unrecognized concurrency model '{concurrency}'"))
        return None

    def redis_expected_version(self, etag: str | None, concurrency: str | None
                               ) -> str | Fail:
        """parseETag: last-write or no etag sends 0, else the Atoi'd etag (11.2, S4, S12)."""
        if concurrency == "last-write" or not etag:
            return "0"
        try:
            return str(go_atoi(etag))
        except ValueError as exc:
            return Fail("invalid", re.escape(f"invalid etag value: {exc}"))

    def redis_set(self, key: str, value: Value, etag: str | None, concurrency: str | None,
                  *, in_transaction: bool) -> Fail | None:
        expected = self.redis_expected_version(etag, concurrency)
        if isinstance(expected, Fail):
            return expected
        entry = self.entries.get(key)
        allowed = (entry is None or str(entry.version) == expected
                   or (expected == "0" and not entry.flag))
        if not allowed:
            error = script_error("failed to set key", self.stored(key))
            if in_transaction:
                return Fail("other", error)  # the raw EXEC error (7.2)
            if etag:  # an etag was sent: an ETag mismatch, 409 (11.2 step 6, S10)
                return Fail("mismatch", re.escape(MISMATCH) + error)
            return Fail("other", re.escape(f"failed to set key {self.stored(key)}: ") + error)
        # Transactions never pass the first-write argument (11.3).
        first_write = concurrency == "first-write" and not in_transaction
        self.entries[key] = Entry(value, version=(entry.version if entry else 0) + 1,
                                  flag=(entry.flag if entry else False) or first_write)
        return None

    def redis_delete(self, key: str, etag: str | None) -> Fail | None:
        """The delete script compares the etag verbatim; "0" or none always deletes (11.4)."""
        expected = etag if etag else "0"
        entry = self.entries.get(key)
        if entry is None or str(entry.version) == expected or expected == "0":
            if entry is not None:
                self.old_versions[key] = entry.version
                del self.entries[key]  # DEL drops version and flag: versions restart (S13)
            return None
        return Fail("mismatch", re.escape(MISMATCH)
                    + script_error("failed to delete", self.stored(key)))

    def memory_validate(self, key: str, etag: str | None, concurrency: str | None
                        ) -> Fail | None:
        """doValidateEtag: strict etags, first-write refuses to overwrite (spec 12, S3-S10)."""
        entry = self.entries.get(key)
        stored = self.stored(key)
        if concurrency == "first-write" and not etag:
            if entry is not None:
                return Fail("mismatch", re.escape(MISMATCH + "item already exists and no "
                                                  "etag was passed"))
            return None
        if etag:
            if entry is None:
                return Fail("mismatch", re.escape(
                    MISMATCH + f"state not exist or expired for key={stored}"))
            if entry.etag != etag:
                current = re.escape(entry.etag) if entry.etag else UUID_RE
                return Fail("mismatch", re.escape(
                    MISMATCH + f"state etag not match for key={stored}: current=")
                    + current + re.escape(f", expect={etag}"))
        return None

    def memory_write(self, key: str, value: Value) -> None:
        self.entries[key] = Entry(value)  # a fresh UUID, learnt when read back

    def save_item(self, key: str, value: Value, etag: str | None, concurrency: str | None,
                  consistency: str | None) -> Fail | None:
        failure = self.check_options(concurrency, consistency)
        if failure is not None:
            return failure
        if self.redis:
            return self.redis_set(key, value, etag, concurrency, in_transaction=False)
        failure = self.memory_validate(key, etag, concurrency)
        if failure is None:
            self.memory_write(key, value)
        return failure

    # -- requests ---------------------------------------------------------------------------

    def save(self, items: list[tuple[str, Value, str | None, str | None, str | None]]
             ) -> Expect:
        """One item is a plain Set; several run one by one, unordered, not atomic (3.3).
        statelab runs them in array order, one of the orders daprd may produce."""
        failures = [f for f in (self.save_item(*item) for item in items) if f is not None]
        prefix = re.escape(f"failed saving state in state store {self.store}: ")
        status = {"mismatch": 409, "invalid": 400, "other": 500}
        if not failures:
            return Expect(204)
        if len(items) == 1:
            (failure,) = failures
            return Expect(status[failure.kind], "ERR_STATE_SAVE", prefix + failure.detail)
        if all(f.kind != "other" for f in failures):
            # Only etag errors: re-wrapped as one etag error, so the prefix doubles (3.3).
            invalid = any(f.kind == "invalid" for f in failures)
            wrap = "invalid etag value: " if invalid else MISMATCH
            return Expect(400 if invalid else 409, "ERR_STATE_SAVE",
                          prefix + re.escape(wrap) + "(?s:.*)",
                          lines=tuple(f.detail for f in failures))
        return Expect(500, "ERR_STATE_SAVE", prefix + "(?s:.*)",
                      lines=tuple(f.detail for f in failures))

    def delete(self, key: str, etag: str | None, concurrency: str | None,
               consistency: str | None) -> Expect:
        failure = self.check_options(concurrency, consistency)
        if failure is None:
            if self.redis:
                # Redis ignores ?concurrency=first-write on delete (D5).
                failure = self.redis_delete(key, etag)
            else:
                failure = self.memory_validate(key, etag, concurrency)
                if failure is None:
                    self.entries.pop(key, None)
        if failure is None:
            return Expect(204)
        # E10 (409) or E11 (500); the message names the key, not the store (spec 5).
        return Expect(409 if failure.kind == "mismatch" else 500, "ERR_STATE_DELETE",
                      re.escape(f"failed deleting state with key {key}: ") + failure.detail)

    def transaction(self, ops: list[tuple[str, str, Value, str | None, str | None]]) -> Expect:
        prefix = re.escape("error while executing state transaction: ")
        if not ops:
            return Expect(204)  # empty operations: 204 (7.1 step 5)
        if self.redis:
            # An upsert whose etag is not an integer fails before EXEC: nothing runs (7.2).
            for kind, _key, _value, etag, concurrency in ops:
                if kind == "upsert":
                    expected = self.redis_expected_version(etag, concurrency)
                    if isinstance(expected, Fail):
                        return Expect(500, "ERR_STATE_TRANSACTION", prefix + expected.detail)
            # MULTI/EXEC has no rollback: every other operation still applies (7.2).
            first: Fail | None = None
            for kind, key, value, etag, concurrency in ops:
                if kind == "upsert":
                    failure = self.redis_set(key, value, etag, concurrency, in_transaction=True)
                else:
                    failure = self.redis_delete(key, etag)
                    if failure is not None:
                        failure = Fail("other", script_error("failed to delete",
                                                             self.stored(key)))
                first = first or failure
            if first is None:
                return Expect(204)
            return Expect(500, "ERR_STATE_TRANSACTION", prefix + first.detail)
        # in-memory: every etag is checked against the state before the transaction, then
        # everything applies, or nothing does (7.2, spec 12).
        for _kind, key, _value, etag, concurrency in ops:
            failure = self.memory_validate(key, etag, concurrency)
            if failure is not None:
                return Expect(500, "ERR_STATE_TRANSACTION", prefix + failure.detail)
        for kind, key, value, _etag, _concurrency in ops:
            if kind == "upsert":
                self.memory_write(key, value)
            else:
                self.entries.pop(key, None)
        return Expect(204)


# -- transports ----------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    body: bytes
    etag: str | None
    content_type: str | None

    def describe(self) -> str:
        return f"{self.status} etag={self.etag!r} body={self.body[:400]!r}"


Send = Callable[..., Reply]


def in_process(api: StateAPI) -> Send:
    def send(method: str, path: str, *, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, body: Any = None) -> Reply:
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        reply = api.request(method, path, params=params, headers=headers, **kwargs)
        return Reply(reply.status, reply.body, reply.etag, reply.header("Content-Type"))
    return send


def over_http(client: httpx.Client) -> Send:
    def send(method: str, path: str, *, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, body: Any = None) -> Reply:
        content = None if body is None else json.dumps(body).encode()
        reply = client.request(method, path, params=params, headers=headers, content=content)
        return Reply(reply.status_code, reply.content, reply.headers.get("etag"),
                     reply.headers.get("content-type"))
    return send


# -- the state machine ---------------------------------------------------------------------------

@dataclass
class Target:
    """What one run drives: a transport, the store name, a reset, and for Redis a client on
    the database behind the store (to compare the hash itself)."""

    send: Send
    store: str
    redis: bool
    reset: Callable[[], None]
    redis_client: Any = None
    seen: set[str] = field(default_factory=set)  # in-memory etags seen across examples


def item_body(key: str, value: Value, etag: str | None, concurrency: str | None,
              consistency: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"key": key}
    if value.sent is not MISSING:
        body["value"] = value.sent
    if etag is not None:
        body["etag"] = etag
    options = {k: v for k, v in (("concurrency", concurrency), ("consistency", consistency))
               if v is not None}
    if options:
        body["options"] = options
    return body


def machine_for(target: Target) -> type[RuleBasedStateMachine]:
    class SpecMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            target.reset()
            self.model = SpecModel(target.redis, target.store)
            self.model.seen = target.seen  # UUIDs must never repeat, even across examples
            self.touched: set[str] = set(KEYS)  # keys to read back after this step
            self.checks = 0

        def url(self, key: str | None = None) -> str:
            base = f"/v1.0/state/{target.store}"
            return base if key is None else f"{base}/{quote(key, safe='')}"

        def check(self, expect: Expect, reply: Reply, what: str) -> None:
            where = f"{what} -> {reply.describe()}"
            event(f"{what.split()[0]} {expect.status} {expect.code or ''}".strip())
            assert reply.status == expect.status, where
            if expect.status == 204:
                assert reply.body == b"", where  # 204: status only (spec 1)
                return
            payload = json.loads(reply.body)
            assert list(payload) == ["errorCode", "message"], where  # plain APIError (2.1)
            assert reply.content_type == "application/json", where
            assert payload["errorCode"] == expect.code, where
            message = payload["message"]
            assert expect.message is not None
            assert re.fullmatch(expect.message, message), f"{where}\nexpected /{expect.message}/"
            if expect.lines is not None:
                # Joined per-item errors, one per line, in any order (3.3).
                tail = re.match(expect.message.removesuffix("(?s:.*)"), message)
                assert tail is not None
                got = message[tail.end():].split("\n")
                assert len(got) == len(expect.lines), where
                assert any(all(re.fullmatch(p, line) for p, line in zip(order, got))
                           for order in permutations(expect.lines)), where

        # -- rules ------------------------------------------------------------------------

        @rule(key=st.sampled_from(KEYS), value=VALUES, etag=ETAG_CHOICES,
              concurrency=CONCURRENCY, consistency=CONSISTENCY)
        def save_one(self, key: str, value: Value, etag: str, concurrency: str | None,
                     consistency: str | None) -> None:
            self.touched.add(key)
            item = (key, value, self.model.etag_for(key, etag), concurrency, consistency)
            body = [item_body(*item)]
            expect = self.model.save([item])
            self.check(expect, target.send("POST", self.url(), body=body), f"save {body}")

        @rule(items=st.lists(st.tuples(st.sampled_from(KEYS), VALUES, ETAG_CHOICES,
                                       st.sampled_from((None, "first-write", "last-write"))),
                             min_size=2, max_size=3),
              method=st.sampled_from(("POST", "PUT")))
        def save_many(self, items: list[tuple[str, Value, str, str | None]], method: str
                      ) -> None:
            self.touched.update(k for k, *_ in items)
            resolved = [(k, v, self.model.etag_for(k, e), c, None) for k, v, e, c in items]
            body = [item_body(*item) for item in resolved]
            expect = self.model.save(resolved)
            self.check(expect, target.send(method, self.url(), body=body), f"save {body}")

        @rule(key=st.sampled_from(KEYS), consistency=CONSISTENCY)
        def get(self, key: str, consistency: str | None) -> None:
            # GET does not validate consistency (spec 4, 19.6); metadata.* is accepted.
            params = {"metadata.partitionKey": "p1"}
            if consistency is not None:
                params["consistency"] = consistency
            reply = target.send("GET", self.url(key), params=params)
            self.compare_read(key, reply)

        @rule(keys=st.lists(st.sampled_from(KEYS), max_size=4),
              parallelism=st.sampled_from((None, 0, 2)))
        def bulk_get(self, keys: list[str], parallelism: int | None) -> None:
            body: dict[str, Any] = {"keys": keys}
            if parallelism is not None:
                body["parallelism"] = parallelism
            reply = target.send("POST", self.url() + "/bulk", body=body)
            where = f"bulk {keys} -> {reply.describe()}"
            assert reply.status == 200 and reply.content_type == "application/json", where
            # Request order, duplicates kept; keys without the prefix; a missing key is just
            # {"key": ...}; data is raw JSON, compacted and HTML-escaped (spec 6).
            items, loose = [], False
            for key in keys:
                entry = self.model.entries.get(key)
                name = json.dumps(key, ensure_ascii=False)
                if entry is None:
                    items.append(f'{{"key":{name}}}'.encode())
                    continue
                stored = entry.value.redis if target.redis else entry.value.memory
                loose = loose or (target.redis and entry.value.loose)
                data = (stored.replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
                        .replace(b"&", b"\\u0026"))
                etag = str(entry.version) if target.redis else entry.etag
                assert etag is not None
                items.append(f'{{"key":{name},"data":'.encode() + data
                             + f',"etag":"{etag}"}}'.encode())
            expected = b"[" + b",".join(items) + b"]\n"  # json.Encoder adds a newline (1)
            if loose:
                assert json.loads(reply.body) == json.loads(expected), where
                assert reply.body.endswith(b"]\n"), where
            else:
                assert reply.body == expected, f"{where}\nexpected {expected!r}"

        @rule(key=st.sampled_from(KEYS), etag=ETAG_CHOICES,
              concurrency=st.sampled_from((None,) * 4 + ("first-write",) * 2
                                          + ("last-write", "bogus")),
              consistency=CONSISTENCY)
        def delete(self, key: str, etag: str, concurrency: str | None,
                   consistency: str | None) -> None:
            self.touched.add(key)
            resolved = self.model.etag_for(key, etag)
            headers = {} if resolved is None else {"If-Match": resolved}
            params = {k: v for k, v in (("concurrency", concurrency),
                                        ("consistency", consistency)) if v is not None}
            expect = self.model.delete(key, resolved, concurrency, consistency)
            reply = target.send("DELETE", self.url(key), params=params, headers=headers)
            self.check(expect, reply, f"delete {key!r} If-Match={resolved!r} {params}")

        @rule(ops=st.lists(st.tuples(st.sampled_from(("upsert", "upsert", "delete")),
                                     st.sampled_from(KEYS), VALUES,
                                     ETAG_CHOICES.filter(lambda c: c != "empty"),
                                     st.sampled_from((None, "first-write", "last-write"))),
                           max_size=3))
        def transaction(self, ops: list[tuple[str, str, Value, str, str | None]]) -> None:
            self.touched.update(key for _, key, *_ in ops)
            resolved = [(kind, key, value, self.model.etag_for(key, etag), concurrency)
                        for kind, key, value, etag, concurrency in ops]
            operations = []
            for kind, key, value, etag, concurrency in resolved:
                request = item_body(key, value, etag, concurrency, None)
                if kind == "delete":
                    request.pop("value", None)  # a delete's etag goes in the body (7.1)
                operations.append({"operation": kind, "request": request})
            body = {"operations": operations}
            expect = self.model.transaction(resolved)
            reply = target.send("POST", self.url() + "/transaction", body=body)
            self.check(expect, reply, f"transaction {body}")

        # -- reading everything back after each step -----------------------------------------

        def compare_read(self, key: str, reply: Reply) -> None:
            entry = self.model.entries.get(key)
            where = f"GET {key!r} -> {reply.describe()}; model {entry}"
            if entry is None:
                # A miss is 204 with no body and no Etag (spec 4).
                assert (reply.status, reply.body, reply.etag) == (204, b"", None), where
                return
            assert reply.status == 200, where
            assert reply.content_type == "application/json", where
            expected = entry.value.redis if target.redis else entry.value.memory
            if target.redis and entry.value.loose:
                assert json.loads(reply.body) == json.loads(expected), where
            else:
                assert reply.body == expected, where  # the stored bytes verbatim (3.4)
            if target.redis:
                assert reply.etag == str(entry.version), where  # "1", "2", ... (19.4)
                return
            assert reply.etag is not None and UUID4.fullmatch(reply.etag), where  # spec 12
            if entry.etag is None:
                # Written since the last read: a UUID never issued before (spec 12).
                assert reply.etag not in self.model.seen, where
                entry.etag = reply.etag
                self.model.seen.add(reply.etag)
                self.model.history.setdefault(key, []).append(reply.etag)
            else:
                assert reply.etag == entry.etag, where  # no write, no new etag

        @invariant()
        def stored_data_matches_the_model(self) -> None:
            """Read back the keys the last step named; every fourth step, all keys (so a
            write to a key nobody named would show up too)."""
            self.checks += 1
            keys = KEYS if self.checks % 4 == 0 else sorted(self.touched)
            self.touched.clear()
            for key in keys:
                self.compare_read(key, target.send("GET", self.url(key)))
                if target.redis_client is not None:
                    self.compare_hash(key)

        def compare_hash(self, key: str) -> None:
            """The Redis hash holds data, version and maybe first-write = 0 (10, 11.1)."""
            entry = self.model.entries.get(key)
            fields = target.redis_client.hgetall(self.model.stored(key))
            if entry is None:
                assert fields == {}, (key, fields)
                return
            expected = {b"data", b"version"} | ({b"first-write"} if entry.flag else set())
            assert set(fields) == expected, (key, fields, entry)
            assert fields[b"version"] == str(entry.version).encode(), (key, fields, entry)
            if entry.flag:
                assert fields[b"first-write"] == b"0", (key, fields)

    return SpecMachine


def run(target: Target, max_examples: int, steps: int = 20) -> None:
    run_state_machine_as_test(machine_for(target), settings=settings(
        max_examples=max_examples, stateful_step_count=steps, deadline=None,
        derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]))


# -- the runs ------------------------------------------------------------------------------------

def _api_target(component: Component) -> Target:
    api = StateAPI(components=[component], app_id=APP_ID)
    store = component.store
    assert store is not None
    redis = component.type == "state.redis"
    return Target(in_process(api), component.name, redis, store.reset,
                  component.redis_client() if redis else None)


def test_redis_model_on_fakeredis() -> None:
    """Spec 9 and 11 on the embedded fakeredis server, in-process."""
    component = Component(name="propfake", type="state.redis", version="v1", metadata={},
                          source="(tests)")
    run(_api_target(component), max_examples=80)


@pytest.mark.real_redis
def test_redis_model_on_real_redis(redis_server) -> None:  # type: ignore[no-untyped-def]
    """The same model against a real redis-server 7 (skips without the binary; CI fails)."""
    component = Component(name="propreal", type="state.redis", version="v1",
                          metadata={"redisHost": redis_server.address, "redisDB": "5"},
                          source="(tests)")
    target = _api_target(component)
    try:
        run(target, max_examples=80)
    finally:
        target.reset()
        assert component.store is not None
        component.store.close()


def test_memory_model_in_process() -> None:
    """Spec 9 and 12 (strict UUID etags, atomic transactions) on state.in-memory."""
    component = Component(name="propmem", type="state.in-memory", version="v1", metadata={},
                          source="(tests)")
    run(_api_target(component), max_examples=120)


def test_model_over_http(profile) -> None:  # type: ignore[no-untyped-def]
    """A shorter run through the real HTTP sidecar, for every profile."""
    redis = profile.is_redis
    target = Target(over_http(profile.http), profile.store, redis,
                    lambda: profile.sidecar.reset(profile.store),
                    profile.sidecar.redis(profile.store) if redis else None)
    run(target, max_examples=20, steps=12)
