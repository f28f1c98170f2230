"""Error wording and details as daprd writes them (statelab.dapr.messages, spec section 2)."""

from __future__ import annotations

from statelab.dapr import messages


def test_details_are_go_maps_with_sorted_keys() -> None:
    # dapr/kit convertErrorDetails builds map[string]any; json.Marshal sorts its keys.
    body = messages.illegal_key("s", "a||b").body()
    assert body == (
        b'{"errorCode":"ERR_MALFORMED_REQUEST","message":"input key/keyPrefix \'a||b\' can\'t '
        b'contain \'||\'","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest",'
        b'"field_violations":[{"field":"a||b","description":"input key/keyPrefix \'a||b\' '
        b'can\'t contain \'||\'"}]},{"@type":"type.googleapis.com/google.rpc.ResourceInfo",'
        b'"description":"","owner":"","resource_name":"s","resource_type":"state"},'
        b'{"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"dapr.io",'
        b'"metadata":null,"reason":"DAPR_STATE_ILLEGAL_KEY"}]}')
    for error in (messages.store_not_found("s", "app"), messages.store_not_configured("s", ""),
                  messages.transactions_not_supported("s"), messages.query_not_supported("s"),
                  messages.query_failed("s", "x"), messages.grpc_unauthorized(True)):
        for detail in error.details or ():
            assert list(detail) == sorted(detail), detail
            if isinstance(detail.get("metadata"), dict):
                assert list(detail["metadata"]) == sorted(detail["metadata"])


def test_http_handlers_wrap_the_illegal_key_error_again() -> None:
    inner = messages.illegal_key("s", "a||b")
    assert messages.is_illegal_key(inner)
    assert not messages.is_illegal_key(messages.store_not_found("s", "app"))
    wrapped = messages.illegal_key_over_http("s", None, inner)
    text = "api error: code = InvalidArgument desc = input key/keyPrefix 'a||b' can't contain '||'"
    assert wrapped.message == text
    assert wrapped.details is not None
    assert wrapped.details[0]["field_violations"] == [{"field": "a||b", "description": text}]
    # a transaction's handler has cleared the key: an empty field, left out (omitempty)
    cleared = messages.illegal_key_over_http("s", "", inner)
    assert cleared.details is not None
    assert cleared.details[0]["field_violations"] == [{"description": text}]


def test_body_read_and_invoke_errors() -> None:
    assert messages.body_read_failed("stream too large").body() == (
        b'{"errorCode":"ERR_BODY_READ","message":"failed to read request body: stream too '
        b'large"}')
    error = messages.direct_invoke_failed("x", "boom")
    assert (error.status, error.error_code, error.message) == (
        500, "ERR_DIRECT_INVOKE", "failed to invoke, id: x, err: boom")
