"""Dapr's errors as gRPC statuses: the one table from a :class:`DaprError` to a gRPC answer.

The state service raises the same :class:`~statelab.errors.DaprError` for both doors; the HTTP
door writes its status and JSON body, and this module turns it into what daprd's gRPC API sends
(``shared/dapr-grpc-state-api.md``, sections 2 and 3, "G" numbers): a ``google.rpc.Status``
with the gRPC code, the bare message and the details, in the ``grpc-status-details-bin``
trailer. The SDK's ``DaprGrpcError`` re-reads that trailer and raises ``ValueError`` if its code
or message differ from the call's, so both come from the same place here.

* Rich errors (daprd's kit errors: G1-G3, G14, G18-G20) keep their details in order, converted
  from the dicts :mod:`statelab.dapr.messages` builds; their ``ErrorInfo.reason`` picks the
  code (two different errors share the HTTP ``errorCode`` ``ERR_STATE_STORE_NOT_SUPPORTED``).
* "Basic" errors (save, get, delete, transaction: G4, G6-G12, G15, G17) get exactly one
  ``ErrorInfo{reason=<errorCode>, domain="dapr.io"}``; their code follows the HTTP status
  (409 ``ABORTED``, 400 ``INVALID_ARGUMENT``, 500 ``INTERNAL``) unless the table says otherwise.
* A raw Go error (:data:`~statelab.dapr.messages.GO_ERROR`, G5) is ``UNKNOWN`` with no details.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2

from statelab.dapr import messages
from statelab.errors import DaprError

__all__ = ["grpc_code", "to_status"]

#: ``ErrorInfo.reason`` (or the basic error's ``errorCode``) -> the gRPC code, where the HTTP
#: status alone does not decide it (spec section 7).
_BY_REASON: dict[str, grpc.StatusCode] = {
    "DAPR_STATE_NOT_CONFIGURED": grpc.StatusCode.FAILED_PRECONDITION,           # G1
    "DAPR_STATE_NOT_FOUND": grpc.StatusCode.INVALID_ARGUMENT,                   # G2
    "DAPR_STATE_ILLEGAL_KEY": grpc.StatusCode.INVALID_ARGUMENT,                 # G3
    "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED": grpc.StatusCode.UNIMPLEMENTED,     # G14
    "ERR_NOT_SUPPORTED_STATE_OPERATION": grpc.StatusCode.UNIMPLEMENTED,         # G15
    "DAPR_STATE_TOO_MANY_TRANSACTIONS": grpc.StatusCode.INVALID_ARGUMENT,       # G16
    "ERR_STATE_TRANSACTION": grpc.StatusCode.INTERNAL,                          # G17, never ABORTED
    "DAPR_STATE_QUERYING_NOT_SUPPORTED": grpc.StatusCode.INTERNAL,              # G18
    "DAPR_STATE_QUERY_FAILED": grpc.StatusCode.INTERNAL,                        # G19
    "Unauthorized": grpc.StatusCode.UNAUTHENTICATED,                            # G20
    messages.GO_ERROR: grpc.StatusCode.UNKNOWN,                                 # G5, G13
}

#: The rest (G4, G6-G12): daprd's ``getStateErrorCode``-style choice by the HTTP status.
_BY_STATUS: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    409: grpc.StatusCode.ABORTED,
    500: grpc.StatusCode.INTERNAL,
}

#: Reasons whose ErrorInfo metadata gRPC leaves out: daprd's gRPC ``GetStateStore`` passes an
#: empty app id, so G1 and G2 have no ``appID`` entry (the HTTP door's E1/E2 have one).
_NO_APP_ID = frozenset({"DAPR_STATE_NOT_CONFIGURED", "DAPR_STATE_NOT_FOUND"})

_DETAIL_TYPES: dict[str, type[Any]] = {
    "type.googleapis.com/google.rpc.ErrorInfo": error_details_pb2.ErrorInfo,
    "type.googleapis.com/google.rpc.ResourceInfo": error_details_pb2.ResourceInfo,
    "type.googleapis.com/google.rpc.BadRequest": error_details_pb2.BadRequest,
    "type.googleapis.com/google.rpc.Help": error_details_pb2.Help,
}


def _reason(error: DaprError) -> str:
    for detail in error.details or ():
        if detail.get("@type", "").endswith("google.rpc.ErrorInfo"):
            return str(detail.get("reason", ""))
    return error.error_code


def grpc_code(error: DaprError) -> grpc.StatusCode:
    """The gRPC code daprd answers for *error* (the table above, then the HTTP status)."""
    found = _BY_REASON.get(_reason(error))
    if found is not None:
        return found
    return _BY_STATUS.get(error.status, grpc.StatusCode.UNKNOWN)


def _detail(detail: dict[str, Any], reason: str) -> any_pb2.Any:
    fields = {k: v for k, v in detail.items() if k != "@type" and v is not None}
    if reason in _NO_APP_ID:
        fields.pop("metadata", None)
    message = json_format.ParseDict(fields, _DETAIL_TYPES[detail["@type"]]())
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: DaprError) -> status_pb2.Status:
    """The ``google.rpc.Status`` of *error*: code, bare message, details in daprd's order."""
    code = grpc_code(error)
    status = status_pb2.Status(code=code.value[0], message=error.message)
    if error.details:
        reason = _reason(error)
        status.details.extend(_detail(d, reason) for d in error.details)
    elif error.error_code != messages.GO_ERROR:
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=error.error_code, domain="dapr.io"))
        status.details.append(info)
    return status
