"""Every error daprd's state API answers, in one place (spec section 2).

Each builder returns a :class:`~statelab.errors.DaprError`: the HTTP status, Dapr's legacy
``errorCode``, the message with Dapr's exact wording, and, for the "rich" errors current Dapr
sends (v1.13+), the ``details`` array. The state service raises them; the doors serialise them.
"""

from __future__ import annotations

from typing import Any

from statelab.errors import DaprError, EtagMismatchError, PlainTextError

__all__ = [
    "BODY_TOO_LARGE",
    "GO_ERROR",
    "body_read_failed",
    "bulk_delete_failed",
    "delete_failed",
    "direct_invoke_failed",
    "direct_invoke_fallback",
    "get_failed",
    "go_error",
    "grpc_empty_key",
    "grpc_unauthorized",
    "grpc_unimplemented",
    "health_app_id_mismatch",
    "illegal_key",
    "illegal_key_over_http",
    "invalid_api_token",
    "is_illegal_key",
    "malformed",
    "malformed_body",
    "operation_not_supported",
    "query_failed",
    "query_not_supported",
    "save_failed",
    "store_not_configured",
    "store_not_found",
    "transaction_failed",
    "transactions_not_supported",
    "unescape_failed",
]

_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_RESOURCE_INFO = "type.googleapis.com/google.rpc.ResourceInfo"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_HELP = "type.googleapis.com/google.rpc.Help"
_SUPPORTED_STORES_URL = (
    "https://docs.dapr.io/reference/components-reference/supported-state-stores/")


# dapr/kit's ``convertErrorDetails`` (errors/errors.go) turns each detail into a Go map, and
# ``json.Marshal`` writes map keys sorted: the dicts below are built in that order, so the HTTP
# body is daprd's byte for byte. Nested messages (a BadRequest's field violations, a Help's
# links) stay protobuf structs, written in field order with empty fields left out (omitempty).

def _error_info(reason: str, metadata: dict[str, str] | None) -> dict[str, Any]:
    return {"@type": _ERROR_INFO, "domain": "dapr.io",
            "metadata": None if metadata is None else dict(sorted(metadata.items())),
            "reason": reason}


def _app(app_id: str) -> dict[str, str] | None:
    return {"appID": app_id} if app_id else None


def _resource_info(store: str) -> dict[str, Any]:
    return {"@type": _RESOURCE_INFO, "description": "", "owner": "", "resource_name": store,
            "resource_type": "state"}


def _bad_request(field: str, description: str) -> dict[str, Any]:
    violation = {"field": field, "description": description} if field \
        else {"description": description}
    return {"@type": _BAD_REQUEST, "field_violations": [violation]}


def _kit_text(grpc_code: str, message: str) -> str:
    """dapr/kit's ``Error.Error()``: what a handler gets from ``err.Error()`` on a kit error."""
    return f"api error: code = {grpc_code} desc = {message}"


# -- E1, E2, E3: store lookup and key checks (rich errors) -------------------------------------

def store_not_configured(store: str, app_id: str) -> DaprError:
    """E1: no state store at all. 500, checked before the store name."""
    return DaprError(500, "ERR_STATE_STORE_NOT_CONFIGURED",
                     f"state store {store} is not configured",
                     [_error_info("DAPR_STATE_NOT_CONFIGURED", _app(app_id))])


def store_not_found(store: str, app_id: str) -> DaprError:
    """E2: unknown store name. 400."""
    return DaprError(400, "ERR_STATE_STORE_NOT_FOUND", f"state store {store} is not found",
                     [_error_info("DAPR_STATE_NOT_FOUND", _app(app_id))])


def illegal_key(store: str, key: str, message: str | None = None) -> DaprError:
    """E3: a key containing Dapr's ``||`` separator, as ``GetModifiedStateKey`` builds it
    (``InvalidKeyName`` in pkg/api/errors/state.go; the gRPC door answers it as is)."""
    if message is None:
        message = f"input key/keyPrefix '{key}' can't contain '||'"
    return DaprError(400, "ERR_MALFORMED_REQUEST", message, [
        _bad_request(key, message),
        _resource_info(store),
        _error_info("DAPR_STATE_ILLEGAL_KEY", None),
    ])


def is_illegal_key(error: DaprError) -> bool:
    """Whether *error* is E3 (its ErrorInfo reason is ``DAPR_STATE_ILLEGAL_KEY``)."""
    return any(d.get("@type") == _ERROR_INFO and d.get("reason") == "DAPR_STATE_ILLEGAL_KEY"
               for d in error.details or ())


def illegal_key_over_http(store: str, field: str | None, error: DaprError) -> DaprError:
    """E3 as daprd's HTTP handlers answer it: each calls
    ``InvalidKeyName(key, err.Error())`` on ``GetModifiedStateKey``'s kit error again
    (``onGetState``, ``onDeleteState``, ``onBulkGetState``, ``onPostState``,
    ``onPostStateTransaction`` in pkg/api/http/http.go), so the message is the kit text of
    the first error. *field* is the key the handler still holds: the key, except in a
    transaction, where the decoded request's ``Key`` was already cleared (pass ``""``);
    None keeps the field of *error*."""
    if field is None:
        bad_request = next(d for d in error.details or () if d.get("@type") == _BAD_REQUEST)
        field = bad_request["field_violations"][0].get("field", "")
    return illegal_key(store, field, _kit_text("InvalidArgument", error.message))


def malformed(message: str) -> DaprError:
    """E4/E5: the raw decoder text (or the required-key message), no prefix."""
    return DaprError(400, "ERR_MALFORMED_REQUEST", message)


def malformed_body(detail: str) -> DaprError:
    """E12/E15: bulk and transaction bodies that do not decode."""
    return DaprError(400, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {detail}")


# -- E6, E7, E8: save ----------------------------------------------------------------------------

def _answer(status: int, error_code: str, message: str) -> DaprError:
    """A 409 is an ETag conflict: Python callers can catch it as :class:`EtagMismatchError`."""
    kind = EtagMismatchError if status == 409 else DaprError
    return kind(status, error_code, message)


def save_failed(store: str, status: int, detail: str) -> DaprError:
    """E6 (409 etag mismatch), E7 (400 invalid etag), E8 (500 anything else)."""
    return _answer(status, "ERR_STATE_SAVE",
                   f"failed saving state in state store {store}: {detail}")


# -- E9: get, E10/E11: delete, E13: bulk ---------------------------------------------------------

def get_failed(key: str, store: str, detail: str) -> DaprError:
    return DaprError(500, "ERR_STATE_GET", f"fail to get {key} from state store {store}: {detail}")


def delete_failed(key: str, status: int, detail: str) -> DaprError:
    """E10 (409) and E11 (500). The store name is not part of Dapr's message."""
    return _answer(status, "ERR_STATE_DELETE", f"failed deleting state with key {key}: {detail}")


def bulk_delete_failed(store: str, status: int, detail: str) -> DaprError:
    """gRPC G12 (``DeleteBulkState``; HTTP has no bulk delete): 409 ABORTED on an ETag
    mismatch, 400 on an invalid ETag, 500 otherwise; the store name is in the message."""
    return _answer(status, "ERR_STATE_BULK_DELETE",
                   f"failed deleting state in state store {store}: {detail}")


# -- E14 to E18: transactions --------------------------------------------------------------------

def transactions_not_supported(store: str) -> DaprError:
    return DaprError(500, "ERR_STATE_STORE_NOT_SUPPORTED",
                     f"state store {store} doesn't support transactions", [
                         {"@type": _HELP, "links": [{
                             "description": "Check the list of state stores and the features "
                                            "they support",
                             "url": _SUPPORTED_STORES_URL}]},
                         _resource_info(store),
                         _error_info("DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED", None),
                     ])


def operation_not_supported(operation: str) -> DaprError:
    return DaprError(400, "ERR_NOT_SUPPORTED_STATE_OPERATION",
                     f"operation type {operation} not supported")


def transaction_failed(detail: str) -> DaprError:
    """E18: every store failure, ETag mismatches included, is a 500 (never 409)."""
    return DaprError(500, "ERR_STATE_TRANSACTION",
                     f"error while executing state transaction: {detail}")


# -- E19, E20: query -----------------------------------------------------------------------------

def query_not_supported(store: str) -> DaprError:
    return DaprError(500, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying",
                     [_resource_info(store),
                      _error_info("DAPR_STATE_QUERYING_NOT_SUPPORTED", None)])


def query_failed(store: str, detail: str) -> DaprError:
    return DaprError(500, "ERR_STATE_QUERY", f"state store {store} query failed: {detail}",
                     [_resource_info(store), _error_info("DAPR_STATE_QUERY_FAILED", None)])


# -- routing, health, auth -----------------------------------------------------------------------

def direct_invoke_fallback() -> DaprError:
    """Unmatched routes fall through to service invocation, which wants an app id."""
    return DaprError(404, "ERR_DIRECT_INVOKE",
                     "failed getting app id either from the URL path or the header dapr-app-id")


def direct_invoke_failed(app_id: str, detail: str) -> DaprError:
    """``ErrDirectInvoke`` (pkg/messages/predefined.go): an app id was found but the call
    failed, for statelab always before reaching an app (it serves no app)."""
    return DaprError(500, "ERR_DIRECT_INVOKE", f"failed to invoke, id: {app_id}, err: {detail}")


def body_read_failed(detail: str) -> DaprError:
    """``ErrBodyRead``: a handler that reads the raw body (``PUT /v1.0/metadata/{key}``) and
    fails, e.g. past ``--max-body-size`` (dapr/kit's ``stream too large``)."""
    return DaprError(400, "ERR_BODY_READ", f"failed to read request body: {detail}")


def health_app_id_mismatch() -> DaprError:
    return DaprError(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match")


def invalid_api_token() -> PlainTextError:
    return PlainTextError(401, "invalid api token")


def unescape_failed(param: str, detail: str) -> PlainTextError:
    return PlainTextError(400, f'failed to unescape request parameter "{param}". Error: {detail}')


# -- gRPC only (docs: shared/dapr-grpc-state-api.md, section 3) ----------------------------------

#: The ``error_code`` of a raw Go error that daprd returns unwrapped: grpc-go answers it as
#: ``UNKNOWN`` with the error's text and no details (G5, G13).
GO_ERROR = ""


def go_error(text: str) -> DaprError:
    """G5: a Go error returned as is (``json.Unmarshal``'s text on a bad JSON value)."""
    return DaprError(500, GO_ERROR, text)


def grpc_empty_key() -> DaprError:
    """G4: ``SaveState`` with an item whose key is empty (HTTP says E5's wording instead)."""
    return DaprError(400, "ERR_STATE_SAVE", "state key cannot be empty")


def grpc_unauthorized(missing: bool) -> DaprError:
    """G20: messaging's ``ErrorFromHTTPResponseCode(401, detail)``; the detail is cut to 63
    characters, as daprd cuts it."""
    detail = ("missing api token in request metadata" if missing
              else "authentication error: api token mismatch")
    return DaprError(401, "Unauthorized", "Unauthorized", [_error_info(
        "Unauthorized", {"http.code": "401", "http.error_message": detail[:63]})])


def grpc_unimplemented(rpc: str, block: str) -> str:
    """The text of ``UNIMPLEMENTED`` for an RPC of another building block (statelab's own
    wording: daprd implements them all)."""
    return f"statelab emulates only the state API; {rpc} ({block}) is not available"


# The body size limit: dapr/kit's LimitReadCloser error text (read in the kit source, not
# observed against daprd); the decoder then reports it like any other malformed body.
BODY_TOO_LARGE = "stream too large"
