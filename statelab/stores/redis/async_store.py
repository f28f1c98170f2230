"""Dapr's Redis state store (``state.redis``) on ``redis.asyncio``: awaited, for a real server.

Why: daprd serves every request on one Go runtime with go-redis; a Python sidecar that hops to
a thread for each synchronous redis-py call spends most of its time in the hop (about 420 us
of CPU per GET against 40 us on the embedded store, ``bench/bench_sidecar.py``). This store is
awaited on the door's event loop instead: no thread between the loop and Redis.

It is the same component as :class:`~statelab.stores.redis.store.RedisStore`, call for call:
the same Lua scripts (by EVALSHA, loaded on ``NOSCRIPT``), the same sans-I/O decisions and
readings (:mod:`statelab.stores.redis.plan`), ``WAIT`` after a strong save when the server had
replicas, MULTI/EXEC for transactions (no rollback: good operations apply when one fails).
Only the I/O differs.

Concurrent requests' commands that reach the store in the same turn of the event loop go out
together as one pipeline (:mod:`statelab.stores.redis.batching`): the client's cost per
command is shared, which is most of what a request costs here. A strong save that waits for
replicas (its script, its expiry and ``WAIT``, which counts the writes of its own connection)
and transactions keep one connection each.

Connections come from a pool of the component's ``poolSize`` that waits for a free connection
(go-redis's ``PoolTimeout``: the read timeout plus a second) rather than failing at once, with
the component's ``dialTimeout``, ``readTimeout`` and ``writeTimeout``
(:class:`~statelab.stores.redis.clients.ConnectionSettings`): a server that is down or frozen
answers each call within those bounds with the error daprd gives, and the next call after the
server is back reconnects by itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from statelab.stores.base import (
    DeleteRequest,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.batching import CommandBatcher
from statelab.stores.redis.plan import (
    REDIS_FEATURES,
    SavePlan,
    delete_failed,
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
from statelab.stores.redis.scripts import DELETE_SCRIPT, SAVE_SCRIPT, redis7_wording

__all__ = ["AsyncRedisStore"]


class AsyncRedisStore:
    """``state.redis`` semantics on a ``redis.asyncio.Redis`` client (a real server).

    *replicas* is the number of connected replicas counted at component init (spec 11.5);
    the synchronous store of the same component counts it once for both. A command that
    waits longer than *queue_timeout* for its batch fails as go-redis's pool timeout does.
    """

    features: ClassVar[tuple[str, ...]] = REDIS_FEATURES

    def __init__(self, client: Any, *, default_ttl: int | None = None,
                 replicas: int = 0, queue_timeout: float | None = None) -> None:
        from redis.exceptions import (  # lazy: ~120 ms to import
            ConnectionError as RedisConnectionError,
            NoScriptError,
            ResponseError,
            TimeoutError as RedisTimeoutError,
        )

        self._response_error = ResponseError
        self._no_script_error = NoScriptError
        self._io_errors = (RedisConnectionError, RedisTimeoutError)
        self.client = client
        self.default_ttl = default_ttl
        self.replicas = replicas
        self._save = client.register_script(SAVE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)
        self.batcher = CommandBatcher(client, queue_timeout=queue_timeout)

    async def get(self, key: str, metadata: dict[str, str],
                  consistency: str = "") -> GetResult | None:
        try:
            try:
                fields = await self.batcher.execute("HGETALL", key)
            except self._response_error:  # WRONGTYPE: a plain string written by someone else
                return read_plain(await self.batcher.execute("GET", key))
        except self._io_errors as exc:
            raise StoreError(io_text(exc)) from None
        return read_hash(fields)

    async def set(self, request: SetRequest) -> None:
        plan = plan_save(request, self.default_ttl)
        if not waits_for_replicas(request, self.replicas):
            await self._save_planned(request, plan, self.batcher.execute)
            return
        # WAIT counts the writes of its own connection: the save, its expiry and WAIT go out
        # on one (as go-redis's pool hands daprd's Set one connection for its commands).
        async with self.client.client() as own:
            await self._save_planned(request, plan, own.execute_command)
            try:
                await own.wait(self.replicas, 1000)
            except self._io_errors as exc:
                raise StoreError(io_text(exc)) from None

    async def _save_planned(self, request: SetRequest, plan: SavePlan,
                            execute: Callable[..., Awaitable[Any]]) -> None:
        try:
            await self._evalsha(execute, self._save, plan.key, plan.script_args)
        except self._response_error as exc:
            raise save_failed(request, redis7_wording(exc)) from None
        except self._io_errors as exc:
            # components-contrib's Set treats any error of the script's EVAL alike: with an
            # ETag, even a refused connection reads as an ETag mismatch (daprd answers 409).
            raise save_failed(request, io_text(exc)) from None
        expiry = plan.expiry_command()
        if expiry is not None:
            try:
                await execute(*expiry)
            except self._response_error as exc:  # the value stays written, as on daprd
                raise expiry_failed(plan, redis7_wording(exc)) from None
            except self._io_errors as exc:
                raise expiry_failed(plan, io_text(exc)) from None

    async def delete(self, request: DeleteRequest) -> None:
        # components-contrib's Delete reports every error of its EVAL as an ETag mismatch,
        # a refused connection included (daprd answers 409 ERR_STATE_DELETE).
        plan = plan_delete(request)
        try:
            await self._evalsha(self.batcher.execute, self._delete, plan.key, plan.script_args)
        except self._response_error as exc:
            raise delete_failed(redis7_wording(exc)) from None
        except self._io_errors as exc:
            raise delete_failed(io_text(exc)) from None

    async def multi(self, operations: Sequence[TransactionOperation],
                    metadata: dict[str, str]) -> None:
        """MULTI/EXEC: Redis has no rollback, so good operations apply when one fails (7.2)."""
        plans = plan_transaction(operations, self.default_ttl)
        if not plans:
            return
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                for plan in plans:
                    script = self._save if isinstance(plan, SavePlan) else self._delete
                    pipe.scripts.add(script)  # loaded (SCRIPT LOAD) before MULTI if missing
                    pipe.evalsha(script.sha, 1, plan.key, *plan.script_args)
                    expiry = plan.expiry_command() if isinstance(plan, SavePlan) else None
                    if expiry is not None:
                        pipe.execute_command(*expiry)
                results = await pipe.execute(raise_on_error=False)
        except self._io_errors as exc:
            raise StoreError(io_text(exc)) from None
        for result in results:
            if isinstance(result, Exception):
                raise transaction_failed(redis7_wording(result))

    async def aclose(self) -> None:
        await self.batcher.aclose()
        await self.client.aclose()

    async def _evalsha(self, execute: Callable[..., Awaitable[Any]], script: Any, key: str,
                       args: tuple[str | bytes, ...]) -> Any:
        """EVALSHA through *execute* (the batcher, or one connection), and on NOSCRIPT (a
        restarted or flushed server) load the script and retry."""
        try:
            return await execute("EVALSHA", script.sha, 1, key, *args)
        except self._no_script_error:
            script.sha = await self.client.script_load(script.script)
            return await execute("EVALSHA", script.sha, 1, key, *args)


if TYPE_CHECKING:
    from statelab.stores.base import AsyncStore

    # mypy --strict proves here that the class satisfies the AsyncStore protocol.
    _CONFORMS: type[AsyncStore] = AsyncRedisStore
