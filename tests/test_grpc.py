"""gRPC contract tests through the official Python SDK (statelab/dapr/grpc.py).

Every call goes through ``dapr.clients.DaprClient`` (or ``dapr.aio.clients.DaprClient``), or,
where the SDK has no wrapper or refuses the input client-side (``DeleteBulkState``, a blank
store name, an empty transaction, GetState's ``consistency``), through the stub generated in
the same package. Expectations cite ``shared/dapr-grpc-state-api.md``: "§6 S3" is a row of its
ETag table, "G7" an error of its catalogue; errors are checked as a user of the SDK reads them:
``code()``, ``details()``, ``error_code()``, ``status_details()`` and the order of the details.

Profiles: ``redis-fake`` and ``redis-real`` (state.redis), ``memory`` (state.in-memory) and
``replicated`` (statelab's teaching store, with no lag; its primary has the Redis store's
semantics, so it follows the R column; reads go to the primary with ``consistency=strong``
through the stub, as the SDK never sends one).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError, DaprInternalError
from dapr.clients.grpc._request import TransactionalStateOperation, TransactionOperationType
from dapr.clients.grpc._state import Concurrency, StateItem, StateOptions
from dapr.conf import settings
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, metadata_pb2, state_pb2
from support import REDIS_HINT, require_binary

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

SHA = r"[0-9a-f]{40}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
MISMATCH = "possible etag mismatch. error from state store: "
FW = StateOptions(concurrency=Concurrency.first_write)
LW = StateOptions(concurrency=Concurrency.last_write)
OK = grpc.StatusCode
PROFILES = ("redis-fake", "redis-real", "memory", "replicated")
STORES = {"redis-fake": "fakestore", "redis-real": "realstore", "memory": "memstore",
          "replicated": "replstore"}


def _component(name: str, type_: str, **metadata: str) -> Component:
    return Component(name=name, type=type_, version="v1", metadata=metadata, source="(grpc)")


@pytest.fixture(scope="module", params=["asyncio", "threads"])
def grpc_sidecar(request: pytest.FixtureRequest) -> Iterator[Sidecar]:
    """The same sidecar served both ways (issue 14): ``grpc.aio`` awaiting the stores (a
    component here waits on I/O, so that is the default), and, with
    ``STATELAB_ASYNC_STORES=off``, grpcio's threaded server calling them synchronously."""
    components = [
        _component("fakestore", "state.redis"),
        _component("memstore", "state.in-memory"),
        _component("replstore", "state.replicated", lagDistribution="fixed", lagMinMs="0",
                   lagMaxMs="0", lagMeanMs="0"),
    ]
    if shutil.which("redis-server") is not None:
        real = request.getfixturevalue("redis_server")
        components.append(_component("realstore", "state.redis", redisHost=real.address,
                                     redisDB="4"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STATELAB_ASYNC_STORES", "on" if request.param == "asyncio" else "off")
        sidecar = start(0, "myapp", components, quiet=True, grpc_port=0)
    kind = type(sidecar.grpc).__name__
    assert kind == ("AsyncGrpcServer" if request.param == "asyncio" else "GrpcServer")
    yield sidecar
    sidecar.stop()


@pytest.fixture(scope="module")
def sdk(grpc_sidecar: Sidecar) -> Iterator[DaprClient]:
    """One SDK client for the module: its health wait probes this sidecar's HTTP port (the
    SDK reads ``dapr.conf.settings``, which 1.18 fills at import time: assign, don't setenv)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "DAPR_HTTP_PORT", grpc_sidecar.port)
        patch.setattr(settings, "DAPR_HTTP_ENDPOINT", None)
        patch.setattr(settings, "DAPR_API_TOKEN", None)
        with DaprClient(address=grpc_sidecar.grpc_endpoint) as client:
            yield client


@dataclass
class Profile:
    name: str
    store: str
    sidecar: Sidecar
    sdk: DaprClient
    stub: Any

    @property
    def is_redis(self) -> bool:
        """Redis semantics: state.redis, and the teaching store, whose primary holds them."""
        return self.name != "memory"

    def read(self, key: str) -> tuple[bytes, str]:
        """(data, etag): the SDK's get_state; the replicated store's primary via the stub."""
        if self.name == "replicated":
            strong = common_pb2.StateOptions.CONSISTENCY_STRONG
            answer = self.stub.GetState(state_pb2.GetStateRequest(
                store_name=self.store, key=key, consistency=strong))
            return answer.data, answer.etag
        response = self.sdk.get_state(self.store, key)
        return response.data, response.etag

    def save(self, key: str, value: str | bytes, etag: str | None = None,
             options: StateOptions | None = None, **metadata: str) -> None:
        self.sdk.save_state(self.store, key, value, etag=etag, options=options,
                            state_metadata=metadata)


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest, grpc_sidecar: Sidecar, sdk: DaprClient
            ) -> Iterator[Profile]:
    if request.param == "redis-real":
        require_binary("redis-server", REDIS_HINT)
    store = STORES[request.param]
    grpc_sidecar.reset(store)
    with grpc.insecure_channel(grpc_sidecar.grpc_endpoint) as channel:
        yield Profile(request.param, store, grpc_sidecar, sdk, dapr_pb2_grpc.DaprStub(channel))


def failure(call: Callable[[], Any]) -> DaprGrpcError | grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def detail_types(error: Any) -> list[str]:
    if isinstance(error, DaprGrpcError):
        status = error.get_grpc_status()
    else:
        from grpc_status import rpc_status
        status = rpc_status.from_call(error)
    return [] if status is None else [d.type_url.rsplit(".", 1)[-1] for d in status.details]


def check(error: Any, code: grpc.StatusCode, message: str, reason: str,
          details: tuple[str, ...] = ("ErrorInfo",), *, regex: bool = False) -> None:
    """The four things the SDK reads, and the details' order (§2)."""
    assert isinstance(error, DaprGrpcError), error
    assert error.code() == code, error.details()
    if regex:
        assert re.fullmatch(message, error.details()), error.details()
    else:
        assert error.details() == message
    assert error.error_code() == reason
    assert detail_types(error) == list(details)
    info = error.status_details().error_info
    if details and details[-1] == "ErrorInfo":
        assert info["domain"] == "dapr.io" and info["reason"] == reason


def set_script_error(key: str) -> str:
    return (rf"ERR user_script:\d+: failed to set key {re.escape(key)} script: {SHA}, "
            rf"on @user_script:\d+\.")


def save_failed(profile: Profile, detail: str) -> str:
    return f"failed saving state in state store {profile.store}: {detail}"


# -- values and reads (§4.6, §5.2) -----------------------------------------------------------

def test_values_are_raw_bytes_and_both_doors_share_the_store(profile: Profile) -> None:
    profile.save("text", "hello")
    profile.save("binary", b"\x00\xff\x80 ok")
    assert profile.read("text")[0] == b"hello"  # §4.6: no JSON quoting
    assert profile.read("binary")[0] == b"\x00\xff\x80 ok"
    with httpx.Client(base_url=profile.sidecar.url) as http:
        assert http.get(f"/v1.0/state/{profile.store}/text",
                        params={"consistency": "strong"}).content == b"hello"
        assert http.post(f"/v1.0/state/{profile.store}",
                         json=[{"key": "json", "value": "hello"}]).status_code == 204
    assert profile.read("json")[0] == b'"hello"'  # an HTTP save reads quoted over gRPC


def test_missing_key_is_ok_with_empty_data_and_etag(profile: Profile) -> None:
    assert profile.read("never-written") == (b"", "")  # §5.2: no NOT_FOUND
    profile.save("empty", b"")
    data, etag = profile.read("empty")
    assert data == b"" and etag != ""  # a stored empty value differs only by its etag


def test_empty_key_on_get_and_delete_acts_on_the_prefix(profile: Profile) -> None:
    """§7: no empty-key check on get and delete; ``""`` is ``myapp||``."""
    assert profile.read("") == (b"", "")
    profile.sdk.delete_state(profile.store, "")


def test_json_content_type_parses_first(profile: Profile) -> None:
    """§4.6: contentType application/json is decoded, then re-encoded by the store."""
    profile.save("doc", b' {"b": 1, "a": [true]} ', contentType="application/json")
    # in-memory re-encodes with encoding/json (sorted keys), Redis and the teaching store
    # with jsoniter's ConfigFastest (the order sent)
    expected = b'{"a":[true],"b":1}' if profile.name == "memory" else b'{"b":1,"a":[true]}'
    assert profile.read("doc")[0] == expected


def test_ttl_metadata_is_passed_through(profile: Profile) -> None:
    profile.save("ttl", "v", ttlInSeconds="100")
    assert profile.read("ttl")[0] == b"v"
    error = failure(lambda: profile.save("ttl", "w", ttlInSeconds="x"))
    assert error.code() == OK.INTERNAL  # G8
    assert error.details().startswith(save_failed(profile, ""))
    assert 'parsing "x": invalid syntax' in error.details()
    assert profile.read("ttl")[0] == b"v"


# -- §6: the ETag table -----------------------------------------------------------------------

def test_s1_new_key_without_etag(profile: Profile) -> None:
    profile.save("k", "v")
    etag = profile.read("k")[1]
    assert etag == "1" if profile.is_redis else re.fullmatch(UUID, etag)


def test_s3_new_key_with_etag(profile: Profile) -> None:
    if profile.is_redis:
        profile.save("k", "v", etag="5")
        assert profile.read("k") == (b"v", "1")
        return
    error = failure(lambda: profile.save("k", "v", etag="5"))
    check(error, OK.ABORTED, save_failed(
        profile, MISMATCH + "state not exist or expired for key=myapp||k"), "ERR_STATE_SAVE")
    assert profile.read("k") == (b"", "")


@pytest.mark.parametrize("options", [None, FW])
def test_s4_non_numeric_etag(profile: Profile, options: StateOptions | None) -> None:
    profile.save("k", "v")
    error = failure(lambda: profile.save("k", "w", etag="abc", options=options))
    if profile.is_redis:  # G7
        check(error, OK.INVALID_ARGUMENT, save_failed(
            profile, 'invalid etag value: strconv.Atoi: parsing "abc": invalid syntax'),
            "ERR_STATE_SAVE")
    else:
        check(error, OK.ABORTED, save_failed(profile, MISMATCH) + ".*", "ERR_STATE_SAVE",
              regex=True)
    assert profile.read("k")[0] == b"v"


def test_s6_existing_key_first_write_without_etag(profile: Profile) -> None:
    profile.save("k", "v")
    if profile.is_redis:
        profile.save("k", "w", options=FW)  # overwrites and sets the sticky flag
        assert profile.read("k") == (b"w", "2")
        return
    error = failure(lambda: profile.save("k", "w", options=FW))
    check(error, OK.ABORTED, save_failed(
        profile, MISMATCH + "item already exists and no etag was passed"), "ERR_STATE_SAVE")
    assert profile.read("k")[0] == b"v"


def test_s7_flagged_key_without_etag(profile: Profile) -> None:
    if not profile.is_redis:
        pytest.skip("§6 S7 is n/a on the in-memory store (no flag)")
    profile.save("k", "v", options=FW)
    error = failure(lambda: profile.save("k", "w"))
    check(error, OK.INTERNAL, re.escape(save_failed(profile, "failed to set key myapp||k: "))
          + set_script_error("myapp||k"), "ERR_STATE_SAVE", regex=True)  # G8
    assert profile.read("k") == (b"v", "1")


@pytest.mark.parametrize("options", [None, FW, LW])
def test_s8_matching_etag(profile: Profile, options: StateOptions | None) -> None:
    profile.save("k", "v")
    old = profile.read("k")[1]
    profile.save("k", "w", etag=old, options=options)
    data, etag = profile.read("k")
    assert data == b"w"
    assert etag == "2" if profile.is_redis else etag != old


@pytest.mark.parametrize("options", [None, FW])
def test_s9_stale_etag(profile: Profile, options: StateOptions | None) -> None:
    profile.save("k", "v")
    stale = profile.read("k")[1]
    profile.save("k", "w")
    error = failure(lambda: profile.save("k", "x", etag=stale, options=options))
    if profile.is_redis:  # G6
        check(error, OK.ABORTED, re.escape(save_failed(profile, MISMATCH))
              + set_script_error("myapp||k"), "ERR_STATE_SAVE", regex=True)
    else:
        check(error, OK.ABORTED, re.escape(save_failed(
            profile, MISMATCH + "state etag not match for key=myapp||k: ")) + ".*",
            "ERR_STATE_SAVE", regex=True)
    assert profile.read("k")[0] == b"w"


def test_s10_stale_etag_last_write(profile: Profile) -> None:
    profile.save("k", "v")
    stale = profile.read("k")[1]
    profile.save("k", "w")
    if profile.is_redis:
        profile.save("k", "x", etag=stale, options=LW)  # etag ignored
        assert profile.read("k")[0] == b"x"
        profile.save("f", "v", options=FW)
        error = failure(lambda: profile.save("f", "x", etag="9", options=LW))
        assert error.code() == OK.ABORTED  # ... unless flagged
        return
    error = failure(lambda: profile.save("k", "x", etag=stale, options=LW))
    assert error.code() == OK.ABORTED
    assert profile.read("k")[0] == b"w"


def test_s13_recreated_after_delete(profile: Profile) -> None:
    profile.save("k", "v")
    profile.save("k", "w")
    old = profile.read("k")[1]
    profile.sdk.delete_state(profile.store, "k")
    assert profile.read("k") == (b"", "")
    profile.save("k", "again")
    etag = profile.read("k")[1]
    assert etag == "1" if profile.is_redis else etag != old


def test_d2_delete_missing_key_with_etag(profile: Profile) -> None:
    call = lambda: profile.sdk.delete_state(profile.store, "missing", etag="3")  # noqa: E731
    if profile.is_redis:
        call()
        return
    check(failure(call), OK.ABORTED, "failed deleting state with key missing: " + MISMATCH
          + "state not exist or expired for key=myapp||missing", "ERR_STATE_DELETE")  # G10


@pytest.mark.parametrize("etag", ["7", "abc"])
def test_d4_delete_with_stale_or_non_numeric_etag(profile: Profile, etag: str) -> None:
    profile.save("k", "v")
    error = failure(lambda: profile.sdk.delete_state(profile.store, "k", etag=etag))
    prefix = re.escape("failed deleting state with key k: " + MISMATCH)  # G10: no store name
    tail = (rf"ERR user_script:\d+: failed to delete myapp\|\|k script: {SHA}, "
            rf"on @user_script:\d+\.") if profile.is_redis else ".*"
    check(error, OK.ABORTED, prefix + tail, "ERR_STATE_DELETE", regex=True)
    assert profile.read("k")[0] == b"v"


# -- the error catalogue ---------------------------------------------------------------------

def test_g1_no_store_configured(sdk: DaprClient) -> None:
    with start(0, "bare", [], quiet=True, grpc_port=0) as bare, \
            grpc.insecure_channel(bare.grpc_endpoint) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        error = failure(lambda: stub.GetState(state_pb2.GetStateRequest(
            store_name="statestore", key="k")))
        assert error.code() == OK.FAILED_PRECONDITION
        assert error.details() == "state store statestore is not configured"
        assert detail_types(error) == ["ErrorInfo"]


def test_g2_unknown_store(profile: Profile) -> None:
    error = failure(lambda: profile.sdk.save_state("nope", "k", "v"))
    check(error, OK.INVALID_ARGUMENT, "state store nope is not found", "DAPR_STATE_NOT_FOUND")
    assert error.status_details().error_info.get("metadata") is None  # no appID on gRPC
    blank = failure(lambda: profile.stub.GetState(state_pb2.GetStateRequest(key="k")))
    assert blank.details() == "state store  is not found"  # "" gives two spaces


@pytest.mark.parametrize("rpc", ["save", "get", "delete", "bulk", "transaction"])
def test_g3_key_with_separator(profile: Profile, rpc: str) -> None:
    key = "a||b"
    calls: dict[str, Callable[[], Any]] = {
        "save": lambda: profile.save(key, "v"),
        "get": lambda: profile.sdk.get_state(profile.store, key),
        "delete": lambda: profile.sdk.delete_state(profile.store, key),
        "bulk": lambda: profile.sdk.get_bulk_state(profile.store, ["ok", key]),
        "transaction": lambda: profile.sdk.execute_state_transaction(profile.store, [
            TransactionalStateOperation(key="ok", data="1"),
            TransactionalStateOperation(key=key, data="2")]),
    }
    error = failure(calls[rpc])
    message = f"input key/keyPrefix '{key}' can't contain '||'"
    check(error, OK.INVALID_ARGUMENT, message, "DAPR_STATE_ILLEGAL_KEY",
          ("BadRequest", "ResourceInfo", "ErrorInfo"))
    details = error.status_details()
    assert details.bad_request["field_violations"] == [{"field": key, "description": message}]
    assert details.resource_info["resource_name"] == profile.store
    assert profile.read("ok") == (b"", "")  # nothing written before the check


def test_g4_empty_key_on_save_writes_nothing(profile: Profile) -> None:
    items = [StateItem(key="first", value="1"), StateItem(key="", value="2")]
    error = failure(lambda: profile.sdk.save_bulk_state(profile.store, items))
    check(error, OK.INVALID_ARGUMENT, "state key cannot be empty", "ERR_STATE_SAVE")
    assert profile.read("first") == (b"", "")


def test_g5_bad_json_value_is_unknown(profile: Profile) -> None:
    profile.save("k", "v")
    error = failure(lambda: profile.save("k", b"hello", contentType="application/json"))
    assert error.code() == OK.UNKNOWN
    assert error.details() == "invalid character 'h' looking for beginning of value"
    assert error.error_code() == "UNKNOWN" and detail_types(error) == []
    trailing = failure(lambda: profile.save("k", b"1 2", contentType="application/json"))
    assert trailing.details() == "invalid character '2' after top-level value"
    assert profile.read("k")[0] == b"v"


def test_g12_delete_bulk(profile: Profile) -> None:
    profile.save("a", "1")
    profile.save("b", "2")
    profile.save("c", "3")
    stub = profile.stub
    stub.DeleteBulkState(state_pb2.DeleteBulkStateRequest(store_name=profile.store, states=[
        common_pb2.StateItem(key="a"), common_pb2.StateItem(key="b")]))
    assert profile.read("a") == (b"", "") and profile.read("b") == (b"", "")
    stub.DeleteBulkState(state_pb2.DeleteBulkStateRequest(store_name=profile.store))  # empty
    stale = "9" if profile.is_redis else "not-the-etag"
    error = failure(lambda: stub.DeleteBulkState(state_pb2.DeleteBulkStateRequest(
        store_name=profile.store, states=[common_pb2.StateItem(
            key="c", etag=common_pb2.Etag(value=stale))])))
    assert error.code() == OK.ABORTED
    assert error.details().startswith(f"failed deleting state in state store {profile.store}: "
                                      + MISMATCH)
    assert profile.read("c")[0] == b"3"
    two = failure(lambda: stub.DeleteBulkState(state_pb2.DeleteBulkStateRequest(
        store_name=profile.store, states=[
            common_pb2.StateItem(key="c", etag=common_pb2.Etag(value=stale)),
            common_pb2.StateItem(key="gone", etag=common_pb2.Etag(value=stale))])))
    if not profile.is_redis:  # all-ETag failures re-wrapped: the prefix appears twice
        assert two.code() == OK.ABORTED
        assert two.details().count(MISMATCH) >= 2


def test_g15_unknown_operation_type(profile: Profile) -> None:
    error = failure(lambda: profile.stub.ExecuteStateTransaction(
        state_pb2.ExecuteStateTransactionRequest(storeName=profile.store, operations=[
            state_pb2.TransactionalStateOperation(
                operationType="UPSERT", request=common_pb2.StateItem(key="k", value=b"1"))])))
    assert error.code() == OK.UNIMPLEMENTED
    assert error.details() == "operation type UPSERT not supported"
    assert detail_types(error) == ["ErrorInfo"]


def test_transactions_raw_values_empty_and_g17(profile: Profile) -> None:
    profile.save("gone", "x")
    profile.sdk.execute_state_transaction(profile.store, [
        TransactionalStateOperation(key="k", data=b"raw"),
        TransactionalStateOperation(key="gone", data=b"",
                                    operation_type=TransactionOperationType.delete)],
        transactional_metadata={"contentType": "application/json"})
    assert profile.read("k")[0] == b"raw"  # never parsed, even with contentType
    assert profile.read("gone") == (b"", "")
    profile.stub.ExecuteStateTransaction(  # no operations: OK, the store is called
        state_pb2.ExecuteStateTransactionRequest(storeName=profile.store))
    error = failure(lambda: profile.sdk.execute_state_transaction(profile.store, [
        TransactionalStateOperation(key="k", data="new", etag="999")]))
    check(error, OK.INTERNAL, re.escape("error while executing state transaction: ") + ".+",
          "ERR_STATE_TRANSACTION", regex=True)  # G17: never ABORTED
    assert profile.read("k")[0] == b"raw"


def test_g18_g19_query(profile: Profile) -> None:
    with pytest.warns(UserWarning):
        error = failure(lambda: profile.sdk.query_state(profile.store, '{"filter": {}}'))
    assert error.code() == OK.INTERNAL
    if profile.is_redis:  # G19
        assert error.details() == (f"state store {profile.store} query failed: redis-json "
                                   "server support is required for query capability")
        assert error.error_code() == "DAPR_STATE_QUERY_FAILED"
        with pytest.warns(UserWarning):
            bad = failure(lambda: profile.sdk.query_state(profile.store, "{"))
        assert bad.details() == (f"state store {profile.store} query failed: failed to parse "
                                 "JSON query body: unexpected EOF")
    else:  # G18
        assert error.details() == "state store does not support querying"
        assert error.error_code() == "DAPR_STATE_QUERYING_NOT_SUPPORTED"
    assert detail_types(error) == ["ResourceInfo", "ErrorInfo"]


# -- bulk, metadata ---------------------------------------------------------------------------

def test_bulk_save_and_get_keep_request_order_and_duplicates(profile: Profile) -> None:
    profile.sdk.save_bulk_state(profile.store, [
        StateItem(key="a", value="1"), StateItem(key="b", value=b"\x01"),
        StateItem(key="a", value="3")])
    if profile.name == "replicated":
        return  # bulk reads go to replicas; covered by the HTTP contract
    items = profile.sdk.get_bulk_state(profile.store, ["b", "missing", "a", "b"]).items
    assert [(i.key, i.data) for i in items] == [
        ("b", b"\x01"), ("missing", b""), ("a", b"3"), ("b", b"\x01")]
    assert items[1].etag == "" and items[1].error == ""


def test_metadata(grpc_sidecar: Sidecar, sdk: DaprClient) -> None:
    meta = sdk.get_metadata()
    assert meta.application_id == "myapp"
    by_name = {c.name: c for c in meta.registered_components}
    assert by_name["fakestore"].capabilities == ["ETAG", "TRANSACTIONAL", "TTL", "KEYS_LIKE",
                                                 "ACTOR"]
    assert meta.extended_metadata["daprRuntimeVersion"] == "1.18.3"
    sdk.set_metadata("grpc-test", "yes")
    assert sdk.get_metadata().extended_metadata["grpc-test"] == "yes"
    with httpx.Client(base_url=grpc_sidecar.url) as http:
        assert http.get("/v1.0/metadata").json()["extended"]["grpc-test"] == "yes"


# -- other building blocks, bad input, the asyncio client --------------------------------------

def test_other_rpcs_are_unimplemented_and_the_server_keeps_serving(profile: Profile) -> None:
    for call, rpc, block in (
            (lambda: profile.sdk.publish_event("pubsub", "topic", "x"), "PublishEvent",
             "pub/sub"),
            (lambda: profile.sdk.get_secret("vault", "s"), "GetSecret", "secrets"),
            (lambda: profile.sdk.invoke_binding("b", "create", "x"), "InvokeBinding",
             "bindings")):
        error = failure(call)
        assert error.code() == OK.UNIMPLEMENTED
        assert error.details() == (f"statelab emulates only the state API; {rpc} ({block}) "
                                   "is not available")
    profile.save("k", "still")
    assert profile.read("k")[0] == b"still"


def test_bad_messages_change_nothing(profile: Profile) -> None:
    profile.save("k", "v")
    channel = grpc.insecure_channel(profile.sidecar.grpc_endpoint)
    raw = channel.unary_unary("/dapr.proto.runtime.v1.Dapr/SaveState",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with channel:
        malformed = failure(lambda: raw(b"\x12\xff\xff\xff"))  # a truncated field
        assert malformed.code() == OK.INTERNAL
        # field 1 (store_name) sent as a varint: an unknown field, so store "" (G2)
        wrong_type = failure(lambda: raw(b"\x08\x01"))
        assert wrong_type.code() == OK.INVALID_ARGUMENT
        big = state_pb2.SaveStateRequest(store_name=profile.store, states=[
            common_pb2.StateItem(key="k", value=b"x" * (4 * 1024 * 1024))])
        oversize = failure(lambda: raw(big.SerializeToString()))
        assert oversize.code() == OK.RESOURCE_EXHAUSTED
    assert profile.read("k")[0] == b"v"


def test_asyncio_client(grpc_sidecar: Sidecar) -> None:
    from dapr.aio.clients import DaprClient as AsyncDaprClient

    async def scenario() -> None:
        async with AsyncDaprClient(address=grpc_sidecar.grpc_endpoint) as client:
            await client.save_state("memstore", "async", "v1")
            got = await client.get_state("memstore", "async")
            assert got.data == b"v1"
            with pytest.raises(DaprInternalError) as conflict:  # §10.4: not DaprGrpcError
                await client.save_state("memstore", "async", "v2", etag="stale", options=FW)
            as_dict = conflict.value.as_dict()  # only the message survives; the code is lost
            assert as_dict["errorCode"] == "UNKNOWN"
            assert as_dict["message"].startswith(
                "failed saving state in state store memstore: " + MISMATCH)
            with pytest.raises(DaprGrpcError) as bad:
                await client.get_state("memstore", "a||b")
            assert bad.value.code() == OK.INVALID_ARGUMENT
            assert (await client.get_state("memstore", "async")).data == b"v1"

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "DAPR_HTTP_PORT", grpc_sidecar.port)
        patch.setattr(settings, "DAPR_HTTP_ENDPOINT", None)
        patch.setattr(settings, "DAPR_API_TOKEN", None)
        grpc_sidecar.reset("memstore")
        asyncio.run(scenario())


def test_concurrent_clients_and_threads(grpc_sidecar: Sidecar, sdk: DaprClient) -> None:
    """8 threads, each with its own client, increment one counter with etag-checked saves
    and retry on ABORTED: no update is lost (Redis and in-memory)."""
    for store in ("fakestore", "memstore"):
        grpc_sidecar.reset(store)
        sdk.save_state(store, "counter", "0")
        errors: list[BaseException] = []

        def worker(store: str = store, errors: list[BaseException] = errors) -> None:
            try:
                with DaprClient(address=grpc_sidecar.grpc_endpoint) as client:
                    for _ in range(10):
                        while True:
                            got = client.get_state(store, "counter")
                            try:
                                client.save_state(store, "counter", str(int(got.data) + 1),
                                                  etag=got.etag, options=FW)
                                break
                            except DaprGrpcError as exc:
                                assert exc.code() == OK.ABORTED
            except BaseException as exc:  # reported below
                errors.append(exc)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "DAPR_HTTP_PORT", grpc_sidecar.port)
            threads = [threading.Thread(target=worker) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        assert errors == []
        assert sdk.get_state(store, "counter").data == b"80"


def test_api_token() -> None:
    """§8: every call, GetMetadata and unimplemented RPCs included, needs the token."""
    with start(0, "tokenapp", [_component("s", "state.in-memory")], quiet=True,
               api_token="s3cret", grpc_port=0) as secured, \
            grpc.insecure_channel(secured.grpc_endpoint) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        request = state_pb2.GetStateRequest(store_name="s", key="k")
        for metadata, detail in (((), "missing api token in request metadata"),
                                 ((("dapr-api-token", "wrong"),),
                                  "authentication error: api token mismatch")):
            for call in (lambda m=metadata: stub.GetState(request, metadata=m),
                         lambda m=metadata: stub.GetMetadata(
                             metadata_pb2.GetMetadataRequest(), metadata=m)):
                error = failure(call)
                assert error.code() == OK.UNAUTHENTICATED and error.details() == "Unauthorized"
                from google.rpc import error_details_pb2
                from grpc_status import rpc_status

                info = error_details_pb2.ErrorInfo()
                rpc_status.from_call(error).details[0].Unpack(info)
                assert dict(info.metadata) == {"http.code": "401",
                                               "http.error_message": detail}
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "DAPR_HTTP_PORT", secured.port)
            patch.setattr(settings, "DAPR_API_TOKEN", "s3cret")
            with DaprClient(address=secured.grpc_endpoint) as client:
                client.save_state("s", "k", "v")
                assert client.get_state("s", "k").data == b"v"
            patch.setattr(settings, "DAPR_API_TOKEN", "nope")
            with DaprClient(address=secured.grpc_endpoint) as client:
                error = failure(lambda: client.get_state("s", "k"))
                check(error, OK.UNAUTHENTICATED, "Unauthorized", "Unauthorized")
                assert error.status_details().error_info["metadata"] == {
                    "http.code": "401",
                    "http.error_message": "authentication error: api token mismatch"}
                unimplemented = failure(lambda: client.publish_event("p", "t", "x"))
                assert unimplemented.code() == OK.UNAUTHENTICATED


def test_the_langgraph_checkpointer_call_pattern(grpc_sidecar: Sidecar, sdk: DaprClient) -> None:
    """§11: what ``dapr.ext.langgraph.DaprCheckpointer`` asks of the state API, replayed with
    the SDK (the extension itself needs langchain and langgraph, which statelab does not pull
    in): msgpack bytes and JSON strings saved without etag, the never-written registry key read
    as "no data", binary round trips byte for byte, and deletes."""
    store = "fakestore"
    grpc_sidecar.reset(store)
    registry = sdk.get_state(store, "dapr_checkpoint_registry")
    assert not registry.data  # the checkpointer treats this as an empty registry
    blob = bytes(range(256)) + b"\x82\xa1v\x01\xa2id\xc4\x03abc"  # msgpack-like, every byte
    key = "checkpoint:thread-1::1ef0"
    sdk.save_state(store, key, blob)
    sdk.save_state(store, "dapr_checkpoint_registry", '["checkpoint:thread-1::1ef0"]')
    assert sdk.get_state(store, key).data == blob
    assert sdk.get_state(store, "dapr_checkpoint_registry").json() == [key]
    sdk.delete_state(store, key)
    assert not sdk.get_state(store, key).data


def test_g6_g8_g9_g10_a_store_that_fails_answers_and_keeps_serving() -> None:
    """G9, G8, and G6 and G10 (the Redis store words its failures as ETag mismatches) over the
    wire: a Redis store whose connection fails (a fakeredis
    server told it is disconnected, as a real one that is down); bulk reads carry the error
    per item (§5.3); the data is there again once the store is back. G11 (another delete
    failure) never comes from the Redis store, nor G13 and G16 from the Redis and in-memory
    stores (§3)."""
    import fakeredis

    from statelab.stores.redis.store import RedisStore

    server = fakeredis.FakeServer()
    store = Component.around(RedisStore(fakeredis.FakeRedis(server=server)), "downstore")
    with start(0, "downapp", [store], quiet=True, grpc_port=0) as sidecar, \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "DAPR_HTTP_PORT", sidecar.port)
        patch.setattr(settings, "DAPR_HTTP_ENDPOINT", None)
        with DaprClient(address=sidecar.grpc_endpoint) as client:
            client.save_state("downstore", "k", "v")
            server.connected = False
            down = "FakeRedis is emulating a connection error."
            check(failure(lambda: client.get_state("downstore", "k")), OK.INTERNAL,
                  f"fail to get k from state store downstore: {down}", "ERR_STATE_GET")
            # components-contrib's Delete and Set (with an ETag) report any error of their
            # EVAL as an ETag mismatch, a refused connection included: G10 and G6, not G11.
            check(failure(lambda: client.delete_state("downstore", "k")), OK.ABORTED,
                  f"failed deleting state with key k: {MISMATCH}{down}", "ERR_STATE_DELETE")
            check(failure(lambda: client.save_state("downstore", "k", "w", etag="1")),
                  OK.ABORTED, f"failed saving state in state store downstore: {MISMATCH}{down}",
                  "ERR_STATE_SAVE")
            check(failure(lambda: client.save_state("downstore", "k", "w")), OK.INTERNAL,
                  f"failed saving state in state store downstore: failed to set key "
                  f"downapp||k: {down}", "ERR_STATE_SAVE")
            (item,) = client.get_bulk_state("downstore", ["k"]).items
            assert (item.key, item.data, item.error) == ("k", b"", down)
            assert client.get_metadata().application_id == "downapp"  # still serving
            server.connected = True
            assert client.get_state("downstore", "k").data == b"v"  # nothing was lost
