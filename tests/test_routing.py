"""daprd's routes for the state API (spec section 1)."""

from __future__ import annotations

import pytest

from statelab.dapr.messages import PlainTextError
from statelab.dapr.routing import clean_path, match_route


@pytest.mark.parametrize(("method", "path", "handler", "params"), [
    ("POST", "/v1.0/state/s", "save", {"storeName": "s"}),
    ("PUT", "/v1.0/state/s", "save", {"storeName": "s"}),
    ("GET", "/v1.0/state/s/k", "get", {"storeName": "s", "key": "k"}),
    ("DELETE", "/v1.0/state/s/k", "delete", {"storeName": "s", "key": "k"}),
    ("POST", "/v1.0/state/s/bulk", "bulk_get", {"storeName": "s"}),
    ("GET", "/v1.0/state/s/bulk", "get", {"storeName": "s", "key": "bulk"}),  # §1
    ("DELETE", "/v1.0/state/s/transaction", "delete", {"storeName": "s", "key": "transaction"}),
    ("PUT", "/v1.0/state/s/transaction", "transaction", {"storeName": "s"}),
    ("POST", "/v1.0-alpha1/state/s/query", "query", {"storeName": "s"}),
    ("GET", "/v1.0/state/s/a%2Fb", "get", {"storeName": "s", "key": "a/b"}),
    ("GET", "/v1.0/state/s/a+b", "get", {"storeName": "s", "key": "a b"}),
    ("GET", "//v1.0//state/s/k/", "get", {"storeName": "s", "key": "k"}),
    ("GET", "/v1.0/healthz", "healthz", {}),
    ("GET", "/v1.0/healthz/outbound", "healthz_outbound", {}),
    ("GET", "/v1.0/metadata", "metadata", {}),
    ("PUT", "/v1.0/metadata/color", "put_metadata", {"attributeName": "color"}),
])
def test_routes(method: str, path: str, handler: str, params: dict[str, str]) -> None:
    route = match_route(method, path)
    assert route is not None
    assert (route.handler, route.params) == (handler, params)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1.0/state/s/a/b"),     # a literal slash is another route: 404 fallback
    ("DELETE", "/v1.0/state/s"),      # no HTTP bulk delete (§14)
    ("PATCH", "/v1.0/state/s"),
    ("POST", "/v1.0/state/s/k"),
    ("HEAD", "/v1.0/state/s/k"),
    ("GET", "/v1.0/state/s/"),
    ("GET", "/v2/state/s/k"),
])
def test_unmatched_routes_fall_through(method: str, path: str) -> None:
    assert match_route(method, path) is None


def test_bad_escape_is_a_plain_text_400() -> None:
    with pytest.raises(PlainTextError) as info:
        match_route("GET", "/v1.0/state/s/%zz")
    assert info.value.status == 400
    assert info.value.body() == (b'failed to unescape request parameter "key". Error: '
                                 b'invalid URL escape "%zz"\n')


def test_clean_path() -> None:
    assert clean_path("//a///b/") == "/a/b"
    assert clean_path("/") == "/"
    assert clean_path("") == "/"
