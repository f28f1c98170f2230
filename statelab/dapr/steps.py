"""Store calls as values: each operation is written once, and run synchronously or awaited.

A service operation (and a door's endpoint over it) is a generator that *yields* each store
call it needs as a :class:`StoreCall` and receives the store's answer back, or the store's
exception thrown in at the ``yield``, exactly as if it had called the store itself. Every rule
(the order of checks, ``_each``'s joined errors, the mapping of a ``StoreError`` onto Dapr's
error) stays in that one generator; two small drivers decide how a call runs:

* :func:`run` calls the synchronous store: the simulator, the in-process transport, the
  exercises and every embedded store use it;
* :func:`run_async` awaits a native asyncio store (a real Redis through ``redis.asyncio``,
  the replicated store's strong writes waiting with ``asyncio.sleep``) where a door has one
  for the component, and calls the synchronous store inline otherwise.

This is the "sans-I/O" shape of h11 and hyper-h2 applied to one state operation: no second
copy of any rule, no thread between an event loop and Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from statelab.stores.base import AsyncStore

if TYPE_CHECKING:
    from statelab.dapr.components import Component

__all__ = ["AsyncStores", "StoreCall", "Steps", "run", "run_async"]

T = TypeVar("T")
Method = Literal["get", "set", "delete", "multi"]


class StoreCall(NamedTuple):
    """One call of a component's store: ``component.open().<method>(*args)``. A named tuple:
    one is built per store call, and a frozen dataclass's ``__init__`` costs about 1 us."""

    component: Component
    method: Method
    args: tuple[Any, ...]

    def run(self) -> Any:
        return getattr(self.component.open(), self.method)(*self.args)

    @classmethod
    def get(cls, component: Component, key: str, metadata: dict[str, str],
            consistency: str = "") -> StoreCall:
        """``get(key, metadata[, consistency])``: without a consistency the call is
        ``get(key, metadata)``, as bulk reads always made it."""
        return cls(component, "get",
                   (key, metadata, consistency) if consistency else (key, metadata))

    async def run_on(self, store: AsyncStore) -> Any:
        return await getattr(store, self.method)(*self.args)


#: An operation: yields store calls, receives their answers, returns its result.
Steps = Generator[StoreCall, Any, T]
#: A door's native asyncio stores: the one for a component, or None (use the synchronous one).
AsyncStores = Callable[["Component"], AsyncStore | None]


# -- the two drivers ------------------------------------------------------------------------------

def run(steps: Steps[T]) -> T:
    """Run an operation, calling each store synchronously in this thread.

    Any exception of a store call is thrown into the operation at its ``yield``, so the
    operation's own ``try``/``except`` sees it as from a direct call."""
    try:
        call = next(steps)
        while True:
            try:
                answer = call.run()
            except Exception as exc:  # noqa: BLE001 - handed to the operation, as raised
                call = steps.throw(exc)
            else:
                call = steps.send(answer)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_async(steps: Steps[T], stores: AsyncStores) -> T:
    """Run an operation on an event loop: a store call is awaited on the door's native
    asyncio store for its component, or made inline on the synchronous store (an embedded,
    CPU-bound store: a thread hop would cost more than the call)."""
    try:
        call = next(steps)
        while True:
            native = stores(call.component)
            try:
                answer = call.run() if native is None else await call.run_on(native)
            except Exception as exc:  # noqa: BLE001 - handed to the operation, as raised
                call = steps.throw(exc)
            else:
                call = steps.send(answer)
    except StopIteration as done:
        result: T = done.value
        return result
