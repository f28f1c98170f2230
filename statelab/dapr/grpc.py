"""The gRPC binding: daprd's ``dapr.proto.runtime.v1.Dapr`` state RPCs over :class:`StateService`.

:class:`StateServicer` subclasses the servicer generated in the official ``dapr`` package (no
hand-copied ``.proto``), so the Python SDK's ``DaprClient`` and any generated stub speak to it
unchanged (``shared/dapr-grpc-state-api.md``; section and "G" numbers in comments refer to it).
What is gRPC lives here: the messages, the order of the checks daprd's gRPC handlers make
(section 5: no empty-key check on get and delete, ``||`` before the operation type in a
transaction, no empty-transaction shortcut), the option enums, raw bytes as values, the
``dapr-api-token`` metadata. Dapr's state semantics stay in :mod:`statelab.dapr.service`, and
the errors become gRPC statuses in :mod:`statelab.dapr.grpc_errors`.

Every other RPC of the service answers ``UNIMPLEMENTED`` naming its building block, and the
server keeps serving. Each RPC is written once, as the steps of its operation
(:mod:`statelab.dapr.steps`): :class:`StateServicer`'s handlers run them synchronously (grpcio's
threaded server), :class:`AsyncStateServicer`'s await them on ``grpc.aio``'s event loop.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, NoReturn, TypeVar

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, metadata_pb2, state_pb2
from google.protobuf import empty_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from statelab.dapr import messages, steps
from statelab.dapr.components import Component, capabilities
from statelab.dapr.grpc_errors import to_status
from statelab.dapr.service import (
    DAPR_RUNTIME_VERSION,
    DeleteItem,
    SaveItem,
    StateService,
    TransactionItem,
)
from statelab.dapr.steps import AsyncStores, Steps
from statelab.errors import DaprError
from statelab.go.json import GoJSONError, unmarshal

__all__ = ["IMPLEMENTED", "AsyncStateServicer", "StateServicer", "building_block"]

T = TypeVar("T")

#: The RPCs statelab answers; every other one of the ``Dapr`` service is UNIMPLEMENTED.
IMPLEMENTED = frozenset({
    "SaveState", "GetState", "GetBulkState", "DeleteState", "DeleteBulkState",
    "ExecuteStateTransaction", "QueryStateAlpha1", "GetMetadata", "SetMetadata"})

# ``StateOptions`` enums (section 4 item 4): anything but 1 or 2 is "unspecified".
_CONCURRENCY = {1: "first-write", 2: "last-write"}
_CONSISTENCY = {1: "eventual", 2: "strong"}

#: Substrings of RPC names and the building block they belong to; the first match wins, so
#: actor state (``GetActorState``) is "actors", not state.
_BLOCKS = (
    ("actor", "actors"), ("workflow", "workflows"), ("publish", "pub/sub"),
    ("topicevents", "pub/sub"), ("invokeservice", "service invocation"),
    ("invokebinding", "bindings"), ("secret", "secrets"), ("configuration", "configuration"),
    ("lock", "distributed lock"), ("crypt", "cryptography"), ("subtle", "cryptography"),
    ("job", "jobs"), ("converse", "conversation"), ("shutdown", "sidecar lifecycle"),
    ("vector", "vector stores"), ("collection", "vector stores"), ("index", "search"),
    ("document", "search"), ("search", "search"), ("binaryfile", "binary files"),
)


def building_block(rpc: str) -> str:
    """The Dapr building block an RPC of the ``Dapr`` service belongs to, for messages."""
    lowered = rpc.lower()
    return next((block for part, block in _BLOCKS if part in lowered), "another building block")


def _options(message: Any) -> tuple[str, str]:
    """(concurrency, consistency) of an optional ``StateOptions`` (absent = unspecified)."""
    if not message.HasField("options"):
        return "", ""
    return (_CONCURRENCY.get(message.options.concurrency, ""),
            _CONSISTENCY.get(message.options.consistency, ""))


def _etag(message: Any) -> str | None:
    """An absent ``Etag`` is None; ``Etag{value:""}`` is passed on and the stores treat it as
    no etag (section 4 item 3)."""
    return str(message.etag.value) if message.HasField("etag") else None


def _delete_item(item: common_pb2.StateItem) -> DeleteItem:
    concurrency, consistency = _options(item)
    return DeleteItem(item.key, etag=_etag(item), metadata=dict(item.metadata),
                      concurrency=concurrency, consistency=consistency)


def _raw_save_item(item: common_pb2.StateItem, value: Any) -> SaveItem:
    concurrency, consistency = _options(item)
    return SaveItem(item.key, etag=_etag(item), metadata=dict(item.metadata),
                    concurrency=concurrency, consistency=consistency, value=value)


def _abort(context: grpc.ServicerContext, status: status_pb2.Status) -> NoReturn:
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returned")  # grpcio raises; never reached


def _failure(exc: Exception) -> status_pb2.Status:
    """The status an RPC ends with: Dapr's error as daprd words it, or, for an internal
    fault, INTERNAL saying so (it must not look like a Dapr answer)."""
    if isinstance(exc, DaprError):
        return to_status(exc)
    return status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0],
                             message=f"statelab internal error: {exc!r}")


class StateServicer(dapr_pb2_grpc.DaprServicer):
    """The ``Dapr`` service's state RPCs over *service*; *api_token* as ``--dapr-api-token``."""

    def __init__(self, service: StateService, api_token: str | None = None) -> None:
        self.service = service
        self._token = None if api_token is None else api_token.encode("utf-8")

    # -- the frame every RPC runs in: token (section 8), then the handler, errors mapped -----

    def _run(self, context: grpc.ServicerContext, work: Steps[T]) -> T:
        try:
            self._authenticate(context)
            return steps.run(work)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the RPC's status
            failure = _failure(exc)
        _abort(context, failure)

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        """daprd's ``checkAPITokenInContext``: the first ``dapr-api-token`` value, compared
        exactly (constant-time here, which changes nothing but the timing)."""
        if self._token is None:
            return
        sent = next((value for key, value in context.invocation_metadata()
                     if key == "dapr-api-token"), None)
        if sent is None:
            raise messages.grpc_unauthorized(missing=True)
        raw = sent if isinstance(sent, bytes) else str(sent).encode("utf-8")
        if not hmac.compare_digest(raw, self._token):
            raise messages.grpc_unauthorized(missing=False)

    # -- state RPCs (section 5) -----------------------------------------------------------------

    def SaveState(self, request: state_pb2.SaveStateRequest,  # noqa: N802 - generated name
                  context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._run(context, self._save_state(request))

    def _save_state(self, request: state_pb2.SaveStateRequest) -> Steps[empty_pb2.Empty]:
        """5.1: store lookup; per item, in order, empty key (G4), ``||`` (G3), JSON (G5);
        nothing is written before every item passed."""
        component = self.service.component(request.store_name)
        items = [self._save_item(component, state) for state in request.states]
        yield from self.service.save_steps(component,
                                           self.service.prepare_save(component, items))
        return empty_pb2.Empty()

    def _save_item(self, component: Component, item: common_pb2.StateItem) -> SaveItem:
        if not item.key:
            raise messages.grpc_empty_key()
        self.service.modified_key(component, item.key)  # G3, before this item's JSON
        value: Any = item.value  # raw bytes: the stores keep them verbatim (4.6)
        if item.metadata.get("contentType") == "application/json":
            try:
                value = unmarshal(item.value)
            except GoJSONError as exc:
                raise messages.go_error(str(exc)) from None
        return _raw_save_item(item, value)

    def GetState(self, request: state_pb2.GetStateRequest,  # noqa: N802 - generated name
                 context: grpc.ServicerContext) -> state_pb2.GetStateResponse:
        return self._run(context, self._get_state(request))

    def _get_state(self, request: state_pb2.GetStateRequest
                   ) -> Steps[state_pb2.GetStateResponse]:
        """5.2: no empty-key check; a missing key is OK with empty data and etag."""
        result = yield from self.service.get_steps(
            request.store_name, request.key, dict(request.metadata),
            _CONSISTENCY.get(request.consistency, ""))
        if result is None:
            return state_pb2.GetStateResponse()
        return state_pb2.GetStateResponse(data=result.data, etag=result.etag or "",
                                          metadata=result.metadata)

    def GetBulkState(self, request: state_pb2.GetBulkStateRequest,  # noqa: N802
                     context: grpc.ServicerContext) -> state_pb2.GetBulkStateResponse:
        return self._run(context, self._get_bulk_state(request))

    def _get_bulk_state(self, request: state_pb2.GetBulkStateRequest
                        ) -> Steps[state_pb2.GetBulkStateResponse]:
        """5.3: request order, duplicates kept; one ``||`` key fails the whole call."""
        items = yield from self.service.bulk_get_steps(request.store_name, list(request.keys),
                                                       dict(request.metadata))
        return state_pb2.GetBulkStateResponse(items=[
            state_pb2.BulkStateItem(key=item.key, data=item.data or b"", etag=item.etag or "",
                                    error=item.error or "", metadata=item.metadata)
            for item in items])

    def DeleteState(self, request: state_pb2.DeleteStateRequest,  # noqa: N802
                    context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._run(context, self._delete_state(request))

    def _delete_state(self, request: state_pb2.DeleteStateRequest
                      ) -> Steps[empty_pb2.Empty]:
        """5.4: store lookup, ``||``, the store's delete; no empty-key check."""
        yield from self.service.delete_steps(request.store_name, _delete_item(request))
        return empty_pb2.Empty()

    def DeleteBulkState(self, request: state_pb2.DeleteBulkStateRequest,  # noqa: N802
                        context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._run(context, self._delete_bulk_state(request))

    def _delete_bulk_state(self, request: state_pb2.DeleteBulkStateRequest
                           ) -> Steps[empty_pb2.Empty]:
        """5.5: the items' values are ignored."""
        yield from self.service.delete_bulk_steps(
            request.store_name, [_delete_item(item) for item in request.states])
        return empty_pb2.Empty()

    def ExecuteStateTransaction(self,  # noqa: N802 - generated name
                                request: state_pb2.ExecuteStateTransactionRequest,
                                context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._run(context, self._transaction(request))

    def _transaction(self, request: state_pb2.ExecuteStateTransactionRequest
                     ) -> Steps[empty_pb2.Empty]:
        """5.6: lookup, transactional (G14), per operation ``||`` (G3) then the type (G15),
        then the store's ``Multi`` even with no operations. Values stay raw bytes, and the
        request metadata goes to the store's transaction only, not into each operation."""
        component = self.service.component(request.storeName)
        self.service.require_transactions(component)
        operations = []
        for operation in request.operations:
            item = operation.request
            self.service.modified_key(component, item.key)
            kind = self.service.check_operation(operation.operationType)
            typed: SaveItem | DeleteItem = _raw_save_item(item, item.value) \
                if kind == "upsert" else _delete_item(item)
            operations.append(self.service.transaction_operation(
                component, TransactionItem(kind, typed)))
        yield from self.service.transact_steps(component, operations, dict(request.metadata))
        return empty_pb2.Empty()

    def QueryStateAlpha1(self, request: state_pb2.QueryStateRequest,  # noqa: N802
                         context: grpc.ServicerContext) -> state_pb2.QueryStateResponse:
        """5.7: always G18 or G19 with statelab's stores, as on daprd with them."""
        return self._run(context, self._query(request))

    def _query(self, request: state_pb2.QueryStateRequest
               ) -> Steps[state_pb2.QueryStateResponse]:
        yield from ()  # no store call: the stores here cannot query
        self.service.query(request.store_name, request.query.encode("utf-8"))

    # -- metadata (5.8) ---------------------------------------------------------------------

    def GetMetadata(self, request: Any,  # noqa: N802 - generated name
                    context: grpc.ServicerContext) -> metadata_pb2.GetMetadataResponse:
        return self._run(context, self._get_metadata(request))

    def _get_metadata(self, request: Any) -> Steps[metadata_pb2.GetMetadataResponse]:
        """Fields 1, 3, 4 and 8, as the spec says statelab fills them."""
        yield from ()  # no store call
        return metadata_pb2.GetMetadataResponse(
            id=self.service.app_id,
            registered_components=[
                metadata_pb2.RegisteredComponents(name=c.name, type=c.type, version=c.version,
                                                  capabilities=capabilities(c))
                for c in self.service.components],
            extended_metadata=dict(self.service.extended),
            runtime_version=DAPR_RUNTIME_VERSION)

    def SetMetadata(self, request: metadata_pb2.SetMetadataRequest,  # noqa: N802
                    context: grpc.ServicerContext) -> empty_pb2.Empty:
        return self._run(context, self._set_metadata(request))

    def _set_metadata(self, request: metadata_pb2.SetMetadataRequest
                      ) -> Steps[empty_pb2.Empty]:
        yield from ()  # no store call
        if request.key:  # an empty key is a no-op (5.8)
            self.service.set_metadata(request.key, request.value)
        return empty_pb2.Empty()

    # -- every other RPC ---------------------------------------------------------------------

    def _unimplemented(self, rpc: str, context: grpc.ServicerContext) -> NoReturn:
        _abort(context, self._unimplemented_status(rpc, context))

    def _unimplemented_status(self, rpc: str, context: Any) -> status_pb2.Status:
        """The token is checked first, as daprd's interceptor runs before every handler."""
        try:
            self._authenticate(context)
        except DaprError as error:
            return to_status(error)
        return status_pb2.Status(code=grpc.StatusCode.UNIMPLEMENTED.value[0],
                                 message=messages.grpc_unimplemented(rpc, building_block(rpc)))

    #: Each implemented RPC's steps, for handlers that drive them another way (asyncio).
    STEPS: ClassVar[dict[str, str]] = {
        "SaveState": "_save_state", "GetState": "_get_state", "GetBulkState": "_get_bulk_state",
        "DeleteState": "_delete_state", "DeleteBulkState": "_delete_bulk_state",
        "ExecuteStateTransaction": "_transaction", "QueryStateAlpha1": "_query",
        "GetMetadata": "_get_metadata", "SetMetadata": "_set_metadata"}


class AsyncStateServicer(StateServicer):
    """The same RPCs for ``grpc.aio``: each operation's steps run on the server's event loop
    and its store calls are awaited on the door's native asyncio stores (*stores*: a real
    Redis through ``redis.asyncio``), or made inline where a component has none. Every check,
    message and status is :class:`StateServicer`'s: only the driver differs."""

    def __init__(self, service: StateService, api_token: str | None = None, *,
                 stores: AsyncStores) -> None:
        super().__init__(service, api_token)
        self._stores = stores

    async def _run_async(self, context: Any, work: Steps[T]) -> T:
        try:
            self._authenticate(context)
            return await steps.run_async(work, self._stores)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the RPC's status
            failure = _failure(exc)
        await context.abort_with_status(rpc_status.to_status(failure))
        raise AssertionError("abort_with_status returned")  # grpcio raises; never reached


def _unimplemented_handler(rpc: str) -> Callable[[StateServicer, Any, Any], NoReturn]:
    def handler(self: StateServicer, request: Any, context: Any) -> NoReturn:
        self._unimplemented(rpc, context)

    handler.__name__ = rpc
    handler.__doc__ = f"UNIMPLEMENTED: {rpc} belongs to {building_block(rpc)}."
    return handler


def _async_handler(rpc: str) -> Callable[[AsyncStateServicer, Any, Any], Awaitable[Any]]:
    build = getattr(StateServicer, StateServicer.STEPS[rpc])

    async def handler(self: AsyncStateServicer, request: Any, context: Any) -> Any:
        return await self._run_async(context, build(self, request))

    handler.__name__ = rpc
    handler.__doc__ = getattr(StateServicer, rpc).__doc__
    return handler


def _async_unimplemented_handler(rpc: str) -> Callable[[AsyncStateServicer, Any, Any],
                                                       Awaitable[NoReturn]]:
    async def handler(self: AsyncStateServicer, request: Any, context: Any) -> NoReturn:
        status = self._unimplemented_status(rpc, context)
        await context.abort_with_status(rpc_status.to_status(status))
        raise AssertionError("abort_with_status returned")  # grpcio raises; never reached

    handler.__name__ = rpc
    handler.__doc__ = f"UNIMPLEMENTED: {rpc} belongs to {building_block(rpc)}."
    return handler


for _rpc in dir(dapr_pb2_grpc.DaprServicer):
    if _rpc.startswith("_"):
        continue
    if _rpc in IMPLEMENTED:
        setattr(AsyncStateServicer, _rpc, _async_handler(_rpc))
    else:
        setattr(StateServicer, _rpc, _unimplemented_handler(_rpc))
        setattr(AsyncStateServicer, _rpc, _async_unimplemented_handler(_rpc))
