"""A pure-Python model of the Redis store's Lua scripts, for the simulator's speed.

The simulator replays thousands of requests per scenario; through fakeredis each etag-checked
save costs about 240 us of Lua, so the race lab would crawl. This model keeps the same hash
layout in dicts and applies the same rules as :data:`~statelab.stores.redis.scripts.SAVE_SCRIPT`
and :data:`~statelab.stores.redis.scripts.DELETE_SCRIPT`. Everything around the scripts (ETag
parsing, TTL checks, what a refusal means) comes from :mod:`statelab.stores.redis.plan`, the
same decisions :class:`~statelab.stores.redis.store.RedisStore` runs, and refusals are worded
by :mod:`~statelab.stores.redis.scripts` as a Redis 7 server words them (same script SHA and
line number), so answers match byte for byte.

It is *only* for the simulator. ``tests/test_redis_model.py`` drives the same random
operation sequences through this model, through the Lua scripts on fakeredis and through a real
Redis server, and requires identical statuses, etags, values and errors. The HTTP sidecar always
uses :class:`~statelab.stores.redis.store.RedisStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from statelab.stores.base import DeleteRequest, GetResult, SetRequest, TransactionOperation
from statelab.stores.redis.plan import (
    REDIS_FEATURES,
    SavePlan,
    delete_failed,
    plan_delete,
    plan_save,
    plan_transaction,
    save_failed,
    transaction_failed,
)
from statelab.stores.redis.scripts import delete_refusal, save_refusal

__all__ = ["ModelHash", "RedisModelStore"]


class ModelHash(NamedTuple):
    """A snapshot of one key's hash in the model."""

    data: bytes
    version: int
    first_write: bool


class _ScriptError(Exception):
    """A Lua ``error()`` inside one of the scripts; the argument is Redis 7's wording."""


class RedisModelStore:
    """``state.redis`` semantics over plain dicts; same answers as the Lua scripts."""

    features: ClassVar[tuple[str, ...]] = REDIS_FEATURES
    note: ClassVar[str | None] = None

    def __init__(self, *, default_ttl: int | None = None) -> None:
        # key -> {"data": bytes, "version": int, "first-write": bool}
        self._hashes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.default_ttl = default_ttl
        self.replicas = 0

    def entry(self, key: str) -> ModelHash | None:
        """The stored hash of *key*, or None (for replication and tests)."""
        entry = self._hashes.get(key)
        if entry is None:
            return None
        return ModelHash(entry["data"], entry["version"], entry["first-write"])

    # -- the two scripts -------------------------------------------------------------------

    def _save_script(self, key: str, expected: str, data: bytes, first_write: bool) -> None:
        entry = self._hashes.get(key)
        if entry is not None:
            allowed = str(entry["version"]) == expected or (
                not entry["first-write"] and expected == "0")
            if not allowed:
                raise _ScriptError(save_refusal(key))
            entry["data"] = data
            entry["first-write"] = entry["first-write"] or first_write
            entry["version"] += 1
        else:
            self._hashes[key] = {"data": data, "version": 1, "first-write": first_write}

    def _delete_script(self, key: str, expected: str) -> None:
        entry = self._hashes.get(key)
        if entry is not None and str(entry["version"]) != expected and expected != "0":
            raise _ScriptError(delete_refusal(key))
        self._hashes.pop(key, None)

    # -- Store protocol ---------------------------------------------------------------------

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        with self._lock:
            entry = self._hashes.get(key)
            if entry is None:
                return None
            return GetResult(data=entry["data"], etag=str(entry["version"]))

    def set(self, request: SetRequest) -> None:
        plan = plan_save(request, self.default_ttl)  # the TTL is checked; expiry not modelled
        with self._lock:
            try:
                self._save_script(plan.key, plan.expected, plan.data, bool(plan.first_write))
            except _ScriptError as exc:
                raise save_failed(request, str(exc)) from None

    def delete(self, request: DeleteRequest) -> None:
        plan = plan_delete(request)
        with self._lock:
            try:
                self._delete_script(plan.key, plan.expected)
            except _ScriptError as exc:
                raise delete_failed(str(exc)) from None

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """Like MULTI/EXEC: every queued script runs; the first failure is reported."""
        plans = plan_transaction(operations, self.default_ttl)
        first_error: str | None = None
        with self._lock:
            for plan in plans:
                try:
                    if isinstance(plan, SavePlan):
                        self._save_script(plan.key, plan.expected, plan.data, False)
                    else:
                        self._delete_script(plan.key, plan.expected)
                except _ScriptError as exc:
                    first_error = first_error or str(exc)
        if first_error is not None:
            raise transaction_failed(first_error)

    def reset(self) -> None:
        with self._lock:
            self._hashes.clear()

    def close(self) -> None:
        self.reset()


if TYPE_CHECKING:
    from statelab.stores.base import Store

    # mypy --strict proves here that the class satisfies the Store protocol.
    _CONFORMS: type[Store] = RedisModelStore
