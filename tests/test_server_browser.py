"""The sidecar in a browser tab: no socket, no thread, the same URL and the same answers.

These tests run in CPython and pretend to be in Pyodide (``in_browser()`` answers True where
statelab asks it); the JupyterLite site test (``tests/test_lite.py``) runs the real thing in
Chromium. While pretending, creating a socket or starting a thread fails the test: a browser
tab has neither.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from statelab.dapr.http import StateAPI
from statelab.exercises import record
from statelab.runtime import BROWSER_DRIVE
from statelab.server import browser, sidecar as sidecar_module
from statelab.server.browser import TabNetwork, route_httpx, tab_network
from statelab.server.sidecar import PRIVATE_TAB_PORTS, running_sidecars, serve, start
from statelab.stores.redis import store as store_module

REAL_SOCKET = socket.socket

# Far from the ports other tests' real sidecars take, so this registry never meets them.
PORT = 43500


@pytest.fixture
def in_a_tab(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pyodide as statelab sees it: in_browser() is True, sockets and threads fail, no lupa."""
    monkeypatch.setattr(sidecar_module, "in_browser", lambda: True)
    monkeypatch.setattr(record, "in_browser", lambda: True)
    monkeypatch.setattr(store_module, "lua_available", lambda: False)
    monkeypatch.setattr(tab_network(), "first_port", PORT)
    before = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request

    def no_sockets(*args: Any, **kwargs: Any) -> None:
        raise OSError(138, "Not supported")  # what Pyodide's socket.bind answers

    def no_threads(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(socket, "socket", no_sockets)
    monkeypatch.setattr(threading.Thread, "start", no_threads)
    yield
    monkeypatch.undo()
    for running in running_sidecars():
        if running.port >= PORT:
            running.stop()
    httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request = before


def test_start_serves_the_state_api_on_the_tab_network(in_a_tab: None) -> None:
    sidecar = start(PORT)
    assert sidecar.url == f"http://127.0.0.1:{PORT}" and sidecar.running
    assert sidecar.grpc is None and sidecar.grpc_port is None  # grpcio has no browser build
    assert "in this browser tab" in sidecar.describe()
    with httpx.Client(base_url=sidecar.url) as dapr:  # httpx's own transport, unchanged code
        assert dapr.post("/v1.0/state/statestore",
                         json=[{"key": "order-1", "value": {"qty": 2}}]).status_code == 204
        reply = dapr.get("/v1.0/state/statestore/order-1")
    assert (reply.status_code, reply.headers["ETag"], reply.json()) == (200, "1", {"qty": 2})
    assert httpx.get(f"{sidecar.url}/v1.0/healthz").status_code == 204
    assert sidecar.redis().hgetall("myapp||order-1") == {b"data": b'{"qty":2}',
                                                         b"version": b"1"}
    assert start(PORT) is sidecar  # running the cell again


def test_async_clients_reach_it_too(in_a_tab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sidecar = start(PORT)
    # CPython's event loop makes itself a socketpair (Pyodide's loop is the browser's own).
    monkeypatch.setattr(socket, "socket", REAL_SOCKET)

    async def read() -> int:
        async with httpx.AsyncClient(base_url=sidecar.url) as dapr:
            return (await dapr.get("/v1.0/state/statestore/nothing")).status_code

    assert asyncio.run(read()) == 204


def test_other_origins_are_refused_connections_that_say_why(in_a_tab: None) -> None:
    sidecar = start(PORT)
    with pytest.raises(httpx.ConnectError, match="nothing answers at http://127.0.0.1:1 in this "
                       "browser tab") as refused:
        httpx.post("http://127.0.0.1:1/v1.0/state/statestore", json=[])
    assert sidecar.url.removeprefix("http://") in str(refused.value)
    assert isinstance(refused.value, httpx.RequestError)  # what a learner's except catches


def test_the_redis_profile_runs_without_lua_with_ttls_and_transactions(in_a_tab: None) -> None:
    sidecar = start(PORT)
    sidecar.reset()
    store = sidecar.component().open()
    assert store.direct is not None and store.direct.without_lua
    dapr = httpx.Client(base_url=sidecar.url)
    redis = sidecar.redis()
    redis.set("myapp||legacy", "a plain value")  # an odd state the Lua script handles
    dapr.post("/v1.0/state/statestore", json=[{"key": "pears", "value": 4}])
    reply = dapr.post("/v1.0/state/statestore/transaction", json={"operations": [
        {"operation": "upsert", "request": {"key": "legacy", "value": 1,
                                            "metadata": {"ttlInSeconds": "60"}}},
        {"operation": "upsert", "request": {"key": "pears", "value": 5, "etag": "9"}},
    ]})
    assert reply.status_code == 500 and reply.json()["errorCode"] == "ERR_STATE_TRANSACTION"
    assert "failed to set key myapp||pears" in reply.json()["message"]
    assert redis.hgetall("myapp||legacy") == {b"data": b"1", b"version": b"1"}
    assert 0 < redis.ttl("myapp||legacy") <= 60
    redis.hset("myapp||odd", mapping={"data": "1", "version": "abc"})
    odd = dapr.post("/v1.0/state/statestore", json=[{"key": "odd", "value": 2}])
    assert odd.status_code == 500
    assert "hash value is not an integer script:" in odd.json()["message"]


def test_a_second_app_and_an_attached_handle_share_the_tab(
        in_a_tab: None, monkeypatch: pytest.MonkeyPatch) -> None:
    myapp = start(PORT)
    orders = start(PORT + 0, app_id="orders")  # the same port, new settings: replaced
    assert not myapp.running and orders.running
    myapp = start(PORT)
    second = start(0, app_id="orders")  # any free port: the next one up
    assert second.port == PORT + 1 and second.running
    httpx.post(f"{second.url}/v1.0/state/statestore", json=[{"key": "k", "value": "orders"}])
    assert httpx.get(f"{myapp.url}/v1.0/state/statestore/k").status_code == 204  # own prefix
    monkeypatch.setenv("STATELAB_DAPR_URL", second.url)
    attached = start(PORT)
    assert not attached.owned
    assert httpx.get(f"{attached.url}/v1.0/state/statestore/k").json() == "orders"
    second.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{attached.url}/v1.0/healthz")


def test_serve_is_private_and_above_starts_ports(in_a_tab: None) -> None:
    with serve(StateAPI(), grpc=True) as private:
        assert private.port >= PRIVATE_TAB_PORTS and private.grpc is None
        assert private not in running_sidecars()
        assert httpx.get(f"{private.url}/v1.0/healthz").status_code == 204
    assert not tab_network().serves("127.0.0.1", private.port)


def test_progress_is_kept_in_the_browsers_storage(in_a_tab: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATELAB_PROGRESS_FILE")
    assert record.progress_path() == BROWSER_DRIVE / "statelab-progress.json"
    monkeypatch.setenv("STATELAB_PROGRESS_FILE", "/tmp/p.json")
    assert str(record.progress_path()) == "/tmp/p.json"


def test_the_tab_network() -> None:
    network = TabNetwork()
    api = StateAPI()
    network.listen("127.0.0.1", 3500, api)
    with pytest.raises(OSError, match="already served"):
        network.listen("127.0.0.1", 3500, api)
    assert network.free_port("127.0.0.1", 3500) == 3501
    assert network.free_port("127.0.0.1", 0) == 3501
    assert network.free_port("localhost", 3500) == 3500  # another host, another origin
    request = httpx.Request("GET", "http://127.0.0.1:3500/v1.0/healthz")
    assert network.transport_for(request).handle_request(request).status_code == 204
    network.close("127.0.0.1", 3500)
    with pytest.raises(httpx.ConnectError, match=r"none yet: run statelab.start\(\)"):
        network.transport_for(request)


def test_routing_httpx_is_idempotent_and_undone() -> None:
    original = httpx.HTTPTransport.handle_request
    network = TabNetwork()
    undo = route_httpx(network)
    try:
        assert route_httpx(network)() is None  # a second call changes (and undoes) nothing
        assert getattr(httpx.HTTPTransport.handle_request, "tab_network", None) is network
        with pytest.raises(httpx.ConnectError):
            httpx.get("http://127.0.0.1:9/")
    finally:
        undo()
    assert httpx.HTTPTransport.handle_request is original
    assert browser.tab_network() is tab_network()
