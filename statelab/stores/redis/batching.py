"""Commands that concurrent requests await in the same turn of the event loop, sent together.

Why: on this kind of machine a Redis command costs redis-py's asyncio client about 50-80 us of
CPU (checking a connection out of the pool, two timeouts, packing, a ``send`` and a ``recv``
system call, parsing, checking it back in), several times what statelab spends on the request
itself (``bench/bench_sidecar.py``). Sixteen clients' GETs that reach the store in one turn
of the loop can share all of that: they go out as one pipeline (one write, one read, one
connection), each request gets its own reply or its own error, in order.

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
#: connection of their own. With 16 wrk connections on a real Redis, 2 gave the best medians of
#: 1, 2, 4 and unbounded (GET 10,473 / 9,758 / 9,779 / 9,784 req/s; one run, 3 rounds, noisy).
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
        self._queue: list[_Queued] = []
        self._scheduled = False
        self._in_flight = 0
        #: Batches sent and commands in them (for tests and benchmarks).
        self.batches = 0
        self.commands = 0

    async def execute(self, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
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
        if self._queue and not self._scheduled:
            if self.queue_timeout is not None:
                self._expire_queued()
            self._flush_queued()

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.commands += len(batch)
        if len(batch) == 1:  # alone: a plain command is cheaper than a pipeline of one
            args, future = batch[0]
            try:
                reply = await self.client.execute_command(*args)
            except Exception as exc:  # noqa: BLE001 - the command's own error, handed over
                _settle(future, exc)
            else:
                _settle(future, reply)
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for args, _ in batch:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # noqa: BLE001 - a broken connection fails the whole batch
            for _, future in batch:
                _settle(future, exc)
            return
        for (_, future), reply in zip(batch, replies, strict=True):
            _settle(future, reply)


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
