"""The replicated teaching store: primary + lagging replicas (issue: replicas and consistency)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from statelab.dapr.components import Component, load_components
from statelab.dapr.http import StateAPI
from statelab.errors import ComponentError
from statelab.server.sidecar import start
from statelab.stores.base import DeleteRequest, SetRequest, StoreError, TransactionOperation
from statelab.stores.replicated import AsyncReplicatedStore, LagModel, ReplicatedStore


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def make(replicas: int = 2, lag_ms: float = 10.0, quorum: int | None = None
         ) -> tuple[ReplicatedStore, Clock]:
    clock = Clock()
    store = ReplicatedStore(replicas=replicas, lag=LagModel("fixed", lag_ms), write_quorum=quorum,
                            clock_us=clock, wait="report", seed=1)
    return store, clock


def test_eventual_reads_lag_behind_and_catch_up() -> None:
    store, clock = make()
    store.set(SetRequest("k", 1))
    assert store.last_delay_us == 0                      # eventual: answered at once
    assert store.get("k", {}) is None                    # replicas have not seen it yet
    clock.now = 10_000
    result = store.get("k", {})
    assert result is not None and (result.data, result.etag) == (b"1", "1")
    assert result.metadata["replica"].startswith("replica-")


def test_strong_writes_wait_for_every_replica_and_strong_reads_use_the_primary() -> None:
    store, clock = make(lag_ms=25.0)
    store.set(SetRequest("k", 1, consistency="strong"))
    assert store.last_delay_us == 25_000
    strong = store.get("k", {}, consistency="strong")
    assert strong is not None and strong.metadata == {"replica": "primary"} and strong.etag == "1"
    assert store.last_node == "primary"


def test_quorum_and_failed_acknowledgements() -> None:
    store, clock = make(replicas=3, quorum=2)
    store.partition("replica-1")
    store.set(SetRequest("k", 1, consistency="strong"))   # 2 of 3 is enough
    assert store.last_delay_us == 10_000
    store.partition("replica-2")
    with pytest.raises(StoreError, match="acknowledged by 1 of 2 required replicas"):
        store.set(SetRequest("k", 2, consistency="strong"))
    assert store.primary.get("k", {}).data == b"2"  # type: ignore[union-attr]  # the key exists


def test_etags_are_checked_on_the_primary() -> None:
    store, clock = make()
    store.set(SetRequest("k", 1))
    clock.now = 20_000
    stale = store.get("k", {})
    store.set(SetRequest("k", 2))                            # version 2 on the primary only
    assert store.get("k", {}).etag == "1"  # type: ignore[union-attr]  # the key exists; replicas still lag
    with pytest.raises(StoreError, match="failed to set key"):
        store.set(SetRequest("k", 3, etag=stale.etag, concurrency="first-write"))  # type: ignore[union-attr]  # read above


def test_pause_partition_resume() -> None:
    store, clock = make(replicas=2)
    store.pause("replica-1")
    store.partition("replica-2")
    store.set(SetRequest("k", 1))
    clock.now = 50_000
    # replica-1 is frozen (no reads); replica-2 is cut off (stale reads); nobody has the write.
    assert store.get("k", {}) is None and store.last_node == "replica-2"
    assert [row["pending_updates"] for row in store.status()] == [1, 1]
    store.resume("replica-2")
    assert store.get("k", {}).data == b"1"  # type: ignore[union-attr]  # the key exists; caught up
    store.resume("replica-1")
    assert store.status() == [
        {"replica": "replica-1", "paused": False, "partitioned": False, "pending_updates": 0},
        {"replica": "replica-2", "paused": False, "partitioned": False, "pending_updates": 0}]
    with pytest.raises(KeyError, match="no replica named 'replica-9'"):
        store.pause("replica-9")


def test_deletes_replicate_in_order() -> None:
    store, clock = make()
    store.set(SetRequest("k", 1))
    store.delete(DeleteRequest("k"))
    clock.now = 10_000
    assert store.get("k", {}) is None
    assert store.get("k", {}, consistency="strong") is None


def test_no_replicas_means_the_primary_serves_everything() -> None:
    store, _ = make(replicas=0)
    store.set(SetRequest("k", 1, consistency="strong"))
    assert store.last_delay_us == 0
    assert store.get("k", {}).metadata == {"replica": "primary"}  # type: ignore[union-attr]  # the key exists


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        ReplicatedStore(replicas=-1)
    with pytest.raises(ValueError):
        ReplicatedStore(replicas=1, write_quorum=2)


YAML = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: replicated}}
spec:
  type: state.replicated
  version: v1
  metadata:
{items}
"""


def write_component(folder: Path, **metadata: str) -> None:
    items = "\n".join(f"  - {{name: {k}, value: \"{v}\"}}" for k, v in metadata.items())
    (folder / "replicated.yaml").write_text(YAML.format(items=items or "  []"))


def test_component_yaml_and_metadata_api(tmp_path: Path) -> None:
    write_component(tmp_path, replicas="3", lagDistribution="fixed", lagMinMs="0",
                    writeQuorum="2", seed="4")
    [component] = load_components(tmp_path)
    store = component.open()
    assert isinstance(store, ReplicatedStore)
    assert (len(store.replicas), store.write_quorum) == (3, 2)
    api = StateAPI([component])
    [listed] = api.request("GET", "/v1.0/metadata").json()["components"]
    assert listed == {"name": "replicated", "type": "state.replicated", "version": "v1",
                      "capabilities": ["ETAG", "TRANSACTIONAL", "ACTOR"]}


@pytest.mark.parametrize(("metadata", "field"), [
    ({"replicas": "many"}, "replicas"),
    ({"lagDistribution": "normal"}, "lagDistribution"),
    ({"lagMinMs": "50", "lagMaxMs": "10"}, "lagMaxMs"),
    ({"replicas": "2", "writeQuorum": "3"}, "writeQuorum"),
    ({"lagMinMs": "-1"}, "lagMinMs"),
])
def test_component_errors_name_the_field(tmp_path: Path, metadata: dict, field: str) -> None:
    write_component(tmp_path, **metadata)
    with pytest.raises(ComponentError) as info:
        load_components(tmp_path)
    assert info.value.field == field and info.value.source == "replicated.yaml"


def test_over_http_in_real_time() -> None:
    component = Component(name="replicated", type="state.replicated", version="v1",
                          metadata={"replicas": "2", "lagDistribution": "fixed",
                                    "lagMinMs": "0"}, source="(test)")
    sidecar = start(0, "replication-http", [component], quiet=True)
    try:
        with httpx.Client(base_url=sidecar.url, verify=False) as client:
            saved = client.post("/v1.0/state/replicated",
                                json=[{"key": "k", "value": 1,
                                       "options": {"consistency": "strong"}}])
            assert saved.status_code == 204
            strong = client.get("/v1.0/state/replicated/k", params={"consistency": "strong"})
            assert (strong.text, strong.headers["etag"],
                    strong.headers["metadata.replica"]) == ("1", "1", "primary")
            eventual = client.get("/v1.0/state/replicated/k")
            assert eventual.headers["metadata.replica"] in ("replica-1", "replica-2")
    finally:
        sidecar.stop()


def test_a_wait_function_is_called_with_each_strong_write_s_wait() -> None:
    """A lab's own clock moves on by the wait, so the write answers once replicas have it."""
    clock = Clock()
    waits: list[int] = []

    def wait(delay_us: int) -> None:
        waits.append(delay_us)
        clock.now += delay_us

    store = ReplicatedStore(replicas=2, lag=LagModel("fixed", 25.0), clock_us=clock, wait=wait)
    store.set(SetRequest("k", 1))
    store.set(SetRequest("k", 2, consistency="strong"))
    assert waits == [25_000] and clock.now == 25_000     # the eventual write did not wait
    read = store.get("k", {})                            # eventual: a replica, caught up
    assert read is not None and read.data == b"2" and read.metadata["replica"] != "primary"


# -- issue 14: the asyncio twin waits with asyncio.sleep ----------------------------------------

def _awaited(store: ReplicatedStore, monkeypatch: pytest.MonkeyPatch,
             work: Any) -> tuple[Any, list[float]]:
    """Run *work* on an AsyncReplicatedStore over *store*, recording each asyncio.sleep."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("statelab.stores.replicated.asyncio.sleep", sleep)

    async def main() -> Any:
        twin = AsyncReplicatedStore(store)
        try:
            return await work(twin)
        except StoreError as exc:
            return exc
        finally:
            await twin.aclose()

    return asyncio.run(main()), slept


def test_the_asyncio_twin_waits_as_the_store_would(monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = make(lag_ms=30)

    async def work(twin: AsyncReplicatedStore) -> Any:
        await twin.set(SetRequest("k", 1))                           # eventual: no wait
        await twin.set(SetRequest("k", 2, consistency="strong"))     # waits for the replicas
        await twin.delete(DeleteRequest("k", consistency="strong"))
        await twin.multi([TransactionOperation("upsert", SetRequest("t", 3,
                                                                    consistency="strong"))], {})
        return await twin.get("t", {}, "strong")

    result, slept = _awaited(store, monkeypatch, work)
    assert slept == [0.03, 0.03, 0.03]
    assert result is not None and result.data == b"3" and result.metadata == {
        "replica": "primary"}


def test_the_asyncio_twin_fails_a_strong_write_after_the_ack_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = make()
    store.pause("replica-1")
    sync_store, _ = make()
    sync_store.pause("replica-1")
    with pytest.raises(StoreError) as expected:
        sync_store.set(SetRequest("k", 1, consistency="strong"))

    async def work(twin: AsyncReplicatedStore) -> Any:
        await twin.set(SetRequest("k", 1, consistency="strong"))

    error, slept = _awaited(store, monkeypatch, work)
    assert isinstance(error, StoreError) and str(error) == str(expected.value)
    assert slept == [1.0]  # ackTimeoutMs, then the error
    assert store.primary.get("k", {}) is not None  # the value stays on the primary


def test_a_failed_transaction_still_replicates_what_it_applied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis has no rollback: the good upsert is applied and replicated, the stale ETag is
    the answer, after the strong wait (as the synchronous store answers)."""
    operations = [TransactionOperation("upsert", SetRequest("a", 1, consistency="strong")),
                  TransactionOperation("upsert", SetRequest("b", 2, etag="9"))]
    store, _ = make()
    store.set(SetRequest("b", 0))

    async def work(twin: AsyncReplicatedStore) -> Any:
        await twin.multi(operations, {})

    error, slept = _awaited(store, monkeypatch, work)
    sync_store, _ = make()
    sync_store.set(SetRequest("b", 0))
    with pytest.raises(StoreError) as expected:
        sync_store.multi(operations, {})
    assert isinstance(error, StoreError) and str(error) == str(expected.value)
    assert slept == [sync_store.last_delay_us / 1e6]
    assert store.primary.get("a", {}) is not None
