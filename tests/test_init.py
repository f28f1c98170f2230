"""The package surface: a sorted ``__all__``, lazy imports, a cheap ``import statelab``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import statelab
from statelab import errors, stores
from statelab.dapr import http as api, messages, service
from statelab.go import json as gojson


@pytest.mark.parametrize("module", [statelab, api, errors, gojson, messages, service, stores])
def test_all_is_sorted_and_resolves(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        statelab.nope  # noqa: B018


def test_import_is_cheap() -> None:
    code = ("import sys, statelab; heavy = [m for m in ('redis', 'fakeredis', 'uvicorn', 'yaml', "
            "'httpx') if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=30)
    assert result.stdout.strip() == "[]"


def test_error_bodies_have_no_trailing_newline() -> None:
    # §1: error bodies use json.Marshal (no newline); §2.1 shapes.
    error = messages.store_not_found("s<x>", "app")
    assert error.body() == (b'{"errorCode":"ERR_STATE_STORE_NOT_FOUND","message":"state store '
                            b's\\u003cx\\u003e is not found","details":[{"@type":"type.googleapis'
                            b'.com/google.rpc.ErrorInfo","domain":"dapr.io","metadata":{"appID":'
                            b'"app"},"reason":"DAPR_STATE_NOT_FOUND"}]}')  # kit: sorted map keys
    assert str(error) == "400 ERR_STATE_STORE_NOT_FOUND: state store s<x> is not found"


def test_exception_tree() -> None:
    assert issubclass(errors.EtagMismatchError, errors.DaprResponseError)
    assert issubclass(errors.DaprResponseError, errors.StatelabError)
    assert issubclass(errors.ComponentError, errors.StatelabError)
    assert issubclass(errors.SidecarError, errors.StatelabError)
    failure = errors.DaprResponseError(409, "ERR_STATE_SAVE", "boom")
    assert (failure.status, failure.error_code, str(failure)) == (409, "ERR_STATE_SAVE",
                                                                  "409 ERR_STATE_SAVE: boom")


def test_every_lazy_name_is_exported_and_every_export_is_lazy() -> None:
    lazy = statelab._LAZY  # type: ignore[attr-defined]  # the table itself is what is tested
    assert sorted(lazy) == [n for n in statelab.__all__ if n != "__version__"]


@pytest.mark.parametrize(("old", "new"), sorted(statelab.MOVED_MODULES.items()))
def test_modules_of_the_flat_layout_still_import(old: str, new: str) -> None:
    import importlib

    assert importlib.import_module(old) is importlib.import_module(new)


def test_a_conflict_can_be_caught_as_an_etag_mismatch() -> None:
    from statelab.dapr.service import SaveItem, StateService
    from statelab.stores.redis.model import RedisModelStore

    from statelab.dapr.components import Component

    service = StateService([Component.around(RedisModelStore())])
    service.save("statestore", [SaveItem("k", 1)])
    with pytest.raises(errors.EtagMismatchError) as info:
        service.save("statestore", [SaveItem("k", 2, etag="9")])
    assert (info.value.status, info.value.error_code) == (409, "ERR_STATE_SAVE")
