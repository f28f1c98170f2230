"""The two doors agree: random operations over HTTP on one sidecar and over gRPC on its twin
leave the same stored state and fail with corresponding errors (gRPC spec section 7).

Each example resets twin sidecars (same stores: ``state.redis`` on fakeredis and
``state.in-memory``), then runs the same sequence of saves, gets, deletes, bulk saves and
transactions, through httpx on one and the generated gRPC stub on the other. ETags are
symbolic (``current``, ``stale``, ``invalid``, none) and resolved per door, since in-memory
ETags are random UUIDs. Values are JSON texts: HTTP sends the JSON, gRPC its bytes, so both
stores hold the same bytes. After every step each key reads the same on both.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2
from hypothesis import HealthCheck, given, settings, strategies as st
from support import REDIS_HINT, require_binary

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

KEYS = ("a", "b", "c")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: HTTP status -> gRPC code, for the errors a state call can give (section 7).
CODES = {409: grpc.StatusCode.ABORTED, 400: grpc.StatusCode.INVALID_ARGUMENT,
         500: grpc.StatusCode.INTERNAL}
CONCURRENCY = {"": 0, "first-write": common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE,
               "last-write": common_pb2.StateOptions.CONCURRENCY_LAST_WRITE}


@dataclass(frozen=True)
class Twins:
    http_side: Sidecar
    grpc_side: Sidecar
    http: httpx.Client
    stub: Any


@pytest.fixture(scope="module")
def twins(request: pytest.FixtureRequest) -> Iterator[Twins]:
    real = request.getfixturevalue("redis_server") if shutil.which("redis-server") else None

    def components(db: str) -> list[Component]:
        """The embedded Redis server is one per process: each twin gets its own database.
        With a redis-server, a third store on it: both doors then await it (issue 14)."""
        found = [Component(name="redis", type="state.redis", version="v1",
                           metadata={"redisDB": db}, source="(twins)"),
                 Component(name="memory", type="state.in-memory", version="v1", metadata={},
                           source="(twins)")]
        if real is not None:
            found.append(Component(name="real", type="state.redis", version="v1",
                                   metadata={"redisHost": real.address,
                                             "redisDB": str(int(db) + 6)},
                                   source="(twins)"))
        return found

    with start(0, "twinapp", components("5"), quiet=True, grpc_port=None) as left, \
            start(0, "twinapp", components("6"), quiet=True, grpc_port=0) as right, \
            httpx.Client(base_url=left.url, timeout=10) as http, \
            grpc.insecure_channel(right.grpc_endpoint) as channel:
        yield Twins(left, right, http, dapr_pb2_grpc.DaprStub(channel))


etags = st.sampled_from([None, "current", "stale", "invalid"])
values = st.one_of(st.integers(-5, 99), st.text("xyz", max_size=3), st.booleans())
keys = st.sampled_from(KEYS + ("x||y",))
items = st.fixed_dictionaries({"key": keys, "value": values, "etag": etags,
                               "concurrency": st.sampled_from(["", "first-write", "last-write"])})
operations = st.one_of(
    st.tuples(st.just("save"), st.lists(items, min_size=1, max_size=3)),
    st.tuples(st.just("get"), keys),
    st.tuples(st.just("delete"), keys, etags),
    st.tuples(st.just("transaction"), st.lists(
        st.tuples(st.sampled_from(["upsert", "delete"]), items), max_size=3)),
)


class Door:
    """One sidecar seen through one door; ``call`` answers (ok, code, message)."""

    def __init__(self, twins: Twins, store: str, over_grpc: bool) -> None:
        self.twins, self.store, self.over_grpc = twins, store, over_grpc

    def read(self, key: str) -> tuple[bytes, str]:
        if self.over_grpc:
            answer = self.twins.stub.GetState(state_pb2.GetStateRequest(store_name=self.store,
                                                                         key=key))
            return answer.data, answer.etag
        resp = self.twins.http.get(f"/v1.0/state/{self.store}/{key}")
        return (b"", "") if resp.status_code == 204 else (resp.content, resp.headers["etag"])

    def etag(self, key: str, choice: str | None) -> str | None:
        return {None: None, "stale": "777", "invalid": "abc",
                "current": self.read(key)[1] if "||" not in key else "1"}[choice]

    def call(self, op: tuple[Any, ...]) -> tuple[bool, Any, str]:
        try:
            (self._grpc if self.over_grpc else self._http)(op)
        except grpc.RpcError as exc:
            return False, exc.code(), UUID.sub("UUID", exc.details())
        except _HttpError as exc:
            return False, CODES[exc.status], UUID.sub("UUID", exc.message)
        return True, None, ""

    def _http(self, op: tuple[Any, ...]) -> None:
        http, base = self.twins.http, f"/v1.0/state/{self.store}"
        if op[0] == "save":
            resp = http.post(base, json=[self._json_item(i) for i in op[1]])
        elif op[0] == "get":
            resp = http.get(f"{base}/{op[1]}")
        elif op[0] == "delete":
            etag = self.etag(op[1], op[2])
            resp = http.delete(f"{base}/{op[1]}", headers={} if etag is None else
                               {"If-Match": etag})
        else:
            if not op[1]:
                return  # HTTP answers 204 itself; gRPC calls the store, which succeeds too
            resp = http.post(f"{base}/transaction", json={"operations": [
                {"operation": kind, "request": self._json_item(item, kind)}
                for kind, item in op[1]]})
        if resp.status_code >= 400:
            raise _HttpError(resp.status_code, resp.json()["message"])

    def _json_item(self, item: dict[str, Any], kind: str = "upsert") -> dict[str, Any]:
        body: dict[str, Any] = {"key": item["key"]}
        if kind == "upsert":
            body["value"] = item["value"]
        etag = self.etag(item["key"], item["etag"])
        if etag is not None:
            body["etag"] = etag
        if item["concurrency"]:
            body["options"] = {"concurrency": item["concurrency"]}
        return body

    def _proto_item(self, item: dict[str, Any], kind: str = "upsert") -> Any:
        etag = self.etag(item["key"], item["etag"])
        proto = common_pb2.StateItem(key=item["key"])
        if kind == "upsert":  # the bytes the HTTP store would hold for the JSON value
            proto.value = json.dumps(item["value"], separators=(",", ":")).encode()
        if etag is not None:
            proto.etag.value = etag
        if item["concurrency"]:
            proto.options.concurrency = CONCURRENCY[item["concurrency"]]
        return proto

    def _grpc(self, op: tuple[Any, ...]) -> None:
        stub = self.twins.stub
        if op[0] == "save":
            stub.SaveState(state_pb2.SaveStateRequest(
                store_name=self.store, states=[self._proto_item(i) for i in op[1]]))
        elif op[0] == "get":
            stub.GetState(state_pb2.GetStateRequest(store_name=self.store, key=op[1]))
        elif op[0] == "delete":
            request = state_pb2.DeleteStateRequest(store_name=self.store, key=op[1])
            etag = self.etag(op[1], op[2])
            if etag is not None:
                request.etag.value = etag
            stub.DeleteState(request)
        else:
            stub.ExecuteStateTransaction(state_pb2.ExecuteStateTransactionRequest(
                storeName=self.store, operations=[
                    state_pb2.TransactionalStateOperation(
                        operationType=kind, request=self._proto_item(item, kind))
                    for kind, item in op[1]]))


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _normal(message: str) -> str:
    """Redis script errors name a line and a SHA; the texts are the same otherwise. daprd's
    HTTP handlers may wrap a kit error's text once more (``api error: code = ... desc = ...``,
    the HTTP door's E3), which the gRPC door answers bare."""
    message = re.sub(r"^api error: code = \w+ desc = ", "", message)
    return re.sub(r"[0-9a-f]{40}", "SHA", message)


@pytest.mark.parametrize("store", ["redis", "memory", "real"])
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operations, min_size=1, max_size=8))
def test_http_and_grpc_agree(twins: Twins, store: str, steps: list[tuple[Any, ...]]) -> None:
    if store == "real":
        require_binary("redis-server", REDIS_HINT)
    twins.http_side.reset(store)
    twins.grpc_side.reset(store)
    http_door = Door(twins, store, over_grpc=False)
    grpc_door = Door(twins, store, over_grpc=True)
    for op in steps:
        http_ok, http_code, http_message = http_door.call(op)
        grpc_ok, grpc_code, grpc_message = grpc_door.call(op)
        assert (http_ok, http_code) == (grpc_ok, grpc_code), (op, http_message, grpc_message)
        if not http_ok:
            assert _normal(http_message) == _normal(grpc_message), op
        for key in KEYS:
            (http_data, http_etag), (grpc_data, grpc_etag) = \
                http_door.read(key), grpc_door.read(key)
            assert http_data == grpc_data, (op, key)
            if store != "memory":
                assert http_etag == grpc_etag, (op, key)
            else:
                assert bool(http_etag) == bool(grpc_etag), (op, key)
