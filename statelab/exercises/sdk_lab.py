"""A lab for the exercises answered with the official SDK: the learner's ``DaprClient``.

The learner's function receives a real ``dapr.clients.DaprClient``, connected over gRPC to a
private sidecar (:func:`~statelab.server.sidecar.serve`) on a fresh state service: the very
client and calls they would use against daprd. A client interceptor sits in the learner's
thread, between the SDK and the wire. It records each call and what Dapr answered, and after
the answer arrives (before the learner's code sees it) it lets competing writers act on the
service: the same deterministic races as :class:`~statelab.exercises.lab.Lab` gives the
``httpx`` exercises. It also enforces the request budget with
:class:`~statelab.exercises.framework.RequestBudgetExceeded`, which ``except Exception``
cannot swallow.

grpcio and the SDK are imported here only, and this module only by the checkers of SDK
exercises, so ``import statelab`` stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import grpc
from dapr.clients import DaprClient
from dapr.conf import settings

from statelab.dapr.components import Component
from statelab.dapr.http import StateAPI
from statelab.dapr.service import SaveItem
from statelab.exercises.framework import RequestBudgetExceeded
from statelab.exercises.lab import MAX_REQUESTS, Interference, answer_in_schedule, say_runs
from statelab.server.sidecar import Sidecar, serve
from statelab.stores.redis.model import RedisModelStore

__all__ = ["SdkCall", "SdkLab"]


@dataclass
class SdkCall:
    """One call the learner's client made: the RPC, its request, and Dapr's answer."""

    rpc: str
    request: Any
    #: Each key's ETag in the store just before the call was answered (None: missing).
    current: dict[str, str | None] = field(default_factory=dict)
    #: ``"OK"`` or the gRPC status name (``"ABORTED"``, ``"INTERNAL"``, ...).
    status: str = "OK"

    def describe(self) -> str:
        """``SaveState(hits, stale etag '1') -> ABORTED``: what was asked and answered."""
        return f"{self.rpc}({self._subject()}) -> {self.status}"

    def _subject(self) -> str:
        request = self.request
        if self.rpc == "ExecuteStateTransaction":
            return ", ".join(f"{op.operationType} {op.request.key}{self._etag(op.request)}"
                             for op in request.operations)
        if self.rpc in ("SaveState", "DeleteBulkState"):
            return ", ".join(item.key + self._etag(item) for item in request.states)
        if self.rpc == "GetBulkState":
            return ", ".join(request.keys)
        key = str(getattr(request, "key", ""))
        return key + (self._etag(request) if self.rpc == "DeleteState" else "")

    def _etag(self, message: Any) -> str:
        """``, etag '3'`` or ``, stale etag '3'``; a long ETag (the in-memory store's UUIDs,
        random on every run) is not quoted, so a check's message is the same every time."""
        if not message.HasField("etag"):
            return ""
        value = message.etag.value
        stale = "stale " if self.current.get(message.key) != value else ""
        quoted = f" {value!r}" if len(value) <= 12 else ""
        return f", {stale}etag{quoted}"


def _keys(rpc: str, request: Any) -> list[str]:
    """The keys a write names, whose current ETags the transcript compares with."""
    if rpc == "ExecuteStateTransaction":
        return [op.request.key for op in request.operations]
    if rpc in ("SaveState", "DeleteBulkState"):
        return [item.key for item in request.states]
    return [request.key] if rpc == "DeleteState" else []


class _Observer(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc] # grpc is untyped
    """Runs in the learner's thread around each blocking call of the SDK."""

    def __init__(self, lab: SdkLab) -> None:
        self.lab = lab

    def intercept_unary_unary(self, continuation: Callable[[Any, Any], Any],
                              client_call_details: Any, request: Any) -> Any:
        call = self.lab.observe(str(client_call_details.method).rsplit("/", 1)[-1], request)
        # For the blocking calls the SDK makes, the continuation returns once Dapr answered:
        # an outcome, or the RpcError itself (returned, not raised).
        outcome = continuation(client_call_details, request)
        if isinstance(outcome, grpc.RpcError):
            call.status = outcome.code().name
        self.lab.after()
        return outcome


class SdkLab:
    """A fresh state service behind a private sidecar, and the learner's ``DaprClient`` on it.

    Without *components* it has one Redis store named ``statestore`` (the model store, as in
    :class:`~statelab.exercises.lab.Lab`). Use it as a context manager: the client and the
    sidecar close however the check ends. :meth:`schedule` starts a new round on the same
    sidecar (fresh stores, new competing writers), so a check of many schedules starts one
    server, not one per schedule.
    """

    def __init__(self, components: Sequence[Component] | None = None) -> None:
        api = StateAPI(list(components or [Component.around(RedisModelStore())]))
        self.service = api.service
        self.calls: list[SdkCall] = []
        self.interference: list[Interference] = []
        self.sidecar: Sidecar = serve(api)
        try:
            self.client = _client_for(self.sidecar, _Observer(self))
        except BaseException:
            self.sidecar.stop()
            raise

    def __enter__(self) -> SdkLab:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call] # the SDK is untyped
        self.sidecar.stop()

    def schedule(self, interference: Sequence[Interference] = ()) -> None:
        """A new round: empty stores, no calls recorded, these competing writers."""
        for component in self.service.components:
            component.open().reset()
        self.calls = []
        self.interference = sorted(interference, key=lambda step: step.after)

    def answer(self, case: int, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the learner's *fn* (with :func:`run_answer`) in schedule *case*; if it raises,
        the failure says which schedule it was and which calls led there."""
        return answer_in_schedule(case, fn, args, self.transcript, "calls")

    def observe(self, rpc: str, request: Any) -> SdkCall:
        """Record a call before it is sent; past the budget, refuse it in the learner's code."""
        if len(self.calls) >= MAX_REQUESTS:
            raise RequestBudgetExceeded(f"your function sent more than {MAX_REQUESTS} "
                                        "requests; does a loop ever end?")
        # ExecuteStateTransactionRequest spells it storeName; the other requests store_name.
        store = str(getattr(request, "store_name", "") or getattr(request, "storeName", ""))
        current: dict[str, str | None] = {}
        for key in _keys(rpc, request):
            found = self.service.get(store, key) if store else None
            current[key] = None if found is None else found.etag
        call = SdkCall(rpc, request, current)
        self.calls.append(call)
        return call

    def after(self) -> None:
        """Dapr has answered the latest call: the writers scheduled after it act now."""
        for step in self.interference:
            if step.after == len(self.calls):
                step.action(self.service)

    def transcript(self) -> str:
        """The learner's calls and Dapr's answers, numbered: ``1 GetState(hits) -> OK; ...``;
        a run of three or more alike is said once (``3-60 ... (58 times)``)."""
        return say_runs([call.describe() for call in self.calls]).replace("no requests",
                                                                          "no calls")

    def value(self, key: str, store: str = "statestore") -> Any:
        """The stored value under *key* decoded as JSON (what ``json.dumps`` or ``str(n)``
        saved), the raw bytes when they are not JSON, or None when the key is missing."""
        found = self.service.get(store, key)
        if found is None:
            return None
        try:
            return json.loads(found.data.decode("utf-8"))
        except ValueError:
            return found.data

    def save(self, key: str, value: Any, store: str = "statestore") -> None:
        self.service.save(store, [SaveItem(key, value)])


def _client_for(sidecar: Sidecar, observer: _Observer) -> DaprClient:
    """A ``DaprClient`` on *sidecar*. The SDK's constructor waits for the sidecar's HTTP
    health endpoint, found through ``dapr.conf.settings``; they point at the lab's own sidecar
    while it waits (not at the learner's, nor at whatever ``DAPR_HTTP_PORT`` says)."""
    with _settings(DAPR_HTTP_ENDPOINT=sidecar.url, DAPR_API_TOKEN=None):
        return DaprClient(address=sidecar.grpc_endpoint, interceptors=[observer])


@contextmanager
def _settings(**values: Any) -> Iterator[None]:
    before = {name: getattr(settings, name) for name in values}
    try:
        for name, value in values.items():
            setattr(settings, name, value)
        yield
    finally:
        for name, value in before.items():
            setattr(settings, name, value)

