"""State store profiles: Dapr's Redis store and its in-memory store (see each module)."""

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
    "DeleteRequest",
    "EtagError",
    "GetResult",
    "SetRequest",
    "Store",
    "StoreError",
    "TransactionOperation",
]
