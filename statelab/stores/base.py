"""What every store profile offers the API layer, and the errors stores raise.

A store sees keys *after* Dapr's key prefixing and values *after* Go-style JSON decoding; it
owns the encoding of values into stored bytes, because that encoding differs between Dapr's
components (spec section 3.4). Errors carry the component's own wording, which daprd then
wraps into its ``errorCode``/``message`` answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "AsyncStore",
    "DeleteRequest",
    "EtagError",
    "ExpirySweeper",
    "GetResult",
    "KeyRequest",
    "SetRequest",
    "Store",
    "StoreError",
    "TransactionOperation",
    "check_request_options",
]

CONCURRENCY_VALUES = ("", "first-write", "last-write")
CONSISTENCY_VALUES = ("", "strong", "eventual")


class StoreError(Exception):
    """A component failure; ``str()`` is the text the component's Go code would produce."""


class EtagError(StoreError):
    """components-contrib's ``ETagError``: daprd answers 409 for a mismatch, 400 if invalid."""

    PREFIXES = {
        "mismatch": "possible etag mismatch. error from state store",
        "invalid": "invalid etag value",
    }

    def __init__(self, kind: Literal["mismatch", "invalid"], cause: str) -> None:
        self.kind = kind
        self.cause = cause
        super().__init__(f"{self.PREFIXES[kind]}: {cause}")


@dataclass
class KeyRequest:
    """What a save and a delete share: the key (already prefixed) and Dapr's request options.

    The options are keyword-only so that :class:`SetRequest` keeps ``(key, value)`` as its
    positional pair.
    """

    key: str
    _: KW_ONLY
    etag: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    concurrency: str = ""
    consistency: str = ""

    @property
    def has_etag(self) -> bool:
        """Dapr's ``HasETag``: an empty string counts as no etag (spec S11)."""
        return bool(self.etag)


@dataclass
class SetRequest(KeyRequest):
    """One item to save. ``value`` is decoded JSON; the store owns its encoding."""

    value: Any


@dataclass
class DeleteRequest(KeyRequest):
    """One key to delete."""


@dataclass
class TransactionOperation:
    """An ``upsert`` (carrying a :class:`SetRequest`) or a ``delete``."""

    operation: Literal["upsert", "delete"]
    request: SetRequest | DeleteRequest


@dataclass
class GetResult:
    """What a store returns for a key that exists: the stored bytes, verbatim."""

    data: bytes
    etag: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def check_request_options(concurrency: str, consistency: str) -> None:
    """components-contrib's ``CheckRequestOptions``: unknown words are a store error (500).
    Consistency is checked first, as in ``state/request_options.go``."""
    if consistency not in CONSISTENCY_VALUES:
        raise StoreError(f"unrecognized consistency model '{consistency}'")
    if concurrency not in CONCURRENCY_VALUES:
        raise StoreError(f"unrecognized concurrency model '{concurrency}'")


@runtime_checkable
class Store(Protocol):
    """The component interface the API layer calls. All methods are synchronous.

    ``features`` is read-only here so that a class constant satisfies it; the component type
    names (``state.redis`` ...) belong to the registry that builds stores, not to the stores.
    """

    @property
    def features(self) -> tuple[str, ...]:
        """Dapr's feature names for this component (``ETAG``, ``TRANSACTIONAL``, ...)."""

    @property
    def note(self) -> str | None:
        """One line for people when the store runs in a degraded way (None when it does not):
        the sidecar shows it in its description."""

    def get(self, key: str, metadata: dict[str, str], consistency: str = "") -> GetResult | None:
        """Return the stored item, or None when the key is missing or expired.

        *consistency* is the request's ``consistency`` query parameter, unvalidated (spec §4);
        Redis and in-memory ignore it, the replicated store routes reads by it.
        """

    def set(self, request: SetRequest) -> None:
        """Save one item or raise :class:`StoreError` / :class:`EtagError`."""

    def delete(self, request: DeleteRequest) -> None:
        """Delete one item or raise :class:`StoreError` / :class:`EtagError`."""

    def multi(self, operations: Sequence[TransactionOperation], metadata: dict[str, str]) -> None:
        """Run a transaction, with this component's own atomicity (or lack of it)."""

    def reset(self) -> None:
        """Forget every key this store holds (for exercises and tests)."""

    def close(self) -> None:
        """Release connections and background work."""


class AsyncStore(Protocol):
    """The same component, awaited: a store that waits on a network server (or on a timer)
    without holding a thread. A door that runs on an event loop builds one per component that
    has it (``StoreType.asynchronous`` in the registry) and awaits it in place of the
    synchronous store; the answers, errors and atomicity are the same, call for call.
    """

    async def get(self, key: str, metadata: dict[str, str],
                  consistency: str = "") -> GetResult | None: ...

    async def set(self, request: SetRequest) -> None: ...

    async def delete(self, request: DeleteRequest) -> None: ...

    async def multi(self, operations: Sequence[TransactionOperation],
                    metadata: dict[str, str]) -> None: ...

    async def aclose(self) -> None:
        """Release this door's connections (the synchronous store is not touched)."""


@runtime_checkable
class ExpirySweeper(Protocol):
    """A store whose expired items stay in memory until read, unless someone sweeps them.

    Redis reclaims expired keys nobody reads with its active expiry cycle, and daprd's in-memory
    store with a cleanup goroutine once a second; a store that has to be told (fakeredis, the
    in-memory store here) implements this, and the sidecar calls it in the background.
    """

    def sweep_expired(self) -> None:
        """Reclaim expired items (a bounded amount of work per call)."""
