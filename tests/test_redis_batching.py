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
    # The first command found nothing on the wire and went out at once, alone; the other
    # eleven arrived while it was in flight and went out together.
    assert (batches, commands) == (2, 12)


def test_a_burst_larger_than_a_batch_goes_out_as_several() -> None:
    async def work(client: Any, server: Any) -> Any:
        batcher = CommandBatcher(client, max_batch=4)
        replies = await asyncio.gather(*(batcher.execute("INCR", "n") for _ in range(10)))
        return sorted(replies), batcher.batches

    replies, batches = _run(work)
    assert replies == list(range(1, 11)) and batches == 4  # 1 at once, then 4 + 4 + 1


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
    """A client whose connections answer only when the test releases them: a batch stays on
    the wire. It records each batch as written (redis-py's public connection calls)."""

    def __init__(self, pool_size: int = 10) -> None:
        self.release = asyncio.Event()
        self.sent: list[list[tuple[Any, ...]]] = []
        self.response_callbacks: dict[str, Any] = {}
        self.connection_pool = HeldPool(self, pool_size)


class HeldPool:
    def __init__(self, client: HeldClient, max_connections: int) -> None:
        self.client = client
        self.max_connections = max_connections
        self.checked_out = 0

    async def get_connection(self) -> HeldConnection:
        await asyncio.sleep(0)  # as a real pool may: other batches run meanwhile
        self.checked_out += 1
        return HeldConnection(self.client)

    async def release(self, connection: HeldConnection) -> None:
        self.checked_out -= 1


class HeldConnection:
    def __init__(self, client: HeldClient) -> None:
        self.client = client
        self.replies: list[Any] = []

    def pack_commands(self, commands: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return list(commands)

    async def send_packed_command(self, packed: list[tuple[Any, ...]]) -> None:
        self.client.sent.append(packed)
        self.replies.extend(args[-1] for args in packed)

    async def read_response(self) -> Any:
        await self.client.release.wait()
        await asyncio.sleep(0)  # a reply takes a turn of the loop to arrive
        return self.replies.pop(0)

    async def disconnect(self, nowait: bool = False) -> None:
        self.replies.clear()


def test_commands_that_arrive_while_batches_are_in_flight_wait_for_the_next_one() -> None:
    async def main() -> Any:
        client = HeldClient()
        batcher = CommandBatcher(client, max_in_flight=1)
        first = asyncio.ensure_future(batcher.execute("ECHO", 0))
        while not client.sent:  # until the first batch is on the wire, held
            await asyncio.sleep(0)
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
        while not client.sent:  # until it is on the wire, held
            await asyncio.sleep(0)
        queued = [asyncio.ensure_future(batcher.execute("ECHO", i)) for i in range(1, 4)]
        failed = await asyncio.gather(*queued, return_exceptions=True)
        client.release.set()
        return await first, failed, client.sent

    first, failed, sent = asyncio.run(main())
    assert first == 0 and sent == [[("ECHO", 0)]]  # the queued commands were never sent
    assert all(isinstance(e, RedisConnectionError) and str(e) == "redis: connection pool timeout"
               for e in failed), failed


def test_the_batcher_keeps_its_connections_and_leaves_one_in_the_pool() -> None:
    async def main() -> Any:
        kept = []
        for pool_size in (1, 2, 3, 10):
            client = HeldClient(pool_size)
            client.release.set()
            batcher = CommandBatcher(client, max_in_flight=2, max_batch=2)
            for _ in range(3):
                await asyncio.gather(*(batcher.execute("ECHO", i) for i in range(7)))
            kept.append(client.connection_pool.checked_out)
            await batcher.aclose()
            assert client.connection_pool.checked_out == 0
        return kept

    # A pool of one: no connection kept (each batch borrows it); else one per batch in
    # flight, at most two, always leaving one for WAIT, transactions and script loads.
    assert asyncio.run(main()) == [0, 1, 2, 2]
