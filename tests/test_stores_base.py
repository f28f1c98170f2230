"""The Store protocol and the request types every store shares (statelab/stores/base.py)."""

from __future__ import annotations

from dataclasses import fields

import fakeredis
import pytest

from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    KeyRequest,
    SetRequest,
    Store,
    StoreError,
    check_request_options,
)
from statelab.stores.memory import MemoryStore
from statelab.stores.redis.model import RedisModelStore
from statelab.stores.redis.store import RedisStore
from statelab.stores.replicated import ReplicatedStore


def every_store() -> list[object]:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    return [MemoryStore(), RedisStore(client), RedisStore(client, scripts="lua"),
            RedisModelStore(), ReplicatedStore(wait="report")]


@pytest.mark.parametrize("store", every_store(), ids=lambda s: type(s).__name__)
def test_every_store_is_a_store(store: object) -> None:
    """At run time; ``mypy --strict`` checks the same at each class (``_CONFORMS``)."""
    assert isinstance(store, Store)
    assert isinstance(store.features, tuple) and "ETAG" in store.features
    assert all(isinstance(name, str) for name in store.features)


def test_a_class_without_the_calls_is_not_a_store() -> None:
    class Partial:
        features = ("ETAG",)

        def get(self, key: str, metadata: dict[str, str]) -> None:
            return None

    assert not isinstance(Partial(), Store)


def test_requests_share_the_key_and_options() -> None:
    save = SetRequest("k", {"n": 1}, etag="3", concurrency="first-write")
    delete = DeleteRequest("k", etag="3", consistency="strong")
    assert isinstance(save, KeyRequest) and isinstance(delete, KeyRequest)
    assert (save.key, save.value, save.etag, save.metadata) == ("k", {"n": 1}, "3", {})
    assert [f.name for f in fields(DeleteRequest)] == [
        "key", "etag", "metadata", "concurrency", "consistency"]
    with pytest.raises(TypeError):
        SetRequest("k", 1, "3")  # the options are keyword-only


@pytest.mark.parametrize("etag", [None, ""])
def test_an_empty_etag_is_no_etag(etag: str | None) -> None:
    assert not SetRequest("k", 1, etag=etag).has_etag
    assert not DeleteRequest("k", etag=etag).has_etag
    assert DeleteRequest("k", etag="0").has_etag


def test_request_options_are_checked_consistency_first() -> None:
    check_request_options("first-write", "strong")
    with pytest.raises(StoreError, match="^unrecognized consistency model 'x'$"):
        check_request_options("y", "x")
    with pytest.raises(StoreError, match="^unrecognized concurrency model 'y'$"):
        check_request_options("y", "")


def test_etag_errors_carry_their_kind_and_cause() -> None:
    error = EtagError("mismatch", "boom")
    assert (error.kind, error.cause) == ("mismatch", "boom")
    assert str(error) == "possible etag mismatch. error from state store: boom"
    assert str(EtagError("invalid", "x")) == "invalid etag value: x"
