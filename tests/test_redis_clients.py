"""daprd's Redis connection settings (statelab/stores/redis/clients.py): metadata names,
go-redis's defaults, components-contrib's duration parsing."""

from __future__ import annotations

import asyncio

import pytest

from statelab.dapr.components import Component
from statelab.errors import ComponentError
from statelab.stores.redis.clients import ConnectionSettings, parse_duration, store_client


def _spec(**metadata: str) -> Component:
    return Component(name="s", type="state.redis", version="v1",
                     metadata={"redisHost": "127.0.0.1:1", **metadata}, source="(tests)")


@pytest.mark.parametrize(("text", "seconds"), [
    ("500", 0.5), ("0", 0.0), ("-1", -1.0), ("1s", 1.0), ("250ms", 0.25), ("1m30s", 90.0),
    ("1.5s", 1.5), ("2h", 7200.0), ("100us", 1e-4)])
def test_durations_read_as_components_contrib_reads_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "1x", "s", "1s2"])
def test_a_bad_duration_says_so_in_go_words(text: str) -> None:
    with pytest.raises(ValueError, match=f'time: invalid duration "{text}"'):
        parse_duration(text)


def test_defaults_are_go_redis_defaults() -> None:
    settings = ConnectionSettings.of(_spec())
    assert (settings.dial_timeout, settings.read_timeout, settings.write_timeout) == (5, 3, 3)
    assert settings.max_retries == 3 and settings.pool_size >= 10


def test_metadata_names_set_the_client() -> None:
    settings = ConnectionSettings.of(_spec(dialTimeout="200ms", readTimeout="1s",
                                           writeTimeout="2s", poolSize="7",
                                           redisMaxRetries="-1"))
    assert (settings.dial_timeout, settings.read_timeout, settings.write_timeout) == (0.2, 1, 2)
    assert settings.socket_timeout == 2 and settings.pool_size == 7
    assert settings.max_retries == 0
    client = store_client(_spec(dialTimeout="200ms", readTimeout="1s", poolSize="7"))
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == 0.2 and kwargs["socket_timeout"] == 1
    assert client.connection_pool.max_connections == 7
    client.close()


def test_minus_one_means_no_timeout() -> None:
    settings = ConnectionSettings.of(_spec(readTimeout="-1"))
    assert settings.read_timeout is None and settings.socket_timeout is None


def test_a_bad_setting_is_a_component_error_naming_the_field() -> None:
    from statelab.stores.registry import lookup, validate

    spec = _spec(readTimeout="soon")
    with pytest.raises(ComponentError, match='readTimeout: time: invalid duration "soon"'):
        validate(spec, lookup("state.redis"))  # type: ignore[arg-type]


def test_the_asyncio_client_has_the_same_settings_and_a_waiting_pool() -> None:
    from statelab.stores.redis.clients import async_store_client

    component = Component(name="s", type="state.redis", version="v1", source="(test)",
                          metadata={"redisHost": "localhost:6390", "redisDB": "2",
                                    "dialTimeout": "250ms", "readTimeout": "2s",
                                    "writeTimeout": "1s", "poolSize": "7",
                                    "redisPassword": "pw"})
    client = async_store_client(component)
    pool = client.connection_pool
    assert type(pool).__name__ == "BlockingConnectionPool"
    assert pool.max_connections == 7
    assert pool.timeout == 3.0  # go-redis's PoolTimeout: the read timeout plus a second
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == \
        ("localhost", 6390, 2, "pw")
    assert kwargs["socket_connect_timeout"] == 0.25
    assert kwargs["socket_timeout"] == 2.0  # the larger of read and write
    assert kwargs["retry"].get_retries() == 3
    asyncio.run(client.aclose())
