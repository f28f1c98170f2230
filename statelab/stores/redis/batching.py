"""Commands that concurrent requests await in the same turn of the event loop, sent together.

Why: on this kind of machine a Redis command costs redis-py's asyncio client about 50-80 us of
CPU (checking a connection out of the pool, two timeouts, packing, a ``send`` and a ``recv``
system call, parsing, checking it back in), several times what statelab spends on the request
itself (``bench/bench_sidecar.py``). Sixteen clients' GETs that reach the store in one turn
of the loop can share all of that: they go out as one pipeline (one write, one read, one
connection), each request gets its own reply or its own error, in order.

A command that finds nothing on the wire goes out at once, in its own request's turn, so one
client never waits for a batch; batches form from what arrives while others are in flight.

The batches go out on connections the batcher checks out of the client's pool once and keeps
(at most two, and always leaving one in the pool for WAIT, transactions and script loads, so
the component's ``poolSize`` still bounds them all), written and read with redis-py's public
connection calls (``pack_commands``, ``send_packed_command``, ``read_response``): a batch then
costs about 50 us of CPU less than a pipeline checked out of the pool for it (measured on this
project's machine: 83 against 134 us for one command, 310 against 430 us for sixteen).

Nothing about Redis's semantics changes: a pipeline that is not a transaction is the same
commands on one connection, each executed atomically by the server (a Lua script included),
and requests on separate connections have no order between them anyway. A request's own
commands still follow one another (it awaits each before sending the next). Commands that
block the connection (``WAIT``) or need one of their own (MULTI/EXEC) are not batched.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["CommandBatcher"]

#: At most this many commands share one pipeline (a larger burst goes out as several).
MAX_BATCH = 64
#: At most this many batches on the wire at once: commands that arrive meanwhile wait for the
#: next one, so batches grow with the load instead of each turn's few commands taking a
#: connection of their own. With 16 wrk connections on a real Redis, GET medians were 9,758,
#: 10,473, 9,779 and 9,784 req/s for 1, 2, 4 and unbounded (one run, 3 rounds, noisy).
MAX_IN_FLIGHT = 2


#: A queued command: its arguments, its answer, and when it was queued (the loop's clock).
_Queued = tuple[tuple[Any, ...], "asyncio.Future[Any]", float]


class CommandBatcher:
    """``await batcher.execute("HGETALL", key)``: the reply, or the command's own error
    (a server error for that command, or the connection error that failed its batch).

    A command that waits in the queue longer than *queue_timeout* seconds (the component's
    pool timeout, go-redis's ``PoolTimeout``) fails with go-redis's "redis: connection pool
    timeout" instead of being sent: behind a frozen server a burst of requests ends within
    that bound plus the read timeouts of the batches ahead of it, however large the burst.
    """

    def __init__(self, client: Any, *, max_batch: int = MAX_BATCH,
                 max_in_flight: int = MAX_IN_FLIGHT,
                 queue_timeout: float | None = None) -> None:
        self.client = client
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.queue_timeout = queue_timeout
        from redis.exceptions import ConnectionError as RedisConnectionError, ResponseError

        self._response_error = ResponseError
        self._connection_error = RedisConnectionError
        #: redis-py's reply shaping by command name (HGETALL's pairs into a dict, ...).
        self._callbacks: Any = client.response_callbacks
        pool_size = getattr(client.connection_pool, "max_connections", 2)
        #: Connections the batcher keeps: one per batch in flight, leaving one in the pool.
        self._keep = max(0, min(max_in_flight, pool_size - 1))
        self._kept = 0
        self._owned: set[Any] = set()
        self._idle: list[Any] = []
        self._queue: list[_Queued] = []
        self._scheduled = False
        self._in_flight = 0
        #: Batches sent and commands in them (for tests and benchmarks).
        self.batches = 0
        self.commands = 0

    async def execute(self, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._in_flight and not self._queue:
            # Nothing on the wire: this command goes out at once, in this request's own turn
            # (one client waits for no batch; under load something is always in flight, and
            # the commands arriving meanwhile are batched).
            self._in_flight += 1
            try:
                await self._send([(args, future)])
            finally:
                self._in_flight -= 1
                self._after_batch()
            return future.result()
        self._queue.append((args, future, loop.time()))
        if not self._scheduled:
            # Flushed at the end of this turn of the loop: every request that reaches the
            # store meanwhile joins the same batch.
            self._scheduled = True
            loop.call_soon(self._flush_queued)
        return await future

    def _flush_queued(self) -> None:
        self._scheduled = False
        if self.queue_timeout is not None and self._queue and \
                self._in_flight >= self.max_in_flight:
            self._expire_queued()
        while self._queue and self._in_flight < self.max_in_flight:
            queued, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self._in_flight += 1
            task = asyncio.ensure_future(self._send([(a, f) for a, f, _ in queued]))
            task.add_done_callback(self._sent)

    def _expire_queued(self) -> None:
        """Fail the commands that have waited past the queue timeout (the oldest come first)."""
        assert self.queue_timeout is not None
        deadline = asyncio.get_running_loop().time() - self.queue_timeout
        expired = 0
        while expired < len(self._queue) and self._queue[expired][2] <= deadline:
            expired += 1
        if not expired:
            return
        from redis.exceptions import ConnectionError as RedisConnectionError

        for _, future, _ in self._queue[:expired]:
            _settle(future, RedisConnectionError("redis: connection pool timeout"))
        del self._queue[:expired]

    def _sent(self, task: asyncio.Future[None]) -> None:
        self._in_flight -= 1
        _consume(task)
        self._after_batch()

    def _after_batch(self) -> None:
        """A batch has answered: send what queued up meanwhile."""
        if self._queue and not self._scheduled:
            if self.queue_timeout is not None:
                self._expire_queued()
            self._flush_queued()

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.commands += len(batch)
        commands = [args for args, _ in batch]
        replies: list[Any] = []
        failure: Exception | None = None
        try:
            connection = await self._checkout()
        except Exception as exc:  # noqa: BLE001 - no connection: every command's error
            failure = exc
        else:
            try:
                try:
                    await self._exchange(connection, commands, replies)
                except self._connection_error:
                    if replies:
                        raise
                    # A kept connection the server closed since (a restart, an idle timeout):
                    # none of the batch was answered. Once more on a new connection, as
                    # redis-py and go-redis retry a dead pooled connection; a server that is
                    # down then says "connection refused" after the component's backoff.
                    await connection.disconnect(nowait=True)
                    await self._exchange(connection, commands, replies)
            except asyncio.CancelledError:
                await connection.disconnect(nowait=True)  # replies may still be on the wire
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - a broken connection fails the rest
                await connection.disconnect(nowait=True)
                failure = exc
            finally:
                await self._checkin(connection)
        for index, (_, future) in enumerate(batch):
            _settle(future, replies[index] if index < len(replies) else failure)

    async def _exchange(self, connection: Any, commands: list[tuple[Any, ...]],
                        replies: list[Any]) -> None:
        """Write the commands, then read one reply per command into *replies* (a command's
        own error is its reply); a broken connection raises with the replies read so far."""
        await connection.send_packed_command(connection.pack_commands(commands))
        for args in commands:
            try:
                reply = await connection.read_response()
            except self._response_error as exc:
                replies.append(exc)
                continue
            callback = self._callbacks.get(args[0])
            replies.append(reply if callback is None else callback(reply))

    async def _checkout(self) -> Any:
        """A connection for one batch: an idle one the batcher keeps, a new one from the pool
        while it keeps fewer than it may, else (a pool of one) the pool's for this batch."""
        if self._idle:
            return self._idle.pop()
        connection = await self.client.connection_pool.get_connection()
        if self._kept < self._keep:
            self._kept += 1
            self._owned.add(connection)
        return connection

    async def _checkin(self, connection: Any) -> None:
        if connection in self._owned:
            self._idle.append(connection)
        else:
            await self.client.connection_pool.release(connection)

    async def aclose(self) -> None:
        """Give the kept connections back to the pool (the client's close disconnects them)."""
        owned, self._owned, self._idle, self._kept = self._owned, set(), [], 0
        for connection in owned:
            await self.client.connection_pool.release(connection)


def _settle(future: asyncio.Future[Any], outcome: Any) -> None:
    """A reply, or an exception, unless the request was cancelled meanwhile."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _consume(task: asyncio.Future[None]) -> None:
    """A batch's task never fails (its errors went to the requests); keep asyncio quiet if
    the loop is torn down under it."""
    if not task.cancelled():
        task.exception()
