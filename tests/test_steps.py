"""The two drivers of an operation's steps: the synchronous one and the asyncio one must give
the same answers, the same errors and the same stored state, because every rule lives in the
steps (statelab.dapr.steps)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.dapr.service import DeleteItem, SaveItem, StateService
from statelab.dapr.steps import StoreCall, run, run_async
from statelab.errors import DaprError
from statelab.stores.base import (
    AsyncStore,
    DeleteRequest,
    GetResult,
    SetRequest,
    Store,
    StoreError,
    TransactionOperation,
)
from statelab.stores.memory import MemoryStore
from statelab.stores.redis.model import RedisModelStore


class Awaited:
    """A native asyncio store over a synchronous one that records each awaited call and yields to
    the loop before answering, as a network store would."""

    features = RedisModelStore.features

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[str] = []

    async def get(self, key: str, metadata: dict[str, str],
                  consistency: str = "") -> GetResult | None:
        self.calls.append(f"get {key}")
        await asyncio.sleep(0)
        return self.store.get(key, metadata, consistency)

    async def set(self, request: SetRequest) -> None:
        self.calls.append(f"set {request.key}")
        await asyncio.sleep(0)
        self.store.set(request)

    async def delete(self, request: DeleteRequest) -> None:
        self.calls.append(f"delete {request.key}")
        await asyncio.sleep(0)
        self.store.delete(request)

    async def multi(self, operations: Sequence[TransactionOperation],
                    metadata: dict[str, str]) -> None:
        self.calls.append(f"multi {len(operations)}")
        await asyncio.sleep(0)
        self.store.multi(operations, metadata)

    async def aclose(self) -> None:
        self.calls.append("aclose")


def _twins() -> tuple[StateService, StateService, Awaited]:
    sync = StateService([Component.around(RedisModelStore(), "s")])
    native_component = Component.around(RedisModelStore(), "s")
    awaited = Awaited(native_component.open())
    return sync, StateService([native_component]), awaited


def _script(service: StateService) -> list[Any]:
    """The same operations, ending with a conflict and a bulk save with one bad ETag."""
    return [
        lambda: service.save_steps(service.component("s"), service.prepare_save(
            service.component("s"), [SaveItem("a", 1), SaveItem("b", {"x": [1, 2]})])),
        lambda: service.get_steps("s", "a"),
        lambda: service.bulk_get_steps("s", ["a", "b", "missing", "a"]),
        lambda: service.delete_steps("s", DeleteItem("a", etag="99")),
        lambda: service.save_steps(service.component("s"), service.prepare_save(
            service.component("s"), [SaveItem("b", 2, etag="9"), SaveItem("c", 3)])),
        lambda: service.delete_bulk_steps("s", [DeleteItem("b"), DeleteItem("zz")]),
        lambda: service.get_steps("nope", "a"),
    ]


def _outcome(thunk: Any, drive: Any) -> Any:
    try:
        return ("ok", drive(thunk()))
    except DaprError as error:
        return ("error", error.status, error.body())


def test_the_asyncio_driver_answers_as_the_synchronous_one() -> None:
    sync, native, awaited = _twins()
    expected = [_outcome(thunk, run) for thunk in _script(sync)]

    async def drive_all() -> list[Any]:
        def stores(component: Component) -> AsyncStore | None:
            return awaited
        results = []
        for thunk in _script(native):
            try:
                results.append(("ok", await run_async(thunk(), stores)))
            except DaprError as error:
                results.append(("error", error.status, error.body()))
        return results

    assert asyncio.run(drive_all()) == expected
    # Every store call was awaited on the native store, bulk calls one by one, in order.
    assert awaited.calls[:8] == ["set myapp||a", "set myapp||b", "get myapp||a",
                                 "get myapp||a", "get myapp||b", "get myapp||missing",
                                 "get myapp||a", "delete myapp||a"]
    assert sync.get("s", "b") == native.get("s", "b")
    assert expected[3][:2] == ("error", 409) and expected[4][:2] == ("error", 409)
    assert expected[6][:2] == ("error", 400)


def test_without_a_native_store_the_asyncio_driver_calls_the_store_inline() -> None:
    service = StateService([Component.around(MemoryStore(), "s")])
    threads: list[str] = []
    store = service.component("s").open()
    original = store.set

    def recording_set(request: SetRequest) -> None:
        threads.append(threading.current_thread().name)
        original(request)

    store.set = recording_set  # type: ignore[method-assign]
    steps = service.save_steps(service.component("s"),
                               service.prepare_save(service.component("s"), [SaveItem("k", 1)]))
    asyncio.run(run_async(steps, lambda component: None))
    assert threads == [threading.current_thread().name]
    assert service.get("s", "k") is not None


def test_a_store_exception_is_thrown_into_the_operation_at_its_call() -> None:
    """The operation's own except clause sees the store's error, as from a direct call: a
    bulk read keeps a failing key's error with that key and reads the others."""
    class Failing(MemoryStore):
        def get(self, key: str, metadata: dict[str, str],
                consistency: str = "") -> GetResult | None:
            if key.endswith("bad"):
                raise StoreError("disk on fire")
            return super().get(key, metadata, consistency)

    service = StateService([Component.around(Failing(), "s")])
    service.save("s", [SaveItem("good", 1)])
    items = run(service.bulk_get_steps("s", ["good", "bad"]))
    assert [(i.key, i.data, i.error) for i in items] == [("good", b"1", None),
                                                        ("bad", None, "disk on fire")]
    with pytest.raises(DaprError) as caught:
        run(service.get_steps("s", "bad"))
    assert caught.value.body() == (b'{"errorCode":"ERR_STATE_GET","message":"fail to get bad '
                                   b'from state store s: disk on fire"}')


def test_an_exception_that_is_no_store_error_still_escapes() -> None:
    class Broken(MemoryStore):
        def set(self, request: SetRequest) -> None:
            raise RuntimeError("a bug")

    service = StateService([Component.around(Broken(), "s")])
    steps = service.save_steps(service.component("s"),
                               service.prepare_save(service.component("s"), [SaveItem("k", 1)]))
    with pytest.raises(RuntimeError, match="a bug"):
        run(steps)


def test_a_store_call_is_a_value() -> None:
    component = Component.around(MemoryStore(), "s")
    call = StoreCall(component, "get", ("k", {}))
    assert call.run() is None
    assert StoreCall(component, "get", ("k", {})) == call


def test_the_http_binding_answers_the_same_through_both_drivers() -> None:
    sync_api = StateAPI([Component.around(RedisModelStore(), "s")])
    native_component = Component.around(RedisModelStore(), "s")
    native_api = StateAPI([native_component])
    awaited = Awaited(native_component.open())
    requests = [
        ("POST", "/v1.0/state/s", b'[{"key":"k","value":{"n":1}}]'),
        ("GET", "/v1.0/state/s/k", b""),
        ("POST", "/v1.0/state/s", b'[{"key":"k","value":2,"etag":"5"}]'),
        ("POST", "/v1.0/state/s/transaction",
         b'{"operations":[{"operation":"upsert","request":{"key":"t","value":1}},'
         b'{"operation":"delete","request":{"key":"k","etag":"9"}}]}'),
        ("DELETE", "/v1.0/state/s/k", b""),
        ("GET", "/v1.0/state/s/k", b""),
        ("POST", "/v1.0/state/s", b"not json"),
        ("GET", "/v1.0/healthz", b""),
    ]

    async def native_answers() -> list[Any]:
        answers = []
        for method, target, body in requests:
            pending = native_api.begin(method, target, {})
            answers.append(await pending.finish_async(lambda c: awaited, body))
        return answers

    expected = [sync_api.handle(method, target, {}, body) for method, target, body in requests]
    assert asyncio.run(native_answers()) == expected
    assert [r.status for r in expected] == [204, 200, 409, 500, 204, 204, 400, 204]
