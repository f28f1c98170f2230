"""The sans-I/O core of the Redis store: what each operation sends and how answers read.

(statelab/stores/redis/plan.py.) The doors that run these plans (RedisStore, its fakeredis
fast path, the simulator's model) are compared with each other and with a real server in
tests/test_redis_store.py, tests/test_fakeredis_direct.py and tests/test_redis_model.py.
"""

from __future__ import annotations

import pytest

from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    GetResult,
    SetRequest,
    StoreError,
    TransactionOperation,
)
from statelab.stores.redis.plan import (
    DeletePlan,
    SavePlan,
    delete_failed,
    expected_version,
    plan_delete,
    plan_save,
    plan_transaction,
    read_hash,
    read_plain,
    save_failed,
    transaction_failed,
    ttl_seconds,
    waits_for_replicas,
)


@pytest.mark.parametrize(("etag", "concurrency", "expected"), [
    (None, "", "0"), ("", "first-write", "0"), ("7", "last-write", "0"), ("7", "", "7"),
    ("007", "first-write", "7"), ("+3", "", "3"), ("-3", "", "-3"),
    (str(2**63 - 1), "", str(2**63 - 1))])
def test_expected_version_is_parse_etag(etag: str | None, concurrency: str,
                                        expected: str) -> None:
    assert expected_version(SetRequest("k", 1, etag=etag, concurrency=concurrency)) == expected


@pytest.mark.parametrize("etag", ["abc", str(2**63), "1.5"])
def test_an_etag_that_is_not_an_int64_is_invalid(etag: str) -> None:
    with pytest.raises(EtagError) as error:
        expected_version(SetRequest("k", 1, etag=etag))
    assert error.value.kind == "invalid"
    assert error.value.cause.startswith(f'strconv.Atoi: parsing "{etag}": ')


def test_ttl_comes_from_metadata_or_the_component_default() -> None:
    assert ttl_seconds(SetRequest("k", 1), None) is None
    assert ttl_seconds(SetRequest("k", 1), 30) == 30
    assert ttl_seconds(SetRequest("k", 1, metadata={"ttlInSeconds": "-1"}), 30) == -1
    with pytest.raises(StoreError, match='^failed to parse ttl from metadata: strconv.ParseInt'):
        ttl_seconds(SetRequest("k", 1, metadata={"ttlInSeconds": "soon"}), None)


def test_a_save_plan() -> None:
    plan = plan_save(SetRequest("k", {"b": 1, "a": "<"}, etag="4", concurrency="first-write",
                                metadata={"ttlInSeconds": "9"}), None)
    assert plan == SavePlan("k", "4", b'{"b":1,"a":"<"}', True, 9)
    assert plan.script_args == ("4", b'{"b":1,"a":"<"}', "0")
    assert plan.expiry_command() == ("EXPIRE", "k", 9)
    assert plan_save(SetRequest("k", 1), None).script_args == ("0", b"1", "1")
    assert plan_save(SetRequest("k", 1), None).expiry_command() is None
    assert plan_save(SetRequest("k", 1), 0).expiry_command() == ("PERSIST", "k")


def test_a_save_checks_options_then_etag_then_ttl() -> None:
    bad_all = SetRequest("k", 1, etag="x", consistency="weird",
                         metadata={"ttlInSeconds": "x"})
    with pytest.raises(StoreError, match="unrecognized consistency model"):
        plan_save(bad_all, None)
    bad_all.consistency = ""
    with pytest.raises(EtagError):
        plan_save(bad_all, None)
    bad_all.etag = None
    with pytest.raises(StoreError, match="failed to parse ttl"):
        plan_save(bad_all, None)


def test_a_delete_plan() -> None:
    assert plan_delete(DeleteRequest("k")) == DeletePlan("k", "0")
    assert plan_delete(DeleteRequest("k", etag="abc")).script_args == ("abc",)
    with pytest.raises(StoreError, match="unrecognized concurrency model 'x'"):
        plan_delete(DeleteRequest("k", concurrency="x"))


def test_a_transaction_passes_no_first_write_and_checks_no_options() -> None:
    plans = plan_transaction([
        TransactionOperation("upsert", SetRequest("a", 1, concurrency="first-write",
                                                  consistency="weird")),
        TransactionOperation("delete", DeleteRequest("b", etag="2", concurrency="odd"))], 5)
    assert plans == [SavePlan("a", "0", b"1", None, 5), DeletePlan("b", "2")]
    save = plans[0]
    assert isinstance(save, SavePlan) and save.script_args == ("0", b"1")
    with pytest.raises(EtagError):
        plan_transaction([TransactionOperation("upsert", SetRequest("a", 1, etag="x"))], None)


def test_failures_read_as_daprs_errors() -> None:
    failed = save_failed(SetRequest("k", 1, etag="3"), "ERR boom")
    assert isinstance(failed, EtagError) and failed.kind == "mismatch"
    failed = save_failed(SetRequest("k", 1, etag=""), "ERR boom")
    assert type(failed) is StoreError and str(failed) == "failed to set key k: ERR boom"
    assert str(delete_failed("ERR x")) == "possible etag mismatch. error from state store: ERR x"
    assert type(transaction_failed("ERR y")) is StoreError


def test_reading_a_hash_or_a_plain_value() -> None:
    assert read_hash({}) is None
    assert read_hash({b"data": b"1", b"version": b"2"}) == GetResult(b"1", "2")
    with pytest.raises(StoreError, match="required hash field 'data' or 'version'"):
        read_hash({b"data": b"1"})
    assert read_plain(None) is None
    assert read_plain(b"raw") == GetResult(b"raw", None)


def test_only_strong_saves_wait_and_only_with_replicas() -> None:
    strong = SetRequest("k", 1, consistency="strong")
    assert waits_for_replicas(strong, 1)
    assert not waits_for_replicas(strong, 0)
    assert not waits_for_replicas(SetRequest("k", 1, consistency="eventual"), 2)


def test_bytes_values_are_stored_verbatim() -> None:
    """gRPC spec 4.6: the gRPC door hands raw bytes over; Redis keeps them as they are (no
    JSON quoting, no base64), while decoded JSON values are still encoded as on HTTP."""
    from statelab.stores.redis.plan import encode

    assert encode(b"hello") == b"hello"
    assert encode(b"\x00\xff") == b"\x00\xff"
    assert encode("hello") == b'"hello"'
    assert plan_save(SetRequest("k", b'"q"'), None).data == b'"q"'
