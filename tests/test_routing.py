"""daprd's routes for the state API (spec section 1)."""

from __future__ import annotations

import pytest

from statelab.errors import PlainTextError
from statelab.dapr.http import ROUTER
from statelab.dapr.routing import Route, Router, clean_path


def match_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The matched route's pattern and its decoded parameters (None: the invoke fallback)."""
    found = ROUTER.match(method, path)
    if found is None or found.route is ROUTER.fallback:
        return None
    return found.route.pattern, found.params


STATE = "/v1.0/state/{storeName}"


@pytest.mark.parametrize(("method", "path", "pattern", "params"), [
    ("POST", "/v1.0/state/s", STATE, {"storeName": "s"}),
    ("PUT", "/v1.0/state/s", STATE, {"storeName": "s"}),
    ("GET", "/v1.0/state/s/k", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("DELETE", "/v1.0/state/s/k", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("POST", "/v1.0/state/s/bulk", STATE + "/bulk", {"storeName": "s"}),
    ("GET", "/v1.0/state/s/bulk", STATE + "/{key}", {"storeName": "s", "key": "bulk"}),  # §1
    ("DELETE", "/v1.0/state/s/transaction", STATE + "/{key}",
     {"storeName": "s", "key": "transaction"}),
    ("PUT", "/v1.0/state/s/transaction", STATE + "/transaction", {"storeName": "s"}),
    ("POST", "/v1.0-alpha1/state/s/query", "/v1.0-alpha1/state/{storeName}/query",
     {"storeName": "s"}),
    ("GET", "/v1.0/state/s/a%2Fb", STATE + "/{key}", {"storeName": "s", "key": "a/b"}),
    ("GET", "/v1.0/state/s/a+b", STATE + "/{key}", {"storeName": "s", "key": "a b"}),
    ("GET", "//v1.0//state/s/k/", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    # Go's path.Clean of the escaped path (CleanPathMiddleware): dots resolve before routing
    ("GET", "/v1.0/./state/s/k", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("GET", "/v1.0/state/s/./k", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("GET", "/v1.0/state/other/../s/k", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("DELETE", "/v1.0/state/s/k/.", STATE + "/{key}", {"storeName": "s", "key": "k"}),
    ("POST", "/v1.0/state/s/.", STATE, {"storeName": "s"}),
    ("GET", "/v1.0/state/s/%2E", STATE + "/{key}", {"storeName": "s", "key": "."}),
    ("GET", "/v1.0/state/s/%2E%2E", STATE + "/{key}", {"storeName": "s", "key": ".."}),
    ("GET", "/v1.0/healthz", "/v1.0/healthz", {}),
    ("GET", "/v1.0/healthz/outbound", "/v1.0/healthz/outbound", {}),
    ("GET", "/v1.0/metadata", "/v1.0/metadata", {}),
    ("PUT", "/v1.0/metadata/color", "/v1.0/metadata/{attributeName}",
     {"attributeName": "color"}),
])
def test_routes(method: str, path: str, pattern: str, params: dict[str, str]) -> None:
    assert match_route(method, path) == (pattern, params)


def test_only_health_answers_without_the_token() -> None:
    assert sorted(r.pattern for r in ROUTER.routes if r.public) == [
        "/v1.0/healthz", "/v1.0/healthz/outbound"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1.0/state/s/a/b"),     # a literal slash is another route: 404 fallback
    ("DELETE", "/v1.0/state/s"),      # no HTTP bulk delete (§14)
    ("PATCH", "/v1.0/state/s"),
    ("POST", "/v1.0/state/s/k"),
    ("HEAD", "/v1.0/state/s/k"),
    ("GET", "/v1.0/state/s/"),
    ("GET", "/v2/state/s/k"),
    ("GET", "/v1.0/state/s/."),       # path.Clean: the store's path, which has no GET
    ("DELETE", "/v1.0/state/s/.."),   # /v1.0/state
    ("GET", "/.."),
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
    assert clean_path("/a/./b/../c/.") == "/a/c"
    assert clean_path("/../a") == "/a"           # nothing above the root
    assert clean_path("/a/%2E%2E/b") == "/a/%2E%2E/b"  # escaped dots are a segment's text


def test_the_fallback_gets_the_path_as_sent() -> None:
    found = ROUTER.match("GET", "/v1.0/invoke/app/method//x/../y")
    assert found is not None and found.route is ROUTER.fallback
    assert found.params == {"path": "/v1.0/invoke/app/method//x/../y"}


def test_recent_paths_are_remembered_within_a_bound() -> None:
    router = Router([Route(frozenset({"GET"}), "/v1.0/state/{storeName}/{key}", "get")],
                    fallback="invoke")
    first = router.match("GET", "/v1.0/state/s/k%2Fx")
    assert first is not None and first.params == {"storeName": "s", "key": "k/x"}
    assert router.match("GET", "/v1.0/state/s/k%2Fx") is first  # remembered
    assert router.match("POST", "/v1.0/state/s/k%2Fx").route.endpoint == "invoke"
    for _ in range(2):  # a bad escape is never remembered: it raises every time
        with pytest.raises(PlainTextError):
            router.match("GET", "/v1.0/state/s/%zz")
    for i in range(5000):
        router.match("GET", f"/v1.0/state/s/k{i}")
    assert len(router._recent) <= 4096  # noqa: SLF001 - the bound is the point
    assert router.match("GET", "/v1.0/state/s/k4999").params["key"] == "k4999"
