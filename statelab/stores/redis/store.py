"""Dapr's Redis state store (``state.redis``), over any redis-py client.

Each state key is a Redis hash with ``data``, ``version`` (the ETag) and, once any save used
``first-write``, a sticky ``first-write`` field. Saves and deletes run as one Lua script each,
sent with EVALSHA (redis-py falls back to loading the script on NOSCRIPT), so the same code is
atomic on the embedded fakeredis server (through lupa) and on a real Redis server.

On a fakeredis server in this process the store runs the scripts' commands directly (about 20 us
instead of about 300 us for Lua through lupa; see :mod:`statelab.stores.redis.fakeredis_direct`), with
the same rules, the same atomicity and the same answers; odd states still go through Lua.

The scripts below are statelab's own text with the logic of components-contrib v1.18
(spec section 11): that is what makes every quirk of the ETag matrix (S1-S13, D1-D5) come out
the same. The save script reads both fields with one HMGET and writes with one HSET where
Dapr's uses two of each: the same decisions and the same stored hash, with fewer Lua-to-Redis
calls (on fakeredis each costs about 45 us). Because the text differs from Dapr's, a Redis script error names a different line
number and SHA than real Dapr's would; the rest of the wording matches Redis 7.

fakeredis words script errors differently from a real server; :func:`_redis7_wording` rewrites
them into Redis 7's form, so a learner sees the same message on both backends.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from typing import Any, Literal

from statelab.go import json as gojson
from statelab.go.stdlib import GoParseError, atoi
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
    check_request_options,
)
from statelab.stores.redis.fakeredis_direct import DirectFakeredis, HandBack, ScriptRefused

__all__ = ["DELETE_SCRIPT", "SAVE_SCRIPT", "RedisStore", "redis7_script_error"]

# KEYS[1] state key; ARGV[1] expected version ("0" = none), ARGV[2] data,
# ARGV[3] "0" when the save asked for first-write (absent in transactions).
SAVE_SCRIPT = """\
local fields = redis.pcall("HMGET", KEYS[1], "version", "first-write")
local current, sticky = false, false
if fields["err"] then
  -- not a hash (a legacy plain value): drop it and start over
  redis.call("DEL", KEYS[1])
else
  current, sticky = fields[1], fields[2]
end
local expected = ARGV[1]
local allowed = (not current) or current == "" or current == expected
  or ((not sticky) and expected == "0")
if not allowed then
  return error("failed to set key " .. KEYS[1])
end
if ARGV[3] == "0" then
  redis.call("HSET", KEYS[1], "data", ARGV[2], "first-write", 0)
else
  redis.call("HSET", KEYS[1], "data", ARGV[2])
end
return redis.call("HINCRBY", KEYS[1], "version", 1)
"""

# KEYS[1] state key; ARGV[1] expected version ("0" = no If-Match).
DELETE_SCRIPT = """\
local current = redis.pcall("HGET", KEYS[1], "version")
local allowed = (not current) or type(current) == "table" or current == ""
  or current == ARGV[1] or ARGV[1] == "0"
if not allowed then
  return error("failed to delete " .. KEYS[1])
end
return redis.call("DEL", KEYS[1])
"""

_FAKEREDIS_SCRIPT_ERROR = re.compile(
    r"Error running script \(call to f_(?P<sha>[0-9a-f]+)\): @user_script:\?: "
    r"\[string \"<python>\"\]:(?P<line>\d+): (?P<message>.*?)(?:\nstack traceback:.*)?$",
    re.DOTALL)


# What a ``redis.call`` inside SAVE_SCRIPT can fail with: only its HINCRBY can fail (on a
# version that is not an integer, or at 2**63-1); its HSET always runs on a hash or a deleted key.
_HINCRBY_ERRORS = ("hash value is not an integer", "increment or decrement would overflow")


def _redis7_wording(error: Exception) -> str:
    """The error text as go-redis shows a Redis 7 script error (with its ``ERR`` prefix).

    fakeredis words a script's own ``error(...)`` in its own way, and passes an error raised by
    a ``redis.call`` on without the ``script: <sha>, on @user_script:<line>.`` that Redis 7
    appends; both are rewritten to Redis 7's form.
    """
    text = str(error)
    match = _FAKEREDIS_SCRIPT_ERROR.match(text)
    bare = text.removeprefix("ERR ")
    if match:
        line = match["line"]
        message = match["message"]
        try:
            # fakeredis hands Lua error text over as UTF-8 bytes read as Latin-1 (a key "ü"
            # comes back as "Ã¼"); real Redis keeps the key's bytes, so undo that.
            message = message.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        text = (f"user_script:{line}: {message} script: {match['sha']}, "
                f"on @user_script:{line}.")
    elif " script: " not in text and bare.startswith(_HINCRBY_ERRORS):
        sha, line = _script_site(SAVE_SCRIPT, 'redis.call("HINCRBY"')
        text = f"{bare} script: {sha}, on @user_script:{line}."
    return text if text.startswith("ERR ") else "ERR " + text


@functools.cache
def _script_site(script: str, fragment: str) -> tuple[str, int]:
    """The SHA of *script* and the number of its (first) line containing *fragment*."""
    sha = hashlib.sha1(script.encode()).hexdigest()
    line = next(i for i, text in enumerate(script.splitlines(), start=1) if fragment in text)
    return sha, line


def redis7_script_error(script: str, message_start: str, key: str) -> str:
    """The text a Redis 7 server returns when *script* raises at its ``error(...)`` line."""
    sha, line = _script_site(script, f'error("{message_start}')
    return (f"ERR user_script:{line}: {message_start}{key} script: {sha}, "
            f"on @user_script:{line}.")


class _ScriptFailed(Exception):
    """A save or delete script failed; the argument is the error as Redis 7 words it."""


REDIS_FEATURES = ("ETAG", "TRANSACTIONAL", "TTL", "KEYS_LIKE")


class RedisStore:
    """``state.redis`` semantics on a redis-py ``Redis`` client (fakeredis or a real server).

    ``scripts="auto"`` runs the save, delete and get commands directly when *client* is a
    fakeredis client of this process (same answers, a tenth of the cost); ``scripts="lua"``
    always sends EVALSHA, as against a real server.
    """

    component_type = "state.redis"
    features = REDIS_FEATURES

    def __init__(self, client: Any, *, default_ttl: int | None = None,
                 scripts: Literal["auto", "lua"] = "auto") -> None:
        from redis.exceptions import NoScriptError, ResponseError  # lazy: ~120 ms to import

        if scripts not in ("auto", "lua"):
            raise ValueError(f"scripts must be 'auto' or 'lua', not {scripts!r}")
        self._response_error = ResponseError
        self._no_script_error = NoScriptError
        self.client = client
        self.default_ttl = default_ttl
        self.direct = DirectFakeredis.attach(client) if scripts == "auto" else None
        self._save = client.register_script(SAVE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)
        self.replicas = self._connected_replicas()

    def _connected_replicas(self) -> int:
        """Counted once, like Dapr does at component init (spec 11.5)."""
        try:
            info = self.client.info("replication")
        except Exception:  # noqa: BLE001 - fakeredis may not implement INFO sections
            return 0
        return int(info.get("connected_slaves", 0) or 0)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _expected_version(request: SetRequest) -> str:
        """components-contrib's ``parseETag``: last-write or no etag means version 0."""
        if request.concurrency == "last-write" or not request.has_etag:
            return "0"
        etag = request.etag or ""
        if etag.isascii() and etag.isdigit() and len(etag) <= 18:
            return str(int(etag))  # what atoi gives for plain digits below 2**63, minus a regex
        try:
            return str(atoi(etag))
        except GoParseError as exc:
            raise EtagError("invalid", str(exc)) from None

    def _ttl(self, request: SetRequest) -> int | None:
        raw = request.metadata.get("ttlInSeconds", "")
        if raw == "":
            return self.default_ttl
        try:
            return atoi(raw)
        except GoParseError as exc:
            raise StoreError(f"failed to parse ttl from metadata: {exc}") from None

    @staticmethod
    def encode(value: Any) -> bytes:
        """Values are stored the way jsoniter ``ConfigFastest`` writes them (spec 3.4)."""
        return gojson.encode_fastest(value)

    # -- Store protocol ---------------------------------------------------------------------

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        try:
            fields = self._hgetall(key)
        except self._response_error:
            # A plain string key (written by something other than Dapr): returned without ETag.
            raw = self.client.get(key)
            return None if raw is None else GetResult(data=raw, etag=None)
        if not fields:
            return None
        data = fields.get(b"data")
        version = fields.get(b"version")
        if data is None or version is None:
            raise StoreError("required hash field 'data' or 'version' was not found")
        return GetResult(data=data, etag=version.decode())

    def set(self, request: SetRequest) -> None:
        check_request_options(request.concurrency, request.consistency)
        expected = self._expected_version(request)
        ttl = self._ttl(request)
        try:
            self._run_save(request.key, expected, self.encode(request.value),
                           request.concurrency == "first-write")
        except _ScriptFailed as exc:
            if request.has_etag:
                raise EtagError("mismatch", str(exc)) from None
            raise StoreError(f"failed to set key {request.key}: {exc}") from None
        if ttl is not None and ttl > 0:
            self.client.expire(request.key, ttl)
        elif ttl is not None:
            self.client.persist(request.key)
        if request.consistency == "strong" and self.replicas > 0:
            self.client.wait(self.replicas, 1000)

    def _hgetall(self, key: str) -> dict[bytes, bytes]:
        if self.direct is not None:
            try:
                return self.direct.hgetall(key)
            except HandBack:
                pass  # not a hash: redis-py raises WRONGTYPE and get() reads it as a string
        result: dict[bytes, bytes] = self.client.hgetall(key)
        return result

    def _run_save(self, key: str, expected: str, data: bytes, first_write: bool) -> None:
        """SAVE_SCRIPT, directly on an in-process fakeredis or as EVALSHA."""
        if self.direct is not None:
            try:
                self.direct.save(key, expected, data, first_write)
                return
            except ScriptRefused:
                raise _ScriptFailed(redis7_script_error(SAVE_SCRIPT, "failed to set key ",
                                                        key)) from None
            except HandBack:
                pass  # an odd state: Lua decides, and words any error as Redis does
        try:
            self._evalsha_save(key, expected, data, "0" if first_write else "1")
        except self._response_error as exc:
            raise _ScriptFailed(_redis7_wording(exc)) from None

    def _evalsha_save(self, key: str, *args: Any) -> Any:
        """``self._save(keys=[key], args=args)`` without redis-py's ``Script.__call__`` (about
        10 us a call): EVALSHA, and on NOSCRIPT load the script and retry, as Script does."""
        try:
            return self.client.evalsha(self._save.sha, 1, key, *args)
        except self._no_script_error:
            self._save.sha = self.client.script_load(self._save.script)
            return self.client.evalsha(self._save.sha, 1, key, *args)

    def delete(self, request: DeleteRequest) -> None:
        check_request_options(request.concurrency, request.consistency)
        expected = request.etag if request.has_etag else "0"
        if self.direct is not None:
            try:
                self.direct.delete(request.key, expected)
                return
            except ScriptRefused:
                raise EtagError("mismatch", redis7_script_error(
                    DELETE_SCRIPT, "failed to delete ", request.key)) from None
            except HandBack:
                pass
        try:
            self._delete(keys=[request.key], args=[expected])
        except self._response_error as exc:
            # Dapr maps every delete script error to an ETag mismatch (spec 11.4).
            raise EtagError("mismatch", _redis7_wording(exc)) from None

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """MULTI/EXEC: Redis has no rollback, so good operations apply when one fails (7.2)."""
        pipe = self.client.pipeline(transaction=True)
        for op in operations:
            req = op.request
            if op.operation == "upsert":
                assert isinstance(req, SetRequest)
                expected = self._expected_version(req)  # an invalid etag fails before EXEC
                ttl = self._ttl(req)
                # Transactions never pass the first-write argument (spec 11.3).
                self._save(keys=[req.key], args=[expected, self.encode(req.value)], client=pipe)
                if ttl is not None and ttl > 0:
                    pipe.expire(req.key, ttl)
                elif ttl is not None:
                    pipe.persist(req.key)
            else:
                assert isinstance(req, DeleteRequest)
                expected = req.etag if req.has_etag else "0"
                self._delete(keys=[req.key], args=[expected], client=pipe)
        if not operations:
            return
        results = pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception):
                raise StoreError(_redis7_wording(result))

    def reset(self) -> None:
        self.client.flushdb()

    def close(self) -> None:
        self.client.close()
