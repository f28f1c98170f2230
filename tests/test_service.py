"""StateService rules that only the gRPC door reaches so far (statelab/dapr/service.py).

The rest of the service is covered through its doors (tests/test_api.py over HTTP,
tests/test_grpc.py over gRPC) and by the simulator's tests.
"""

from __future__ import annotations

import pytest

from statelab.dapr.components import Component
from statelab.dapr.service import DeleteItem, SaveItem, StateService
from statelab.errors import DaprError

MISMATCH = "possible etag mismatch. error from state store: "


@pytest.fixture(params=["state.redis", "state.in-memory"])
def service(request: pytest.FixtureRequest) -> StateService:
    return StateService([Component(name="s", type=request.param, version="v1", metadata={},
                                   source="(tests)")])


def test_delete_bulk_deletes_in_order(service: StateService) -> None:
    service.save("s", [SaveItem("a", 1), SaveItem("b", 2)])
    service.delete_bulk("s", [DeleteItem("a"), DeleteItem("b")])
    assert service.get("s", "a") is None and service.get("s", "b") is None
    service.delete_bulk("s", [])  # no items: a success


def test_delete_bulk_checks_every_key_first(service: StateService) -> None:
    service.save("s", [SaveItem("a", 1)])
    with pytest.raises(DaprError) as caught:
        service.delete_bulk("s", [DeleteItem("a"), DeleteItem("x||y")])
    assert caught.value.error_code == "ERR_MALFORMED_REQUEST"
    assert service.get("s", "a") is not None


def test_delete_bulk_one_failure_and_joined_failures(service: StateService) -> None:
    service.save("s", [SaveItem("a", 1), SaveItem("b", 2), SaveItem("c", 3)])
    stale = "99" if service.components[0].type == "state.redis" else "nope"
    with pytest.raises(DaprError) as one:
        service.delete_bulk("s", [DeleteItem("a", etag=stale)])
    assert (one.value.status, one.value.error_code) == (409, "ERR_STATE_BULK_DELETE")
    assert one.value.message.startswith("failed deleting state in state store s: " + MISMATCH)
    with pytest.raises(DaprError) as joined:
        service.delete_bulk("s", [DeleteItem("a", etag=stale), DeleteItem("b"),
                                  DeleteItem("c", etag=stale)])
    assert joined.value.status == 409  # every failure an ETag one: re-wrapped as one
    assert joined.value.message.count(MISMATCH) == 3
    assert service.get("s", "b") is None  # not atomic: the good item is deleted
    assert service.get("s", "a") is not None and service.get("s", "c") is not None
