"""Dapr's Redis state store (``state.redis``), over any redis-py client: the synchronous door.

Each state key is a Redis hash with ``data``, ``version`` (the ETag) and, once any save used
``first-write``, a sticky ``first-write`` field. Saves and deletes run as one Lua script each
(:mod:`statelab.stores.redis.scripts`), sent with EVALSHA (falling back to loading the script
on NOSCRIPT), so the same code is atomic on the embedded fakeredis server (through lupa) and
on a real Redis server.

This class only does I/O: what to send and how to read the answer is decided by
:mod:`statelab.stores.redis.plan`, which an asyncio door can drive the same way.

On a fakeredis server in this process, on a tested fakeredis version, the store runs the
scripts' commands directly (about 6 us instead of about 200 us for Lua through lupa; see
:mod:`statelab.stores.redis.fakeredis_direct`), with the same rules, the same atomicity and
the same answers; odd states still go through Lua. On an untested fakeredis version it keeps
Lua and says why in :attr:`RedisStore.note`. Where there is no Lua at all (Pyodide in a
browser has no lupa), ``scripts="python"`` (what ``"auto"`` picks there) plays the scripts'
commands for every state, and a transaction's queued scripts one after another, as EXEC
would: in a browser one thread runs everything, so nothing can come between them.

A server that is down or frozen surfaces as redis-py's ``ConnectionError`` or ``TimeoutError``
(within the component's ``dialTimeout`` / ``readTimeout``: see
:mod:`statelab.stores.redis.clients`); every store call turns it into a
:class:`~statelab.stores.base.StoreError` with the client's text, which the service answers as
the operation's Dapr error, as daprd wraps go-redis's ``dial tcp ...`` error
(``StateStore.Get``/``Set`` in components-contrib state/redis/redis.go return it as is).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, Literal, ParamSpec, TypeVar

from statelab.stores.base import (
    DeleteRequest,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.fakeredis_direct import (
    DirectFakeredis,
    HandBack,
    ScriptCommandFailed,
    ScriptRefused,
)
from statelab.stores.redis.plan import (
    REDIS_FEATURES,
    DeletePlan,
    SavePlan,
    delete_failed,
    encode,
    expiry_failed,
    io_text,
    plan_delete,
    plan_save,
    plan_transaction,
    read_hash,
    read_plain,
    save_failed,
    transaction_failed,
    waits_for_replicas,
)
from statelab.stores.redis.scripts import (
    DELETE_SCRIPT,
    SAVE_SCRIPT,
    delete_refusal,
    redis7_wording,
    save_refusal,
)

__all__ = ["RedisStore", "lua_available"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _connection_errors_as_store_errors(
        method: Callable[Concatenate[RedisStore, _P], _R]
) -> Callable[Concatenate[RedisStore, _P], _R]:
    """A refused, broken or timed-out connection becomes a StoreError with the client's text
    (the I/O layer's job: the service maps StoreError onto Dapr's error of the operation)."""
    @functools.wraps(method)
    def call(self: RedisStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except self._io_errors as exc:
            raise StoreError(io_text(exc)) from None
    return call


class RedisStore:
    """``state.redis`` semantics on a redis-py ``Redis`` client (fakeredis or a real server).

    ``scripts="auto"`` runs the save, delete and get commands directly when *client* is a
    fakeredis client of this process (same answers, a tenth of the cost), and without Lua
    when lupa is not installed; ``scripts="lua"`` always sends EVALSHA, as against a real
    server; ``scripts="python"`` never does (an in-process fakeredis only).
    """

    features: ClassVar[tuple[str, ...]] = REDIS_FEATURES
    encode = staticmethod(encode)

    def __init__(self, client: Any, *, default_ttl: int | None = None,
                 scripts: Literal["auto", "lua", "python"] = "auto") -> None:
        from redis.exceptions import (  # lazy: ~120 ms to import
            ConnectionError as RedisConnectionError,
            NoScriptError,
            ResponseError,
            TimeoutError as RedisTimeoutError,
        )

        if scripts not in ("auto", "lua", "python"):
            raise ValueError(f"scripts must be 'auto', 'lua' or 'python', not {scripts!r}")
        self._response_error = ResponseError
        self._no_script_error = NoScriptError
        self._io_errors = (RedisConnectionError, RedisTimeoutError)
        self.client = client
        self.default_ttl = default_ttl
        #: The direct connection to an in-process fakeredis, or None (Lua everywhere).
        self.direct: DirectFakeredis | None = None
        #: Why a fakeredis client runs on Lua scripts, in one line for people; else None.
        self.note: str | None = None
        if scripts != "lua":
            without_lua = scripts == "python" or not lua_available()
            self.direct, self.note = DirectFakeredis.attach(client, without_lua=without_lua)
            if without_lua and self.direct is None:
                raise ValueError("Redis's Lua scripts cannot run here (no lupa) and this client "
                                 "is not an in-process fakeredis statelab can run them on: "
                                 f"{self.note or type(client).__name__}")
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

    # -- Store protocol ---------------------------------------------------------------------

    @_connection_errors_as_store_errors
    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        try:
            fields = self._hgetall(key)
        except self._response_error:
            return read_plain(self.client.get(key))
        return read_hash(fields)

    @_connection_errors_as_store_errors
    def set(self, request: SetRequest) -> None:
        plan = plan_save(request, self.default_ttl)
        try:
            error = self._run_save(plan)
        except self._io_errors as exc:
            # components-contrib's Set treats any error of the script's EVAL alike: with an
            # ETag, even a refused connection reads as an ETag mismatch (daprd answers 409).
            error = io_text(exc)
        if error is not None:
            raise save_failed(request, error)
        expiry = plan.expiry_command()
        if expiry is not None:
            try:
                self.client.execute_command(*expiry)
            except self._response_error as exc:  # the value stays written, as on daprd
                raise expiry_failed(plan, redis7_wording(exc)) from None
            except self._io_errors as exc:
                raise expiry_failed(plan, io_text(exc)) from None
        if waits_for_replicas(request, self.replicas):
            self.client.wait(self.replicas, 1000)

    def delete(self, request: DeleteRequest) -> None:
        # components-contrib's Delete reports every error of its EVAL as an ETag mismatch,
        # a refused connection included (daprd answers 409 ERR_STATE_DELETE).
        try:
            error = self._run_delete(plan_delete(request))
        except self._io_errors as exc:
            error = io_text(exc)
        if error is not None:
            raise delete_failed(error)

    def _run_delete(self, plan: DeletePlan) -> str | None:
        """DELETE_SCRIPT, directly or as EVALSHA: None when it ran, else its error as Redis 7
        words it."""
        if self.direct is not None:
            try:
                self.direct.delete(plan.key, plan.expected)
                return None
            except ScriptRefused:
                return delete_refusal(plan.key)
            except HandBack:
                pass
        try:
            self._evalsha(self._delete, plan.key, plan.script_args)
        except self._response_error as exc:
            return redis7_wording(exc)
        return None

    @_connection_errors_as_store_errors
    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """MULTI/EXEC: Redis has no rollback, so good operations apply when one fails (7.2)."""
        plans = plan_transaction(operations, self.default_ttl)
        if not plans:
            return
        if self.direct is not None and self.direct.without_lua:
            self._multi_without_lua(plans)
            return
        pipe = self.client.pipeline(transaction=True)
        for plan in plans:
            if isinstance(plan, SavePlan):
                self._save(keys=[plan.key], args=plan.script_args, client=pipe)
                expiry = plan.expiry_command()
                if expiry is not None:
                    pipe.execute_command(*expiry)
            else:
                self._delete(keys=[plan.key], args=plan.script_args, client=pipe)
        for result in pipe.execute(raise_on_error=False):
            if isinstance(result, Exception):
                raise transaction_failed(redis7_wording(result))

    def _multi_without_lua(self, plans: Sequence[SavePlan | DeletePlan]) -> None:
        """EXEC's queue played in order: every command runs, the first error is reported."""
        errors: list[str | None] = []
        for plan in plans:
            if isinstance(plan, DeletePlan):
                errors.append(self._run_delete(plan))
                continue
            errors.append(self._run_save(plan))
            expiry = plan.expiry_command()
            if expiry is not None:  # queued after the script: runs whatever it answered
                try:
                    self.client.execute_command(*expiry)
                except self._response_error as exc:
                    errors.append(redis7_wording(exc))
        first_error = next((error for error in errors if error is not None), None)
        if first_error is not None:
            raise transaction_failed(first_error)

    @_connection_errors_as_store_errors
    def reset(self) -> None:
        self.client.flushdb()

    def close(self) -> None:
        self.client.close()

    def sweep_expired(self) -> None:
        """Reclaim expired keys nobody reads, as Redis's active expiry cycle does.

        A real server does it on its own. fakeredis expires a key only when it is touched,
        except that counting the keys (``DBSIZE``, through its ``Database.__len__``) first
        removes every key that is due, taken off a heap of expiry times: so one DBSIZE is
        the sweep, costing in proportion to the keys that expired since the last one.
        """
        if type(self.client).__module__.startswith("fakeredis"):
            self.client.dbsize()

    # -- I/O helpers -----------------------------------------------------------------------

    def _hgetall(self, key: str) -> dict[bytes, bytes]:
        if self.direct is not None:
            try:
                return self.direct.hgetall(key)
            except HandBack:
                pass  # not a hash: redis-py raises WRONGTYPE and get() reads it as a string
        result: dict[bytes, bytes] = self.client.hgetall(key)
        return result

    def _run_save(self, plan: SavePlan) -> str | None:
        """SAVE_SCRIPT, directly on an in-process fakeredis or as EVALSHA: None when it ran,
        else its error as Redis 7 words it."""
        if self.direct is not None:
            try:
                self.direct.save(plan.key, plan.expected, plan.data, bool(plan.first_write))
                return None
            except ScriptRefused:
                return save_refusal(plan.key)
            except ScriptCommandFailed as exc:
                return redis7_wording(exc)
            except HandBack:
                pass  # an odd state: Lua decides, and words any error as Redis does
        try:
            self._evalsha(self._save, plan.key, plan.script_args)
        except self._response_error as exc:
            return redis7_wording(exc)
        return None

    def _evalsha(self, script: Any, key: str, args: tuple[str | bytes, ...]) -> Any:
        """``script(keys=[key], args=args)`` without redis-py's ``Script.__call__`` (about
        10 us a call): EVALSHA, and on NOSCRIPT load the script and retry, as Script does."""
        try:
            return self.client.evalsha(script.sha, 1, key, *args)
        except self._no_script_error:
            script.sha = self.client.script_load(script.script)
            return self.client.evalsha(script.sha, 1, key, *args)


def lua_available() -> bool:
    """Can fakeredis run Lua here? Not in Pyodide: lupa is native code with no wasm build."""
    return importlib.util.find_spec("lupa") is not None


if TYPE_CHECKING:
    from statelab.stores.base import Store

    # mypy --strict proves here that the class satisfies the Store protocol.
    _CONFORMS: type[Store] = RedisStore
