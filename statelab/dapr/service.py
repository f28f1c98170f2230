"""The state service: Dapr's state semantics as typed calls, the one place they live.

Every door is a thin binding over :class:`StateService`: the HTTP binding
(:mod:`statelab.dapr.http`) maps routes, query strings, headers and bodies onto it; the
simulator and the exercises call it directly; the gRPC binding will map
``dapr.proto.runtime.v1`` messages onto it. A call either returns a typed result or raises
:class:`~statelab.dapr.messages.DaprError` with daprd's status, ``errorCode``, wording and
details (``docs/dapr-state-api.md``; section numbers in comments refer to it), so a conflict in
a simulated race is the very 409 a learner gets over HTTP.

Each operation is written in three steps, once, for every door:

1. *prepare* (pure): look the store up, check keys and options, build the store requests;
2. *execute*: the store call, *yielded* as a :class:`~statelab.dapr.steps.StoreCall` (the
   ``*_steps`` generators): :func:`statelab.dapr.steps.run` makes it synchronously,
   :func:`statelab.dapr.steps.run_async` awaits a native asyncio store on an event loop;
3. *answer*: map a :class:`~statelab.stores.base.StoreError` onto Dapr's error with the
   public ``*_error`` functions below.

The typed calls (:meth:`StateService.save`, :meth:`~StateService.get`, ...) run the steps
for synchronous callers. Nothing here touches an event loop or a socket.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, NoReturn, TypeVar

from statelab.dapr import messages, steps
from statelab.dapr.components import Component, default_components, describe
from statelab.dapr.steps import Steps, StoreCall
from statelab.errors import DaprError
from statelab.go.json import GoJSONError, decode_first_value, encode_std_ordered
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    GetResult,
    SetRequest,
    Store,
    StoreError,
    TransactionOperation,
)

__all__ = [
    "BulkItem",
    "DAPR_RUNTIME_VERSION",
    "DeleteItem",
    "KeyItem",
    "SaveItem",
    "StateService",
    "TransactionItem",
    "bulk_delete_error",
    "delete_error",
    "get_error",
    "original_key",
    "save_error",
    "transaction_error",
]

#: A store request (``SetRequest`` or ``DeleteRequest``) in :func:`_each`.
R = TypeVar("R")

#: The daprd release whose behaviour statelab reproduces.
DAPR_RUNTIME_VERSION = "1.18.3"

Metadata = Mapping[str, str]


@dataclass(frozen=True)
class KeyItem:
    """What a save and a delete share: the learner's key (not prefixed), an optional ETag, the
    request metadata and Dapr's two options (keyword-only)."""

    key: str
    _: KW_ONLY
    etag: str | None = None
    metadata: Metadata = field(default_factory=dict)
    concurrency: str = ""
    consistency: str = ""


@dataclass(frozen=True)
class SaveItem(KeyItem):
    """One item of a save, as a door decoded it: ``SaveItem(key, value, etag=...)``."""

    value: Any = None


@dataclass(frozen=True)
class DeleteItem(KeyItem):
    """One key to delete, with its optional ETag and options."""


@dataclass(frozen=True)
class TransactionItem:
    """One operation of a transaction: ``upsert`` carries a :class:`SaveItem`, ``delete`` a
    :class:`DeleteItem`."""

    operation: Literal["upsert", "delete"]
    item: SaveItem | DeleteItem


@dataclass(frozen=True)
class BulkItem:
    """One key of a bulk get: its stored bytes and ETag, or the store's error text."""

    key: str
    data: bytes | None = None
    etag: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    error: str | None = None


# -- answers: store errors as Dapr's errors (one mapping, shared by every door) ------------------

def save_error(store_name: str, error: StoreError) -> DaprError:
    """daprd's ``stateErrorResponse``: 409 mismatch, 400 invalid etag, 500 otherwise."""
    return messages.save_failed(store_name, _etag_status(error), str(error))


def get_error(key: str, store_name: str, error: StoreError) -> DaprError:
    return messages.get_failed(key, store_name, str(error))


def delete_error(key: str, error: StoreError) -> DaprError:
    return messages.delete_failed(key, _etag_status(error), str(error))


def bulk_delete_error(store_name: str, error: StoreError) -> DaprError:
    """gRPC G12: a ``DeleteBulkState`` failure (409/400/500 as a save's)."""
    return messages.bulk_delete_failed(store_name, _etag_status(error), str(error))


def transaction_error(error: StoreError) -> DaprError:
    """E18: every store failure of a transaction, ETag mismatches included, is a 500."""
    return messages.transaction_failed(str(error))


def _etag_status(error: StoreError) -> int:
    if isinstance(error, EtagError):
        return 409 if error.kind == "mismatch" else 400
    return 500


def original_key(stored_key: str) -> str:
    """Dapr's ``GetOriginalStateKey``: the second ``||`` segment, if any."""
    parts = stored_key.split("||")
    return stored_key if len(parts) <= 1 else parts[1]


class StateService:
    """Dapr's state API over a set of components. Build one per sidecar.

    >>> service = StateService()            # one embedded Redis store named "statestore"
    >>> service.save("statestore", [SaveItem("k", 1)])
    >>> service.get("statestore", "k").data
    b'1'
    """

    def __init__(self, components: Sequence[Component] | None = None, *, app_id: str = "myapp",
                 namespace: str | None = None, extended: Mapping[str, str] | None = None
                 ) -> None:
        self.components: list[Component] = list(
            default_components() if components is None else components)
        self.app_id = app_id
        self.namespace = os.environ.get("NAMESPACE", "") if namespace is None else namespace
        #: The metadata API's ``extended`` attributes (``PUT /v1.0/metadata/{name}``).
        self.extended: dict[str, str] = dict(extended or {})
        self.extended.setdefault("daprRuntimeVersion", DAPR_RUNTIME_VERSION)
        #: Attributes the sidecar sets itself: ``PUT /v1.0/metadata`` cannot change them.
        self.reserved: frozenset[str] = frozenset(self.extended)
        self._by_name = {c.name: c for c in self.components}
        for component in self.components:
            component.open()

    # -- prepare: lookups and key rules -------------------------------------------------------

    def component(self, store: str) -> Component:
        """E1 (no stores at all) is checked before E2 (unknown name), as daprd does (19.2)."""
        if not self._by_name:
            raise messages.store_not_configured(store, self.app_id)
        component = self._by_name.get(store)
        if component is None:
            raise messages.store_not_found(store, self.app_id)
        return component

    def modified_key(self, component: Component, key: str) -> str:
        """Dapr's key prefixing (section 10); rejects keys containing ``||`` (E3)."""
        if "||" in key:
            raise messages.illegal_key(component.name, key)
        lowered = component.key_prefix.lower()
        if lowered == "appid":
            return f"{self.app_id}||{key}" if self.app_id else key
        if lowered == "name":
            return f"{component.name}||{key}"
        if lowered == "namespace":
            if self.namespace:
                return f"{self.namespace}.{self.app_id}||{key}"
            return f"{self.app_id}||{key}" if self.app_id else key
        if lowered == "none":
            return key
        return f"{lowered}||{key}"

    def prepare_save(self, component: Component, items: Sequence[SaveItem]
                     ) -> list[SetRequest]:
        """Per item, in order: the required key (E5), then ``||`` (E3); nothing is written
        before every item passed."""
        requests: list[SetRequest] = []
        for item in items:
            if not item.key:
                raise messages.malformed('"key" is a required field')
            requests.append(self._set_request(component, item))
        return requests

    def _set_request(self, component: Component, item: SaveItem) -> SetRequest:
        return SetRequest(key=self.modified_key(component, item.key), value=item.value,
                          etag=item.etag, metadata=dict(item.metadata),
                          concurrency=item.concurrency, consistency=item.consistency)

    def _delete_request(self, component: Component, item: DeleteItem) -> DeleteRequest:
        return DeleteRequest(key=self.modified_key(component, item.key), etag=item.etag,
                             metadata=dict(item.metadata), concurrency=item.concurrency,
                             consistency=item.consistency)

    def transaction_operation(self, component: Component, operation: TransactionItem
                              ) -> TransactionOperation:
        """One operation of a transaction as the store gets it (E3 checked on its key)."""
        if isinstance(operation.item, SaveItem):
            return TransactionOperation("upsert", self._set_request(component, operation.item))
        return TransactionOperation("delete", self._delete_request(component, operation.item))

    @staticmethod
    def check_operation(operation: str) -> Literal["upsert", "delete"]:
        """E16: a transaction knows exactly two operations (checked before its request)."""
        if operation == "upsert":
            return "upsert"
        if operation == "delete":
            return "delete"
        raise messages.operation_not_supported(operation)

    @staticmethod
    def require_transactions(component: Component) -> Store:
        """E14: the component must implement Dapr's transactional store."""
        store = component.open()
        if "TRANSACTIONAL" not in store.features:
            raise messages.transactions_not_supported(component.name)
        return store

    # -- execute: each operation as steps (statelab.dapr.steps), and its synchronous call -----

    def save(self, store: str, items: Sequence[SaveItem]) -> None:
        """Save items (section 3). One item is one store call; several are saved one by one
        with no atomicity and their errors joined (3.3)."""
        component = self.component(store)
        steps.run(self.save_steps(component, self.prepare_save(component, items)))

    def save_prepared(self, component: Component, requests: Sequence[SetRequest]) -> None:
        steps.run(self.save_steps(component, requests))

    @staticmethod
    def save_steps(component: Component, requests: Sequence[SetRequest]) -> Steps[None]:
        if not requests:
            return
        error = yield from _each(component, "set", requests)
        if error is not None:
            raise save_error(component.name, error) from None

    def get(self, store: str, key: str, metadata: Metadata | None = None,
            consistency: str = "") -> GetResult | None:
        """The stored item, or None for a missing key (section 4). *consistency* is passed
        unvalidated: Redis and in-memory ignore it, the replicated store routes reads by it."""
        return steps.run(self.get_steps(store, key, metadata, consistency))

    def get_steps(self, store: str, key: str, metadata: Metadata | None = None,
                  consistency: str = "") -> Steps[GetResult | None]:
        component = self.component(store)
        stored_key = self.modified_key(component, key)
        try:
            result: GetResult | None = yield StoreCall.get(component, stored_key,
                                                           dict(metadata or {}), consistency)
        except StoreError as exc:
            raise get_error(key, component.name, exc) from None
        return result

    def delete(self, store: str, item: DeleteItem) -> None:
        """Delete one key (section 5); an ETag is checked as the store checks it."""
        steps.run(self.delete_steps(store, item))

    def delete_steps(self, store: str, item: DeleteItem) -> Steps[None]:
        component = self.component(store)
        request = self._delete_request(component, item)
        try:
            yield StoreCall(component, "delete", (request,))
        except StoreError as exc:
            raise delete_error(item.key, exc) from None

    def delete_bulk(self, store: str, items: Sequence[DeleteItem]) -> None:
        """Delete several keys (gRPC ``DeleteBulkState``; HTTP has no such call), with the
        bulk semantics of :meth:`save`: every key is checked (E3) before anything is deleted;
        one item is one store call; several are deleted one by one in order, not atomically,
        their errors joined (an all-ETag failure re-wrapped as one ETag error). No items is a
        success that never calls the store (inferred in the gRPC spec, section 5.5)."""
        steps.run(self.delete_bulk_steps(store, items))

    def delete_bulk_steps(self, store: str, items: Sequence[DeleteItem]) -> Steps[None]:
        component = self.component(store)
        requests = [self._delete_request(component, item) for item in items]
        if not requests:
            return
        error = yield from _each(component, "delete", requests)
        if error is not None:
            raise bulk_delete_error(component.name, error) from None

    def bulk_get(self, store: str, keys: Sequence[str], metadata: Metadata | None = None
                 ) -> list[BulkItem]:
        """Read several keys (section 6); a store error stays with its key."""
        return steps.run(self.bulk_get_steps(store, keys, metadata))

    def bulk_get_steps(self, store: str, keys: Sequence[str], metadata: Metadata | None = None
                       ) -> Steps[list[BulkItem]]:
        component = self.component(store)
        stored_keys = [self.modified_key(component, key) for key in keys]
        meta = dict(metadata or {})
        items: list[BulkItem] = []
        for stored_key in stored_keys:
            key = original_key(stored_key)
            try:
                result: GetResult | None = yield StoreCall.get(component, stored_key, meta)
            except StoreError as exc:
                items.append(BulkItem(key, error=str(exc)))
                continue
            if result is None:
                items.append(BulkItem(key))
            else:
                items.append(BulkItem(key, result.data, result.etag, dict(result.metadata)))
        return items

    def transact(self, store: str, operations: Sequence[TransactionItem],
                 metadata: Metadata | None = None) -> None:
        """Run a transaction (section 7) with the store's own atomicity."""
        component = self.component(store)
        self.require_transactions(component)
        prepared = [self.transaction_operation(component, op) for op in operations]
        self.transact_prepared(component, prepared, metadata)

    @classmethod
    def transact_prepared(cls, component: Component, operations: Sequence[TransactionOperation],
                          metadata: Metadata | None = None) -> None:
        """The store's ``Multi``, even with no operations (the HTTP door answers those itself,
        as daprd's HTTP handler does; its gRPC handler calls the store)."""
        steps.run(cls.transact_steps(component, operations, metadata))

    @staticmethod
    def transact_steps(component: Component, operations: Sequence[TransactionOperation],
                       metadata: Metadata | None = None) -> Steps[None]:
        try:
            yield StoreCall(component, "multi", (operations, dict(metadata or {})))
        except StoreError as exc:
            raise transaction_error(exc) from None

    def query(self, store: str, body: bytes, *, body_too_large: bool = False) -> NoReturn:
        """Query (section 8, alpha): always an error here, as on daprd with these stores.

        *body* is the raw JSON; it is parsed only to report malformed JSON as daprd does (a
        body over the size limit reads as the limit's error)."""
        component = self.component(store)
        failure = component.store_type.query_failure
        if failure is None:
            raise messages.query_not_supported(component.name)
        try:
            if body_too_large:
                raise GoJSONError(messages.BODY_TOO_LARGE)
            decode_first_value(body)
        except GoJSONError as exc:
            raise messages.query_failed(component.name,
                                        f"failed to parse JSON query body: {exc}") from None
        raise messages.query_failed(component.name, failure)

    # -- health and metadata (section 13) -----------------------------------------------------

    def health(self, app_id: str | None = None) -> None:
        """Healthy, unless the caller names another app (``?appid=``)."""
        if app_id is not None and app_id != self.app_id:
            raise messages.health_app_id_mismatch()

    def metadata(self) -> bytes:
        """``GET /v1.0/metadata``'s JSON, in Go's field order."""
        payload: dict[str, Any] = {"id": self.app_id, "runtimeVersion": DAPR_RUNTIME_VERSION}
        if self.components:
            payload["components"] = describe(self.components)
        payload["extended"] = dict(self.extended)
        return encode_std_ordered(payload)

    def set_metadata(self, name: str, value: str) -> None:
        """A user attribute. The sidecar's own (``daprRuntimeVersion``, ``statelab.role``, ...)
        keep their value and the call still succeeds, as daprd's ``GetMetadata``
        (pkg/api/universal/metadata.go) writes ``daprRuntimeVersion`` over whatever a
        ``SetMetadata`` stored under that name."""
        if name not in self.reserved:
            self.extended[name] = value


def _each(component: Component, method: Literal["set", "delete"], requests: Sequence[R]
          ) -> Steps[StoreError | None]:
    """Call the store's *method* on every request, as daprd's bulk saves and deletes do: one
    request's error as it is; several run one by one (daprd runs them in parallel goroutines;
    array order is one of the orders it may produce), none stopping the others, their errors
    joined."""
    errors: list[StoreError] = []
    for request in requests:
        try:
            yield StoreCall(component, method, (request,))
        except StoreError as exc:
            errors.append(exc)
    if not errors:
        return None
    return errors[0] if len(requests) == 1 else _joined(errors)


def _joined(errors: list[StoreError]) -> StoreError:
    """Go's ``errors.Join`` of bulk failures; all ETag errors are re-wrapped as one (3.3)."""
    joined = "\n".join(str(e) for e in errors)
    etag_errors = [e for e in errors if isinstance(e, EtagError)]
    if len(etag_errors) == len(errors):
        kind: Literal["mismatch", "invalid"] = \
            "invalid" if any(e.kind == "invalid" for e in etag_errors) else "mismatch"
        return EtagError(kind, joined)
    return StoreError(joined)
