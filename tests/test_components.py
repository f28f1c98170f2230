"""Dapr component YAML (spec sections 10, 11.5, 15)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from statelab.dapr.http import StateAPI
from statelab.dapr.components import Component, default_components, load_components, parse_component
from statelab.errors import ComponentError

from support import RedisServer, free_port

REDIS_YAML = """\
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: state.redis
  version: v1
  metadata:
{metadata}
"""


def write(folder: Path, filename: str, text: str) -> None:
    (folder / filename).write_text(textwrap.dedent(text), encoding="utf-8")


def redis_component(name: str, **metadata: str) -> str:
    lines = "\n".join(f"  - name: {k}\n    value: \"{v}\"" for k, v in metadata.items()) or "  []"
    if not metadata:
        return REDIS_YAML.format(name=name, metadata="").replace("  metadata:\n\n",
                                                                 "  metadata: []\n")
    return REDIS_YAML.format(name=name, metadata=lines)


def test_default_is_what_dapr_init_gives() -> None:
    # §15.1: dapr init writes one state.redis store named statestore.
    [component] = default_components()
    # Embedded: its calls never wait on a network server.
    assert (component.name, component.type, component.blocking) == ("statestore", "state.redis",
                                                                     False)


def test_folder_with_several_stores_and_other_kinds(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", redis_component("orders", redisHost="embedded"))
    write(tmp_path, "b.yml", """\
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata: {name: cache}
        spec: {type: state.in-memory, version: v1, metadata: []}
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata: {name: pubsub}
        spec: {type: pubsub.redis, version: v1, metadata: []}
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Configuration
        metadata: {name: tracing}
        spec: {}
        """)
    write(tmp_path, "notes.txt", "not a component")
    components = load_components(tmp_path)
    assert [(c.name, c.type) for c in components] == [("orders", "state.redis"),
                                                      ("cache", "state.in-memory")]
    api = StateAPI(components)
    body = api.request("GET", "/v1.0/metadata").json()
    assert [c["name"] for c in body["components"]] == ["orders", "cache"]


@pytest.mark.parametrize(("text", "field", "problem"), [
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.postgresql, version: v1}\n", "spec.type", "not supported"),
    ("apiVersion: v2\nkind: Component\nmetadata: {name: x}\nspec: {type: state.redis}\n",
     "apiVersion", "dapr.io/v1alpha1"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {}\n"
     "spec: {type: state.redis, version: v1}\n", "metadata.name", "non-empty name"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.redis, version: v2}\n", "spec.version", "v1"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n",
     "spec", "missing"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.redis, version: v1, metadata: [{name: redisPassword, "
     "secretKeyRef: {name: s, key: k}}]}\n", "spec.metadata[0].secretKeyRef", "secret"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.redis, version: v1, metadata: [{name: ttlInSeconds, value: soon}]}\n",
     "ttlInSeconds", "invalid syntax"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.redis, version: v1, metadata: [{name: keyPrefix, value: 'a||b'}]}\n",
     "keyPrefix", "||"),
    ("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: state.redis, version: v1, metadata: [{name: redisHost, value: 'h:p:q'}]}\n",
     "redisHost", "host:port"),
    ("kind: Component\n  bad: [indent\n", "(yaml)", ""),
    ("- just\n- a list\n", "(document)", "mapping"),
])
def test_invalid_files_name_the_file_and_the_field(tmp_path: Path, text: str, field: str,
                                                    problem: str) -> None:
    write(tmp_path, "broken.yaml", text)
    with pytest.raises(ComponentError) as info:
        load_components(tmp_path)
    assert info.value.source == "broken.yaml"
    assert info.value.field == field
    assert problem in info.value.problem
    assert str(info.value).startswith(f"broken.yaml: {field}: ")


def test_duplicate_names_are_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", redis_component("same"))
    write(tmp_path, "b.yaml", redis_component("same"))
    with pytest.raises(ComponentError, match="already defined in a.yaml"):
        load_components(tmp_path)


def test_scopes_limit_components_to_listed_apps(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", redis_component("private") + "scopes: [billing]\n")
    assert load_components(tmp_path, app_id="myapp") == []
    assert [c.name for c in load_components(tmp_path, app_id="billing")] == ["private"]


def test_missing_folder() -> None:
    with pytest.raises(ComponentError, match="not a directory"):
        load_components("/nonexistent/statelab-components")


@pytest.mark.parametrize(("prefix", "stored"), [
    (None, "myapp||k"),            # §10 default appid
    ("appid", "myapp||k"),
    ("name", "prefixed||k"),
    ("none", "k"),
    ("MyPrefix", "myprefix||k"),   # custom prefixes are lowercased
    ("namespace", "myapp||k"),     # NAMESPACE unset falls back to appid
])
def test_key_prefix_strategies(prefix: str | None, stored: str) -> None:
    metadata = {} if prefix is None else {"keyPrefix": prefix}
    component = Component(name="prefixed", type="state.redis", version="v1", metadata=metadata,
                          source="(test)")
    parse_check = component.meta("KEYPREFIX", "appid")  # names match case-insensitively
    assert parse_check == (prefix or "appid")
    api = StateAPI([component], app_id="myapp")
    component.open().reset()
    assert api.request("POST", "/v1.0/state/prefixed", json=[{"key": "k", "value": 1}]
                       ).status == 204
    assert component.redis_client().exists(stored) == 1
    # §10: bulk answers strip the prefix again.
    bulk = api.request("POST", "/v1.0/state/prefixed/bulk", json={"keys": ["k"]}).json()
    assert bulk[0]["key"] == "k"


def test_namespace_strategy_uses_the_namespace() -> None:
    component = Component(name="ns", type="state.redis", version="v1",
                          metadata={"keyPrefix": "namespace"}, source="(test)")
    api = StateAPI([component], app_id="myapp", namespace="prod")
    component.open().reset()
    api.request("POST", "/v1.0/state/ns", json=[{"key": "k", "value": 1}])
    assert component.redis_client().exists("prod.myapp||k") == 1


def test_component_default_ttl_applies_to_redis_saves(tmp_path: Path) -> None:
    # §11.5: a component-level ttlInSeconds applies to every set without its own TTL.
    write(tmp_path, "ttl.yaml", redis_component("ttlstore", ttlInSeconds="100"))
    [component] = load_components(tmp_path)
    api = StateAPI([component])
    component.open().reset()
    api.request("POST", "/v1.0/state/ttlstore", json=[{"key": "k", "value": 1}])
    api.request("POST", "/v1.0/state/ttlstore",
                json=[{"key": "j", "value": 1, "metadata": {"ttlInSeconds": "-1"}}])
    client = component.redis_client()
    assert 0 < client.ttl("myapp||k") <= 100
    assert client.ttl("myapp||j") == -1


def test_embedded_data_survives_a_new_component_object() -> None:
    first = Component(name="survivor", type="state.redis", version="v1", metadata={},
                      source="(test)")
    StateAPI([first]).request("POST", "/v1.0/state/survivor", json=[{"key": "k", "value": 7}])
    second = Component(name="survivor", type="state.redis", version="v1", metadata={},
                       source="(test)")
    assert StateAPI([second]).request("GET", "/v1.0/state/survivor/k").body == b"7"


def test_redis_db_selects_the_database() -> None:
    component = Component(name="dbsel", type="state.redis", version="v1",
                          metadata={"redisDB": "2"}, source="(test)")
    api = StateAPI([component])
    component.open().reset()
    api.request("POST", "/v1.0/state/dbsel", json=[{"key": "k", "value": 1}])
    assert component.redis_client().exists("myapp||k") == 1
    assert Component(name="dbsel", type="state.redis", version="v1", metadata={},
                     source="(test)").redis_client().exists("myapp||k") == 0


def test_in_memory_component_has_no_redis_client() -> None:
    component = Component(name="m", type="state.in-memory", version="v1", metadata={},
                          source="(test)")
    with pytest.raises(ComponentError, match="not a Redis store"):
        component.redis_client()


def test_unreachable_redis_is_a_component_error() -> None:
    component = Component(name="down", type="state.redis", version="v1",
                          metadata={"redisHost": f"127.0.0.1:{free_port()}"}, source="down.yaml")
    with pytest.raises(ComponentError) as info:
        component.open()
    assert info.value.field == "redisHost"
    assert "cannot reach Redis" in info.value.problem


@pytest.mark.real_redis
def test_real_redis_host_and_password(tmp_path: Path, redis_server: RedisServer) -> None:
    write(tmp_path, "real.yaml", redis_component("real", redisHost=redis_server.address,
                                                 redisPassword="", redisDB="7"))
    [component] = load_components(tmp_path)
    assert component.blocking  # a real server: the HTTP door runs its calls off the event loop
    api = StateAPI([component])
    component.open().reset()
    assert api.request("POST", "/v1.0/state/real", json=[{"key": "k", "value": "v"}]
                       ).status == 204
    assert redis_server.client(db=7).hget("myapp||k", "data") == b'"v"'
