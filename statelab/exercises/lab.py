"""A lab for one check: fresh stores, the learner's HTTP client, and competing writers.

Functions that talk to Dapr receive an ``httpx.Client`` whose base URL is
``http://127.0.0.1:3500``, so the code a learner writes is the code they would run against a
real sidecar. Its transport (:class:`~statelab.server.transport.StateTransport`) answers from a
state API in this process and, on the schedules that call for it, lets a competing writer act
between the learner's requests: a race that happens the same way every time.

The checker itself, and the competing writers, call the typed
:class:`~statelab.dapr.service.StateService` directly: they are not under test, only the
learner's HTTP is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from statelab.dapr.components import Component
from statelab.dapr.http import Response, StateAPI
from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import RequestBudgetExceeded
from statelab.server.transport import DEFAULT_BASE_URL, StateTransport
from statelab.stores.redis.model import RedisModelStore

__all__ = ["MAX_REQUESTS", "Interference", "Lab", "competing_increment"]

#: More requests than any correct answer sends: past it, the learner's loop never ends.
MAX_REQUESTS = 60


@dataclass
class Interference:
    """After the learner's *after*-th request (1-based), run *action* against the service."""

    after: int
    action: Callable[[StateService], None]


class Lab:
    """A fresh state service and an ``httpx.Client`` on it, recording every request.

    Use it as a context manager, so the client is closed however the check ends. Without
    *components*, the lab has one Redis store named ``statestore`` (the model store: the same
    Lua semantics as the embedded Redis, at a fraction of the cost per check).
    """

    def __init__(self, components: Sequence[Component] | None = None,
                 interference: Sequence[Interference] = (),
                 tick: Callable[[], None] | None = None) -> None:
        api = StateAPI(list(components or [Component.around(RedisModelStore())]))
        self.service = api.service
        self.requests: list[httpx.Request] = []
        self.interference = sorted(interference, key=lambda step: step.after)
        #: Called before each of the learner's requests is answered (a store's clock moves).
        self.tick = tick
        transport = StateTransport(api, observe=self._observe, after=self._after)
        self.client = httpx.Client(base_url=DEFAULT_BASE_URL, transport=transport)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.client.close()

    def _observe(self, request: httpx.Request) -> None:
        self.requests.append(request)
        if len(self.requests) > MAX_REQUESTS:
            raise RequestBudgetExceeded(f"your function sent more than {MAX_REQUESTS} "
                                        "requests; does a loop ever end?")
        if self.tick is not None:
            self.tick()

    def _after(self, request: httpx.Request, reply: Response) -> None:
        for step in self.interference:
            if step.after == len(self.requests):
                step.action(self.service)

    def value(self, key: str, store: str = "statestore", consistency: str = "") -> Any:
        """The decoded value under *key*, or None when the key is missing."""
        found = self.service.get(store, key, consistency=consistency)
        return None if found is None else json.loads(found.data.decode("utf-8"))

    def save(self, key: str, value: Any, store: str = "statestore") -> None:
        self.service.save(store, [SaveItem(key, value)])

    def etag(self, key: str, store: str = "statestore") -> str | None:
        found = self.service.get(store, key)
        return None if found is None else found.etag


def competing_increment(key: str, store: str = "statestore"
                        ) -> Callable[[StateService], None]:
    """Another well-behaved writer: it reads, then increments with the ETag it read.

    Nothing runs between its read and its write, so its save always succeeds."""
    def act(service: StateService) -> None:
        current = service.get(store, key)
        value = 0 if current is None else json.loads(current.data.decode("utf-8"))
        etag = None if current is None else current.etag or None
        service.save(store, [SaveItem(key, value + 1, etag=etag, concurrency="first-write")])
    return act
