"""daprd's service invocation fallback on a sidecar with no app (statelab.dapr.invoke)."""

from __future__ import annotations

import base64

import pytest

from statelab.dapr.http import StateAPI
from statelab.dapr.invoke import target_and_method

NO_APP_ID = "failed getting app id either from the URL path or the header dapr-app-id"


@pytest.fixture(scope="module")
def api() -> StateAPI:
    return StateAPI(app_id="myapp", namespace="")


def _answer(api: StateAPI, method: str, path: str, headers: dict[str, str] | None = None
            ) -> tuple[int, str, str]:
    reply = api.request(method, path, headers=headers)
    body = reply.json()
    assert list(body) == ["errorCode", "message"]
    return reply.status, body["errorCode"], body["message"]


@pytest.mark.parametrize(("path", "message"), [
    # mDNS finds no such app (ResolveID: "couldn't find service: <id>")
    ("/v1.0/invoke/other/method/hello", "failed to invoke, id: other, err: couldn't find "
                                        "service: other"),
    ("/v1.0/invoke/other.prod/method/a/b", "failed to invoke, id: other.prod, err: couldn't "
                                           "find service: other"),
    # the sidecar's own id: no app channel (directMessaging.invokeLocal)
    ("/v1.0/invoke/myapp/method/hello", "failed to invoke, id: myapp, err: cannot invoke "
                                        "local endpoint: app channel not initialized"),
    ("/v1.0/invoke/my%61pp/method/x", "failed to invoke, id: myapp, err: cannot invoke local "
                                      "endpoint: app channel not initialized"),
    # requestAppIDAndNamespace
    ("/v1.0/invoke/a.b.c/method/x", "failed to invoke, id: a.b.c, err: invalid app id a.b.c"),
    # method.NormalizeMethod, checked first
    ("/v1.0/invoke/other/method/a%23b", 'failed to invoke, id: other, err: rpc error: code = '
                                        'InvalidArgument desc = invalid method: method contains '
                                        'forbidden character: "a#b"'),
])
def test_an_app_id_in_the_path_fails_as_daprd_fails_with_no_app(api: StateAPI, path: str,
                                                                 message: str) -> None:
    for method in ("GET", "POST", "DELETE", "PATCH"):
        assert _answer(api, method, path) == (500, "ERR_DIRECT_INVOKE", message)


@pytest.mark.parametrize("path", ["/v1.0/invoke/other", "/v1.0/invoke/other/method",
                                  "/v1.0/invoke//method/x", "/v1.0/state/s/a/b", "/v2/x",
                                  "/v1.0/state/statestore/.", "/.."])
def test_no_app_id_is_404(api: StateAPI, path: str) -> None:
    assert _answer(api, "GET", path) == (404, "ERR_DIRECT_INVOKE", NO_APP_ID)


def test_the_app_id_may_come_from_headers(api: StateAPI) -> None:
    # findTargetIDAndMethod: the dapr-app-id header, then Basic auth, then the path
    assert _answer(api, "GET", "/anything", {"dapr-app-id": "other"}) == (
        500, "ERR_DIRECT_INVOKE", "failed to invoke, id: other, err: couldn't find service: "
                                  "other")
    token = base64.b64encode(b"dapr-app-id:myapp").decode()
    assert _answer(api, "GET", "/x", {"Authorization": f"Basic {token}"})[2].startswith(
        "failed to invoke, id: myapp, err: cannot invoke local endpoint")
    assert target_and_method("/v1.0/invoke/a/method//x/../y/", {}) == ("a", "/y")
    assert target_and_method("/v1.0/invoke/a/method/", {}) == ("a", "")
    assert target_and_method("/v1.0/state/s/k", {"dapr-app-id": "b"}) == ("b", "v1.0/state/s/k")
    assert target_and_method("/v1.0/invokex/a/method/m", {}) == ("", "")


def test_invocation_needs_the_token() -> None:
    api = StateAPI(api_token="secret")
    assert api.request("GET", "/v1.0/invoke/other/method/x").status == 401
    reply = api.request("GET", "/v1.0/invoke/other/method/x", headers={"dapr-api-token": "secret"})
    assert reply.status == 500
