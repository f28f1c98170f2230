"""The virtual-time engine: requests as events, timeouts, and the one call into Dapr."""

from __future__ import annotations

import random

from statelab.latency import Latency
from statelab.sim.engine import Engine, call_store, single_store_service
from statelab.sim.writer import Get, Save, Sleep, WriterGen
from statelab.stores.memory import MemoryStore


def test_call_store_describes_reads_saves_and_errors() -> None:
    state = single_store_service(MemoryStore())
    assert call_store(state, Get("k")).status == 204
    assert call_store(state, Save("k", 41, None, "", None, 1)).status == 204
    read = call_store(state, Get("k"))
    assert (read.status, read.value) == (200, 41) and read.etag
    stale = call_store(state, Save("k", 42, "not-the-etag", "first-write", None, 1))
    assert stale.status == 409 and stale.error_code == "ERR_STATE_SAVE" and stale.message
    assert stale.etag is None and stale.value is None


def test_a_timed_out_save_is_still_applied() -> None:
    state = single_store_service(MemoryStore())
    engine = Engine(state, Latency("fixed", 3.0), 5.0, random.Random(0))

    def writer() -> WriterGen:
        yield Save("k", 1, None, "", None, 1)
        yield Sleep(10_000)
        yield Get("k")

    history = engine.run([writer()], {})
    save, read = history.operations
    assert (save.outcome, save.complete_us, save.applied_us, save.applied_status) == (
        "info", 5000, 3000, 204)
    assert (read.outcome, read.status, read.invoke_us) == ("info", None, 15_000)
    assert read.applied_status == 200 and read.applied_order == 1  # applied, answer too late


def test_events_at_the_same_time_run_in_the_order_they_were_scheduled() -> None:
    state = single_store_service(MemoryStore())
    engine = Engine(state, Latency("fixed", 1.0), None, random.Random(0))

    def writer(value: int) -> WriterGen:
        yield Save("k", value, None, "", None, 1)

    history = engine.run([writer(1), writer(2)], {"n": 2})
    assert [op.applied_order for op in history] == [0, 1] and history.meta == {"n": 2}
    assert all(op.complete_us == 2000 for op in history)
