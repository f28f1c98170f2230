"""A pure-Python model of the Redis store's Lua scripts, for the simulator's speed.

The simulator replays thousands of requests per scenario; through fakeredis each etag-checked
save costs about 240 us of Lua, so the race lab would crawl. This model keeps the same hash
layout in dicts and applies the same rules as :data:`~statelab.stores.redis.store.SAVE_SCRIPT`
and :data:`~statelab.stores.redis.store.DELETE_SCRIPT`, including the error text a Redis 7
server gives for them (same script SHA and line number), so answers match byte for byte.

It is *only* for the simulator. ``tests/test_redis_model.py`` drives the same random
operation sequences through this model, through the Lua scripts on fakeredis and through a real
Redis server, and requires identical statuses, etags, values and errors. The HTTP sidecar always
uses :class:`~statelab.stores.redis.store.RedisStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
    check_request_options,
)
from statelab.stores.redis.store import (
    DELETE_SCRIPT,
    REDIS_FEATURES,
    SAVE_SCRIPT,
    RedisStore,
    redis7_script_error,
)

__all__ = ["RedisModelStore"]


class RedisModelStore:
    """``state.redis`` semantics over plain dicts; same answers as the Lua scripts."""

    component_type = "state.redis"
    features = REDIS_FEATURES

    def __init__(self, *, default_ttl: int | None = None) -> None:
        # key -> {"data": bytes, "version": int, "first-write": bool}
        self._hashes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.default_ttl = default_ttl
        self.replicas = 0

    encode = staticmethod(RedisStore.encode)
    _expected_version = staticmethod(RedisStore._expected_version)

    def _ttl(self, request: SetRequest) -> int | None:
        return RedisStore._ttl(self, request)  # type: ignore[arg-type]

    # -- the two scripts -------------------------------------------------------------------

    def _save_script(self, key: str, expected: str, data: bytes, first_write: bool) -> None:
        entry = self._hashes.get(key)
        if entry is not None:
            allowed = str(entry["version"]) == expected or (
                not entry["first-write"] and expected == "0")
            if not allowed:
                raise _ScriptError(redis7_script_error(SAVE_SCRIPT, "failed to set key ", key))
            entry["data"] = data
            entry["first-write"] = entry["first-write"] or first_write
            entry["version"] += 1
        else:
            self._hashes[key] = {"data": data, "version": 1, "first-write": first_write}

    def _delete_script(self, key: str, expected: str) -> None:
        entry = self._hashes.get(key)
        if entry is not None and str(entry["version"]) != expected and expected != "0":
            raise _ScriptError(redis7_script_error(DELETE_SCRIPT, "failed to delete ", key))
        self._hashes.pop(key, None)

    # -- Store protocol ---------------------------------------------------------------------

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        with self._lock:
            entry = self._hashes.get(key)
            if entry is None:
                return None
            return GetResult(data=entry["data"], etag=str(entry["version"]))

    def set(self, request: SetRequest) -> None:
        check_request_options(request.concurrency, request.consistency)
        expected = self._expected_version(request)
        self._ttl(request)  # validated like the real store; expiry is not modelled
        data = self.encode(request.value)
        with self._lock:
            try:
                self._save_script(request.key, expected, data,
                                  request.concurrency == "first-write")
            except _ScriptError as exc:
                if request.has_etag:
                    raise EtagError("mismatch", str(exc)) from None
                raise StoreError(f"failed to set key {request.key}: {exc}") from None

    def delete(self, request: DeleteRequest) -> None:
        check_request_options(request.concurrency, request.consistency)
        expected = request.etag if request.has_etag else "0"
        with self._lock:
            try:
                self._delete_script(request.key, expected or "0")
            except _ScriptError as exc:
                raise EtagError("mismatch", str(exc)) from None

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """Like MULTI/EXEC: every queued script runs; the first failure is reported."""
        queued: list[tuple[str, Any]] = []
        for op in operations:
            if isinstance(op.request, SetRequest):
                expected = self._expected_version(op.request)
                self._ttl(op.request)
                queued.append(("set", (op.request.key, expected, self.encode(op.request.value))))
            else:
                expected = op.request.etag if op.request.has_etag else "0"
                queued.append(("delete", (op.request.key, expected or "0")))
        first_error: str | None = None
        with self._lock:
            for kind, args in queued:
                try:
                    if kind == "set":
                        self._save_script(*args, first_write=False)
                    else:
                        self._delete_script(*args)
                except _ScriptError as exc:
                    first_error = first_error or str(exc)
        if first_error is not None:
            raise StoreError(first_error)

    def reset(self) -> None:
        with self._lock:
            self._hashes.clear()

    def close(self) -> None:
        self.reset()


class _ScriptError(Exception):
    """A Lua ``error()`` inside one of the scripts."""
