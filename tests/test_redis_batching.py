"""Commands of concurrent requests sent together (statelab/stores/redis/batching.py): each
request gets its own reply or its own error, in order, and a broken connection fails only the
batch it broke."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError, ResponseError

from statelab.stores.redis.batching import CommandBatcher


def _run(work: Any) -> Any:
    async def main() -> Any:
        server = fakeredis.FakeServer()
        client = fakeredis.FakeAsyncRedis(server=server)
        try:
            return await work(client, server)
        finally:
            await client.aclose()
    return asyncio.run(main())


def test_commands_of_one_turn_share_a_batch_and_keep_their_own_replies() -> None:
    async def work(client: Any, server: Any) -> Any:
        await client.set("plain", "x")
        batcher = CommandBatcher(client)
        replies = await asyncio.gather(
            *(batcher.execute("HSET", f"h{i}", "data", str(i)) for i in range(5)),
            *(batcher.execute("HGETALL", f"h{i}") for i in range(5)),
            batcher.execute("HGETALL", "plain"),  # WRONGTYPE: this command's error only
            batcher.execute("HGETALL", "missing"),
            return_exceptions=True)
        return replies, batcher.batches, batcher.commands

    replies, batches, commands = _run(work)
    assert replies[:5] == [1] * 5
    assert replies[5:10] == [{b"data": str(i).encode()} for i in range(5)]
    assert isinstance(replies[10], ResponseError) and "WRONGTYPE" in str(replies[10])
    assert replies[11] == {}
    assert (batches, commands) == (1, 12)


def test_a_burst_larger_than_a_batch_goes_out_as_several() -> None:
    async def work(client: Any, server: Any) -> Any:
        batcher = CommandBatcher(client, max_batch=4)
        replies = await asyncio.gather(*(batcher.execute("INCR", "n") for _ in range(10)))
        return sorted(replies), batcher.batches

    replies, batches = _run(work)
    assert replies == list(range(1, 11)) and batches == 3


def test_one_request_alone_is_a_plain_command() -> None:
    async def work(client: Any, server: Any) -> Any:
        batcher = CommandBatcher(client)
        assert await batcher.execute("SET", "k", "v") is True
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await batcher.execute("HGETALL", "k")
        return batcher.batches, batcher.commands

    assert _run(work) == (2, 2)


def test_a_broken_connection_fails_its_batch_and_the_next_one_recovers() -> None:
    async def work(client: Any, server: Any) -> Any:
        batcher = CommandBatcher(client)
        server.connected = False
        failed = await asyncio.gather(*(batcher.execute("GET", f"k{i}") for i in range(3)),
                                      return_exceptions=True)
        alone = await asyncio.gather(batcher.execute("GET", "k"), return_exceptions=True)
        server.connected = True
        back = await asyncio.gather(*(batcher.execute("GET", f"k{i}") for i in range(3)))
        return failed + alone, back

    failed, back = _run(work)
    assert all(isinstance(error, RedisConnectionError) for error in failed), failed
    assert back == [None, None, None]


def test_a_cancelled_request_leaves_the_others_their_replies() -> None:
    async def work(client: Any, server: Any) -> Any:
        batcher = CommandBatcher(client)
        tasks = [asyncio.ensure_future(batcher.execute("INCR", "n")) for _ in range(3)]
        await asyncio.sleep(0)  # queued, not yet sent
        tasks[1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return done, await client.get("n")

    done, counter = _run(work)
    assert isinstance(done[1], asyncio.CancelledError)
    assert done[0] != done[2] and {done[0], done[2]} <= {1, 2, 3}
    assert counter == b"3"  # the command was already in the batch: it ran, as on a socket


class HeldClient:
    """A client whose replies wait until the test releases them: a batch stays in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[list[tuple[Any, ...]]] = []

    async def execute_command(self, *args: Any) -> Any:
        self.sent.append([args])
        await self.release.wait()
        return args[-1]

    def pipeline(self, transaction: bool) -> Any:
        client = self

        class Pipe:
            def __init__(self) -> None:
                self.commands: list[tuple[Any, ...]] = []

            async def __aenter__(self) -> Pipe:
                return self

            async def __aexit__(self, *exc: object) -> None:
                return None

            def execute_command(self, *args: Any) -> None:
                self.commands.append(args)

            async def execute(self, raise_on_error: bool) -> list[Any]:
                client.sent.append(self.commands)
                await client.release.wait()
                return [args[-1] for args in self.commands]

        return Pipe()


def test_commands_that_arrive_while_batches_are_in_flight_wait_for_the_next_one() -> None:
    async def main() -> Any:
        client = HeldClient()
        batcher = CommandBatcher(client, max_in_flight=1)
        first = asyncio.ensure_future(batcher.execute("ECHO", 0))
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the first batch is on the wire, held
        later = [asyncio.ensure_future(batcher.execute("ECHO", i)) for i in range(1, 6)]
        for _ in range(3):
            await asyncio.sleep(0)
        held = [list(batch) for batch in client.sent]
        client.release.set()
        replies = await asyncio.gather(first, *later)
        return held, client.sent, replies

    held, sent, replies = asyncio.run(main())
    assert held == [[("ECHO", 0)]]  # nothing else went out while the first was in flight
    assert sent[1] == [("ECHO", i) for i in range(1, 6)]  # then all of them, together
    assert replies == [0, 1, 2, 3, 4, 5]


def test_a_command_queued_past_the_pool_timeout_fails_as_go_redis_says() -> None:
    """Behind a batch that never answers (a frozen server), queued commands do not wait for
    it: past the queue timeout (0 here: at once) they fail with go-redis's words."""
    async def main() -> Any:
        client = HeldClient()
        batcher = CommandBatcher(client, max_in_flight=1, queue_timeout=0.0)
        first = asyncio.ensure_future(batcher.execute("ECHO", 0))
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # on the wire, held
        queued = [asyncio.ensure_future(batcher.execute("ECHO", i)) for i in range(1, 4)]
        failed = await asyncio.gather(*queued, return_exceptions=True)
        client.release.set()
        return await first, failed, client.sent

    first, failed, sent = asyncio.run(main())
    assert first == 0 and sent == [[("ECHO", 0)]]  # the queued commands were never sent
    assert all(isinstance(e, RedisConnectionError) and str(e) == "redis: connection pool timeout"
               for e in failed), failed
