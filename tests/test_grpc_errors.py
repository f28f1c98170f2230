"""The one table from the service's DaprError to a gRPC status (statelab/dapr/grpc_errors.py).

Errors no store of statelab can produce over the wire (G14: every store is transactional) are
checked here on the error the service would raise; the rest run end to end in test_grpc.py.
"""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2

from statelab.dapr import messages
from statelab.dapr.grpc_errors import grpc_code, to_status
from statelab.errors import DaprError


def _types(status) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.type_url.rsplit(".", 1)[-1] for d in status.details]


@pytest.mark.parametrize(("error", "code"), [
    (messages.store_not_configured("s", "app"), grpc.StatusCode.FAILED_PRECONDITION),  # G1
    (messages.store_not_found("s", "app"), grpc.StatusCode.INVALID_ARGUMENT),  # G2
    (messages.illegal_key("s", "a||b"), grpc.StatusCode.INVALID_ARGUMENT),  # G3
    (messages.grpc_empty_key(), grpc.StatusCode.INVALID_ARGUMENT),  # G4
    (messages.go_error("invalid character"), grpc.StatusCode.UNKNOWN),  # G5
    (messages.save_failed("s", 409, "x"), grpc.StatusCode.ABORTED),  # G6
    (messages.save_failed("s", 400, "x"), grpc.StatusCode.INVALID_ARGUMENT),  # G7
    (messages.save_failed("s", 500, "x"), grpc.StatusCode.INTERNAL),  # G8
    (messages.get_failed("k", "s", "x"), grpc.StatusCode.INTERNAL),  # G9
    (messages.delete_failed("k", 409, "x"), grpc.StatusCode.ABORTED),  # G10
    (messages.delete_failed("k", 500, "x"), grpc.StatusCode.INTERNAL),  # G11
    (messages.bulk_delete_failed("s", 409, "x"), grpc.StatusCode.ABORTED),  # G12
    (messages.transactions_not_supported("s"), grpc.StatusCode.UNIMPLEMENTED),  # G14
    (messages.operation_not_supported("UPSERT"), grpc.StatusCode.UNIMPLEMENTED),  # G15
    (messages.transaction_failed("x"), grpc.StatusCode.INTERNAL),  # G17
    (messages.query_not_supported("s"), grpc.StatusCode.INTERNAL),  # G18
    (messages.query_failed("s", "x"), grpc.StatusCode.INTERNAL),  # G19
    (messages.grpc_unauthorized(missing=True), grpc.StatusCode.UNAUTHENTICATED),  # G20
])
def test_codes(error: DaprError, code: grpc.StatusCode) -> None:
    assert grpc_code(error) == code
    status = to_status(error)
    assert status.code == code.value[0] and status.message == error.message


def test_basic_errors_carry_one_error_info_with_the_legacy_code() -> None:
    status = to_status(messages.save_failed("s", 409, "x"))
    assert _types(status) == ["ErrorInfo"]
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == ("ERR_STATE_SAVE", "dapr.io", {})


def test_g1_g2_have_no_app_id_on_grpc() -> None:
    for error in (messages.store_not_configured("s", "app"), messages.store_not_found("s", "a")):
        info = error_details_pb2.ErrorInfo()
        to_status(error).details[0].Unpack(info)
        assert dict(info.metadata) == {}


def test_g14_details_in_order() -> None:
    status = to_status(messages.transactions_not_supported("s"))
    assert status.message == "state store s doesn't support transactions"
    assert _types(status) == ["Help", "ResourceInfo", "ErrorInfo"]
    help_ = error_details_pb2.Help()
    status.details[0].Unpack(help_)
    assert help_.links[0].url == ("https://docs.dapr.io/reference/components-reference/"
                                  "supported-state-stores/")


def test_g5_has_no_details_and_g20_has_its_metadata() -> None:
    assert _types(to_status(messages.go_error("x"))) == []
    info = error_details_pb2.ErrorInfo()
    to_status(messages.grpc_unauthorized(missing=True)).details[0].Unpack(info)
    assert dict(info.metadata) == {"http.code": "401", "http.error_message":
                                   "missing api token in request metadata"}
