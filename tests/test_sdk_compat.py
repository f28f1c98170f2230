"""The official Dapr SDKs find and use a statelab sidecar, unchanged (spec sections 13 and 17).

* JavaScript (npm ``@dapr/dapr``, pinned to :data:`JS_SDK_VERSION`, HTTP protocol): installed
  once into ``.venv/node-sdk`` (git-ignored, removed with the venv; reused while the pinned
  version is there), then small node scripts run ``DaprClient.start()`` (which polls
  ``GET /v1.0/metadata``), ``state.save/get/getBulk/delete/transaction`` and the etag conflicts,
  and print JSON that these tests check, together with what the store really holds.
* Python (PyPI ``dapr``, a runtime dependency since the gRPC door): its state API is gRPC,
  tested in tests/test_grpc.py; here, its HTTP side: the ``DaprHealth`` wait on ``GET /v1.0/healthz/outbound``
  that every ``DaprClient()`` runs first (section 13.2) and the SDK's HTTP transport
  (``DaprHttpClient``), whose error parser must understand statelab's error bodies.

Node.js missing skips the JavaScript tests on a learner's machine and fails them under
``CI=true`` (as redis-server does for the real-Redis tests).

Every sidecar here listens on an explicit free port, so starting one never touches a sidecar of
another module (the session's ``contract_sidecar`` asked for port 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import httpx
import pytest
from support import IN_CI, REDIS_HINT, free_port, require_binary

from statelab.dapr.components import Component
from statelab.server.sidecar import Sidecar, start

#: The @dapr/dapr release these tests install and check (spec section 17.1 was read at 3.6.1).
JS_SDK_VERSION = "3.6.1"
REPO = Path(__file__).resolve().parents[1]
NODE_SDK_DIR = REPO / ".venv" / "node-sdk"
NODE_HINT = ("needs Node.js (node and npm) to test the Dapr JavaScript SDK: install Node.js 18 "
             "or newer (https://nodejs.org; Debian/Ubuntu: apt-get install nodejs npm; macOS: "
             "brew install node)")
APP_ID = "sdkapp"
PROFILES = ("redis-fake", "redis-real", "memory")
STORE_FOR_PROFILE = {"redis-fake": "sdk-redis", "redis-real": "sdk-realredis",
                     "memory": "sdk-memory"}
#: Set by the SDK or by statelab.start(); cleared so the caller's shell cannot steer a test.
DAPR_ENV = ("DAPR_HTTP_PORT", "DAPR_HTTP_ENDPOINT", "DAPR_API_TOKEN", "DAPR_GRPC_PORT",
            "DAPR_GRPC_ENDPOINT", "DAPR_HEALTH_TIMEOUT", "DAPR_RUNTIME_HOST")


def _component(name: str, type_: str, **metadata: str) -> Component:
    return Component(name=name, type=type_, version="v1", metadata=metadata, source="(sdk tests)")


def _unset_dapr_env(patch: pytest.MonkeyPatch) -> None:
    """Unset the DAPR_* variables until *patch* is undone, which also removes what start()
    exports meanwhile. (``delenv`` alone records nothing for a variable that is not set.)"""
    for name in DAPR_ENV:
        patch.setenv(name, "")
        patch.delenv(name)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DAPR_ENV}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def sdk_sidecar(request: pytest.FixtureRequest) -> Iterator[Sidecar]:
    """One sidecar, app id ``sdkapp``, with a store per profile (real Redis only if present)."""
    components = [_component(STORE_FOR_PROFILE["redis-fake"], "state.redis"),
                  _component(STORE_FOR_PROFILE["memory"], "state.in-memory")]
    if shutil.which("redis-server") is not None:
        real = request.getfixturevalue("redis_server")
        components.append(_component(STORE_FOR_PROFILE["redis-real"], "state.redis",
                                     redisHost=real.address, redisDB="5"))
    with pytest.MonkeyPatch.context() as patch:
        _unset_dapr_env(patch)  # start() exports DAPR_HTTP_PORT: undo it afterwards
        sidecar = start(free_port(), APP_ID, components, quiet=True)
        yield sidecar
        sidecar.stop()


@dataclass
class Store:
    profile: str
    name: str
    sidecar: Sidecar

    @property
    def is_redis(self) -> bool:
        return self.profile.startswith("redis")

    def redis(self) -> Any:
        return self.sidecar.redis(self.name)

    def http_get(self, key: str) -> httpx.Response:
        return httpx.get(f"{self.sidecar.state_url}/{self.name}/{key}", timeout=10)


@pytest.fixture(params=PROFILES)
def store(request: pytest.FixtureRequest, sdk_sidecar: Sidecar) -> Store:
    if request.param == "redis-real":
        require_binary("redis-server", REDIS_HINT)
    name = STORE_FOR_PROFILE[request.param]
    sdk_sidecar.reset(name)
    return Store(request.param, name, sdk_sidecar)


@pytest.fixture
def own_sidecar(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Start extra sidecars (one in-memory ``statestore``); their env exports are undone."""
    _unset_dapr_env(monkeypatch)
    started: list[Sidecar] = []

    def make(api_token: str | None = None) -> Sidecar:
        sidecar = start(free_port(), APP_ID, [_component("statestore", "state.in-memory")],
                        api_token=api_token, quiet=True)
        started.append(sidecar)
        return sidecar

    yield make
    for sidecar in started:
        sidecar.stop()


# -- JavaScript SDK --------------------------------------------------------------------------


def _installed_js_sdk(prefix: Path) -> str | None:
    try:
        manifest = prefix / "node_modules" / "@dapr" / "dapr" / "package.json"
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _install_js_sdk(npm: str) -> None:
    """npm install into a staging folder, then move it into place: an interrupted install never
    looks like a finished one."""
    staging = NODE_SDK_DIR.with_name(f"{NODE_SDK_DIR.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [npm, "install", "--no-audit", "--no-fund", "--save-exact", "--prefix",
               str(staging), f"@dapr/dapr@{JS_SDK_VERSION}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0 or _installed_js_sdk(staging) != JS_SDK_VERSION:
        shutil.rmtree(staging, ignore_errors=True)
        output = "timed out after 600 s" if done is None else (done.stdout + done.stderr)[-2000:]
        message = f"could not install @dapr/dapr@{JS_SDK_VERSION} with npm: {output}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    shutil.rmtree(NODE_SDK_DIR, ignore_errors=True)
    try:
        staging.rename(NODE_SDK_DIR)
    except OSError:  # another test run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        if _installed_js_sdk(NODE_SDK_DIR) != JS_SDK_VERSION:
            raise


@dataclass
class NodeSDK:
    node: str
    modules: Path

    def run(self, tmp_path: Path, body: str, env: Mapping[str, str], timeout: float = 30
            ) -> Any:
        """Run *body* inside ``async function main()`` and return the ``out`` it fills in."""
        script = tmp_path / "sdk_check.js"
        result = tmp_path / "sdk_result.json"
        script.write_text(JS_PRELUDE + body + JS_EPILOGUE, encoding="utf-8")
        full_env = {**env, "NODE_PATH": str(self.modules), "STATELAB_RESULT": str(result)}
        try:
            done = subprocess.run([self.node, str(script)], env=full_env, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"node did not finish in {timeout} s: {exc.stderr!r}")
        if done.returncode != 0 or not result.exists():
            pytest.fail(f"node exited with {done.returncode}\n--- stdout\n{done.stdout}\n"
                        f"--- stderr\n{done.stderr}")
        return json.loads(result.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def js_sdk() -> NodeSDK:
    node = require_binary("node", NODE_HINT)
    if _installed_js_sdk(NODE_SDK_DIR) != JS_SDK_VERSION:
        _install_js_sdk(require_binary("npm", NODE_HINT))
    return NodeSDK(node, NODE_SDK_DIR / "node_modules")


JS_PRELUDE = r"""
"use strict";
const fs = require("fs");
const { DaprClient, CommunicationProtocolEnum, LogLevel, StateConcurrencyEnum,
        StateConsistencyEnum } = require("@dapr/dapr");
const PORT = process.env.STATELAB_PORT;
const STORE = process.env.STATELAB_STORE;
const logger = { level: LogLevel.Error };

function connect() {
  return new DaprClient({ daprHost: "127.0.0.1", daprPort: String(PORT),
                          communicationProtocol: CommunicationProtocolEnum.HTTP, logger });
}
// state.save and state.delete *return* {error} instead of throwing (spec 17.1).
function failure(result) {
  return result && result.error ? JSON.parse(result.error.message) : null;
}
async function thrown(promise) {
  try { await promise; return null; } catch (e) { return JSON.parse(e.message); }
}
async function main() {
  const out = {};
"""

JS_EPILOGUE = r"""
  return out;
}
setTimeout(() => { console.error("the node script timed out"); process.exit(3); }, 20000).unref();
main().then(
  (out) => { fs.writeFileSync(process.env.STATELAB_RESULT, JSON.stringify(out)); process.exit(0); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); });
"""


def _js_env(store: Store) -> dict[str, str]:
    return _clean_env(STATELAB_PORT=str(store.sidecar.port), STATELAB_STORE=store.name)


def _error_code(failure: Mapping[str, Any]) -> str:
    return str(json.loads(failure["error_msg"])["errorCode"])


def test_js_client_start_polls_metadata(js_sdk: NodeSDK, sdk_sidecar: Sidecar,
                                        tmp_path: Path) -> None:
    """``client.start()`` polls /v1.0/metadata every 500 ms until it gets a non-empty 2xx body:
    under 500 ms means the first poll succeeded."""
    out = js_sdk.run(tmp_path, """
      const client = connect();
      const t0 = Date.now();
      await client.start();
      out.startMs = Date.now() - t0;
      out.initialized = client.getIsInitialized();
      out.healthy = await client.health.isHealthy();
      out.metadata = await client.metadata.get();
      out.set = await client.metadata.set("sdk", "js");
      out.extended = (await client.metadata.get()).extended;
      await client.stop();
    """, _clean_env(STATELAB_PORT=str(sdk_sidecar.port)))
    assert out["startMs"] < 500
    assert out["initialized"] is True and out["healthy"] is True
    metadata = out["metadata"]
    assert metadata["id"] == APP_ID
    components = {c["name"]: c for c in metadata["components"]}
    assert components["sdk-redis"] == {"name": "sdk-redis", "type": "state.redis",
                                       "version": "v1", "capabilities": [
                                           "ETAG", "TRANSACTIONAL", "TTL", "KEYS_LIKE", "ACTOR"]}
    assert components["sdk-memory"]["capabilities"] == [
        "ETAG", "TRANSACTIONAL", "TTL", "DELETE_WITH_PREFIX", "KEYS_LIKE", "ACTOR"]
    assert out["set"] is True and out["extended"]["sdk"] == "js"
    assert sdk_sidecar.api is not None and sdk_sidecar.api.service.extended.pop("sdk") == "js"


def test_js_save_get_and_bulk(js_sdk: NodeSDK, store: Store, tmp_path: Path) -> None:
    out = js_sdk.run(tmp_path, """
      const client = connect();
      await client.start();
      out.save = await client.state.save(STORE, [
        { key: "order-1", value: { item: "book", qty: 1 } },
        { key: "greeting", value: "hello" },
        { key: "count", value: 42,
          options: { concurrency: StateConcurrencyEnum.CONCURRENCY_LAST_WRITE,
                     consistency: StateConsistencyEnum.CONSISTENCY_STRONG } },
      ]);
      out.saveTtl = await client.state.save(STORE, [{ key: "session", value: { user: "ada" } }],
                                            { metadata: { ttlInSeconds: "3600" } });
      out.order = await client.state.get(STORE, "order-1");
      out.greeting = await client.state.get(STORE, "greeting");
      const eventual = { consistency: StateConsistencyEnum.CONSISTENCY_EVENTUAL };
      out.count = await client.state.get(STORE, "count", eventual);
      out.missing = await client.state.get(STORE, "no-such-key");
      out.bulk = await client.state.getBulk(
        STORE, ["order-1", "greeting", "count", "session", "no-such-key"]);
      out.bulkParallel = await client.state.getBulk(STORE, ["greeting"], { parallelism: 2 });
      await client.stop();
    """, _js_env(store))
    assert out["save"] == {} and out["saveTtl"] == {}
    assert out["order"] == {"item": "book", "qty": 1}
    assert out["greeting"] == "hello" and out["count"] == 42
    assert out["missing"] == ""  # 204: the SDK cannot tell a missing key from a stored ""
    bulk = {item["key"]: item for item in out["bulk"]}
    assert [item["key"] for item in out["bulk"]] == [
        "order-1", "greeting", "count", "session", "no-such-key"]
    assert bulk["no-such-key"] == {"key": "no-such-key"}
    assert bulk["order-1"]["data"] == {"item": "book", "qty": 1}
    assert out["bulkParallel"] == [bulk["greeting"]]
    for key in ("order-1", "greeting", "count", "session"):
        reply = store.http_get(key)
        assert reply.status_code == 200 and reply.headers["etag"] == bulk[key]["etag"]
    if store.is_redis:
        assert {item["etag"] for item in out["bulk"][:4]} == {"1"}
        assert "metadata" not in bulk["session"]  # Redis reports no TTL (spec section 4)
        redis = store.redis()
        assert redis.hgetall(f"{APP_ID}||order-1") == {b"data": b'{"item":"book","qty":1}',
                                                       b"version": b"1"}
        assert redis.hget(f"{APP_ID}||greeting", "data") == b'"hello"'
        assert redis.hget(f"{APP_ID}||count", "data") == b"42"
        assert 3500 < redis.ttl(f"{APP_ID}||session") <= 3600
        assert redis.ttl(f"{APP_ID}||order-1") == -1
    else:
        assert len({item["etag"] for item in out["bulk"][:4]}) == 4  # UUIDs
        assert set(bulk["session"]["metadata"]) == {"ttlExpireTime"}
        assert store.http_get("session").headers["metadata.ttlexpiretime"] == \
            bulk["session"]["metadata"]["ttlExpireTime"]
        assert store.http_get("order-1").content == b'{"item":"book","qty":1}'


def test_js_etag_conflicts_are_returned_not_thrown(js_sdk: NodeSDK, store: Store,
                                                   tmp_path: Path) -> None:
    """get() drops the ETag header, so the etag comes from getBulk; a stale etag makes save and
    delete *return* ``{error}`` with the 409 inside (spec 17.1)."""
    out = js_sdk.run(tmp_path, """
      const client = connect();
      await client.start();
      await client.state.save(STORE, [{ key: "order-1", value: { qty: 1 } }]);
      const [first] = await client.state.getBulk(STORE, ["order-1"]);
      out.etag1 = first.etag;
      out.update = await client.state.save(STORE, [{
        key: "order-1", value: { qty: 2 }, etag: first.etag,
        options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } }]);
      const [second] = await client.state.getBulk(STORE, ["order-1"]);
      out.etag2 = second.etag;
      out.staleSave = failure(await client.state.save(STORE, [
        { key: "order-1", value: { qty: 99 }, etag: first.etag }]));
      out.staleDelete = failure(await client.state.delete(STORE, "order-1", { etag: first.etag }));
      out.afterConflicts = await client.state.get(STORE, "order-1");
      out.delete = await client.state.delete(STORE, "order-1", { etag: second.etag });
      out.afterDelete = await client.state.get(STORE, "order-1");
      await client.stop();
    """, _js_env(store))
    assert out["update"] == {} and out["etag2"] != out["etag1"]
    for name, code in (("staleSave", "ERR_STATE_SAVE"), ("staleDelete", "ERR_STATE_DELETE")):
        failure = out[name]
        assert (failure["status"], failure["error"], _error_code(failure)) == (
            409, "Conflict", code), failure
    assert out["afterConflicts"] == {"qty": 2}
    assert out["delete"] == {} and out["afterDelete"] == ""
    assert store.http_get("order-1").status_code == 204
    if store.is_redis:
        assert (out["etag1"], out["etag2"]) == ("1", "2")
        assert store.redis().exists(f"{APP_ID}||order-1") == 0


def test_js_transaction(js_sdk: NodeSDK, store: Store, tmp_path: Path) -> None:
    """transaction() resolves on 204 and *throws* on failure: a stale etag is a 500
    ERR_STATE_TRANSACTION, and an etag typed as the SDK's ``{value}`` object is a 400."""
    out = js_sdk.run(tmp_path, """
      const client = connect();
      await client.start();
      await client.state.save(STORE, [{ key: "balance", value: 100 },
                                      { key: "stale", value: "x" }]);
      const [balance] = await client.state.getBulk(STORE, ["balance"]);
      const done = await client.state.transaction(STORE, [
        { operation: "upsert", request: { key: "balance", value: 70, etag: balance.etag } },
        { operation: "upsert", request: { key: "order-7", value: { total: 30 } } },
        { operation: "delete", request: { key: "stale" } },
      ]);
      out.done = done === undefined ? "undefined" : done;
      out.conflict = await thrown(client.state.transaction(STORE, [
        { operation: "upsert", request: { key: "order-8", value: { total: 5 } } },
        { operation: "upsert", request: { key: "balance", value: 0, etag: balance.etag } },
      ]));
      out.objectEtag = await thrown(client.state.transaction(STORE, [
        { operation: "upsert", request: { key: "balance", value: 1, etag: { value: "2" } } }]));
      out.after = await client.state.getBulk(STORE, ["balance", "order-7", "stale", "order-8"]);
      await client.stop();
    """, _js_env(store))
    assert out["done"] == "undefined"
    conflict = out["conflict"]
    assert (conflict["status"], _error_code(conflict)) == (500, "ERR_STATE_TRANSACTION"), conflict
    assert (out["objectEtag"]["status"], _error_code(out["objectEtag"])) == (
        400, "ERR_MALFORMED_REQUEST")
    after = {item["key"]: item.get("data") for item in out["after"]}
    # Redis queues the operations in MULTI/EXEC and does not roll back (spec 7.2).
    assert after == {"balance": 70, "order-7": {"total": 30}, "stale": None,
                     "order-8": {"total": 5} if store.is_redis else None}
    if store.is_redis:
        redis = store.redis()
        assert redis.hgetall(f"{APP_ID}||balance") == {b"data": b"70", b"version": b"2"}
        assert redis.exists(f"{APP_ID}||stale") == 0
    else:
        assert store.http_get("order-8").status_code == 204


@pytest.mark.parametrize("variable", ["DAPR_HTTP_PORT", "DAPR_HTTP_ENDPOINT"])
def test_js_client_finds_sidecar_from_environment(js_sdk: NodeSDK, own_sidecar: Any,
                                                  variable: str, tmp_path: Path) -> None:
    """``new DaprClient()`` with no host or port: statelab.start() exported DAPR_HTTP_PORT."""
    sidecar = own_sidecar()
    assert os.environ["DAPR_HTTP_PORT"] == str(sidecar.port)
    env = _clean_env(DAPR_HTTP_PORT=os.environ["DAPR_HTTP_PORT"]) \
        if variable == "DAPR_HTTP_PORT" else _clean_env(DAPR_HTTP_ENDPOINT=sidecar.url)
    out = js_sdk.run(tmp_path, """
      const client = new DaprClient({ logger });
      out.metadataId = (await client.metadata.get()).id;   // starts the client on first use
      out.save = await client.state.save("statestore", [{ key: "k", value: { from: "env" } }]);
      out.value = await client.state.get("statestore", "k");
      await client.stop();
    """, env)
    assert out == {"metadataId": APP_ID, "save": {}, "value": {"from": "env"}}
    assert httpx.get(f"{sidecar.state_url}/statestore/k").json() == {"from": "env"}


def test_js_client_sends_the_api_token(js_sdk: NodeSDK, own_sidecar: Any,
                                       tmp_path: Path) -> None:
    """statelab.start(api_token=...) exports DAPR_API_TOKEN, which the SDK sends."""
    sidecar = own_sidecar(api_token="s3cret")
    env = _clean_env(DAPR_HTTP_PORT=os.environ["DAPR_HTTP_PORT"],
                     DAPR_API_TOKEN=os.environ["DAPR_API_TOKEN"])
    out = js_sdk.run(tmp_path, """
      const client = new DaprClient({ logger });
      await client.start();
      out.save = await client.state.save("statestore", [{ key: "k", value: 1 }]);
      out.value = await client.state.get("statestore", "k");
      await client.stop();
    """, env)
    assert out == {"save": {}, "value": 1}
    assert httpx.get(f"{sidecar.state_url}/statestore/k").status_code == 401  # no token


# -- Python SDK ------------------------------------------------------------------------------


def _point_python_sdk(monkeypatch: pytest.MonkeyPatch, **values: str | None) -> None:
    """Set DAPR_* variables for the SDK. dapr < 1.19 copies the environment into
    ``dapr.conf.settings`` once, at import, so those copies are patched too."""
    from dapr.conf import global_settings, settings

    _unset_dapr_env(monkeypatch)
    for name in DAPR_ENV:
        values.setdefault(name, None)
    values["DAPR_HEALTH_TIMEOUT"] = values["DAPR_HEALTH_TIMEOUT"] or "5"
    for name, value in values.items():
        if value is not None:
            monkeypatch.setenv(name, value)
        if name in vars(settings):
            default = getattr(global_settings, name)
            typed = default if value is None else (
                value if default is None else type(default)(value))
            monkeypatch.setattr(settings, name, typed)


def _wait_both_ways() -> tuple[float, float]:
    """Seconds taken by the sync and by the asyncio health wait. A failed probe prints a line
    and sleeps 1 s before the next, so under 1 s each means the first probe got a 2xx."""
    from dapr.aio.clients.health import DaprHealth as AsyncDaprHealth
    from dapr.clients.health import DaprHealth

    began = time.monotonic()
    DaprHealth.wait_for_sidecar()
    middle = time.monotonic()
    asyncio.run(AsyncDaprHealth.wait_for_sidecar())
    return middle - began, time.monotonic() - middle


@pytest.mark.parametrize("variable", ["DAPR_HTTP_PORT", "DAPR_HTTP_ENDPOINT"])
def test_python_sdk_health_wait_returns_promptly(sdk_sidecar: Sidecar, variable: str,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Both waits return at once: the first GET /v1.0/healthz/outbound got a 2xx."""
    if variable == "DAPR_HTTP_PORT":
        _point_python_sdk(monkeypatch, DAPR_HTTP_PORT=str(sdk_sidecar.port))
    else:
        _point_python_sdk(monkeypatch, DAPR_HTTP_ENDPOINT=sdk_sidecar.url,
                          DAPR_HTTP_PORT=str(free_port()))  # the endpoint wins over the port
    from dapr.clients.http.helpers import get_api_url

    assert get_api_url() == f"{sdk_sidecar.url}/v1.0"
    assert max(_wait_both_ways()) < 1.0
    assert capsys.readouterr().out == ""


def test_python_sdk_health_wait_needs_no_token(own_sidecar: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """daprd serves /v1.0/healthz/outbound without the API token (spec section 1)."""
    sidecar = own_sidecar(api_token="s3cret")
    _point_python_sdk(monkeypatch, DAPR_HTTP_PORT=str(sidecar.port), DAPR_API_TOKEN="wrong")
    assert max(_wait_both_ways()) < 1.0


def test_python_sdk_health_wait_times_out_without_a_sidecar(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The control for the prompt returns above: nothing listening means a failed probe."""
    from dapr.clients.health import DaprHealth

    _point_python_sdk(monkeypatch, DAPR_HTTP_PORT=str(free_port()), DAPR_HEALTH_TIMEOUT="1")
    with pytest.raises(TimeoutError):
        DaprHealth.wait_for_sidecar()
    assert "healthz/outbound failed" in capsys.readouterr().out


PY_CLIENT_SCRIPT = """
import json, sys, time
began = time.monotonic()
from dapr.clients import DaprClient
from dapr.version import __version__
imported = time.monotonic()
client = DaprClient()  # waits on GET /v1.0/healthz/outbound first
constructed = time.monotonic()
client.close()
print(json.dumps({"version": __version__, "construct": constructed - imported}))
"""


def test_python_dapr_client_connects_in_a_fresh_process(own_sidecar: Any) -> None:
    """A learner's script run after statelab.start(): ``DaprClient()`` returns promptly. (Its
    state calls then need gRPC on DAPR_GRPC_PORT, which statelab does not serve yet.)"""
    own_sidecar()
    env = _clean_env(DAPR_HTTP_PORT=os.environ["DAPR_HTTP_PORT"], DAPR_HEALTH_TIMEOUT="5")
    done = subprocess.run([sys.executable, "-W", "error", "-c", PY_CLIENT_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout  # a failed health probe would print a line
    report = json.loads(lines[0])
    assert report["construct"] < 1.0


def test_python_sdk_http_transport(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own HTTP transport (used by its invocation and actor clients) against the
    state API: 2xx answers, and its error parser reads statelab's error body."""
    from dapr.clients.exceptions import DaprHttpError
    from dapr.clients.http.client import DaprHttpClient
    from dapr.clients.http.helpers import get_api_url
    from dapr.serializers import DefaultJSONSerializer

    _point_python_sdk(monkeypatch, DAPR_HTTP_PORT=str(store.sidecar.port))
    serializer = DefaultJSONSerializer()

    async def scenario() -> dict[str, Any]:
        client = DaprHttpClient(serializer, timeout=10)
        base = f"{get_api_url()}/state/{store.name}"
        seen: dict[str, Any] = {}
        body, reply = await client.send_bytes(
            "POST", base, serializer.serialize([{"key": "k", "value": {"n": 1}}]), headers={})
        seen["save"] = (reply.status, body)
        body, reply = await client.send_bytes("GET", f"{base}/k", None, headers={})
        seen["get"] = (reply.status, serializer.deserialize(body), reply.headers["Etag"])
        body, reply = await client.send_bytes(
            "POST", f"{base}/bulk", serializer.serialize({"keys": ["k"]}), headers={})
        seen["bulk"] = (reply.status, serializer.deserialize(body))
        body, reply = await client.send_bytes("GET", f"{get_api_url()}/metadata", None,
                                              headers={})
        seen["metadata"] = (reply.status, serializer.deserialize(body)["id"])
        try:
            await client.send_bytes("POST", base, serializer.serialize(
                [{"key": "k", "value": 2, "etag": "99"}]), headers={})
        except DaprHttpError as error:
            seen["conflict"] = (error.status_code, error.error_code, error.reason)
        return seen

    seen = asyncio.run(scenario())
    etag = seen["get"][2]
    assert seen["save"] == (204, b"")
    assert seen["get"] == (200, {"n": 1}, etag)
    assert seen["bulk"] == (200, [{"key": "k", "data": {"n": 1}, "etag": etag}])
    assert seen["metadata"] == (200, APP_ID)
    assert seen["conflict"] == (409, "ERR_STATE_SAVE", "Conflict")
