"""The SDK lab: the learner's real DaprClient on a private sidecar, writers between its calls."""

from __future__ import annotations

import socket

import pytest
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._state import Concurrency, StateOptions
from dapr.conf import settings

from statelab.dapr.components import Component
from statelab.exercises.framework import CheckFailed, RequestBudgetExceeded
from statelab.exercises.lab import MAX_REQUESTS, Interference, competing_increment
from statelab.exercises.sdk_lab import SdkLab
from statelab.server.sidecar import running_sidecars
from statelab.stores.memory import MemoryStore

FIRST_WRITE = StateOptions(concurrency=Concurrency.first_write)


def test_the_client_is_the_sdk_s_on_a_private_sidecar() -> None:
    before = (settings.DAPR_HTTP_ENDPOINT, settings.DAPR_API_TOKEN)
    with SdkLab() as lab:
        assert isinstance(lab.client, DaprClient)
        assert (settings.DAPR_HTTP_ENDPOINT, settings.DAPR_API_TOKEN) == before
        assert all(s.port != lab.sidecar.port for s in running_sidecars())
        lab.client.save_state("statestore", "k", '{"n": 1}')
        assert lab.value("k") == {"n": 1}
        assert lab.client.get_state("statestore", "k").etag == "1"  # Redis versions
        lab.client.save_state("statestore", "raw", b"\xff not json")
        assert lab.value("raw") == b"\xff not json"
        assert lab.value("missing") is None
        port = lab.sidecar.grpc_port
    assert port is not None
    with socket.socket() as probe:  # the gRPC port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_writers_act_after_the_answer_and_the_transcript_says_what_happened() -> None:
    with SdkLab() as lab:
        lab.schedule([Interference(1, competing_increment("hits"))])
        lab.save("hits", 10)
        state = lab.client.get_state("statestore", "hits")
        assert state.data == b"10"  # the read was answered before the writer acted
        with pytest.raises(DaprGrpcError):
            lab.client.save_state("statestore", "hits", "11", etag=state.etag,
                                  options=FIRST_WRITE)
        assert lab.value("hits") == 11
        assert lab.transcript() == ("1 GetState(hits) -> OK; "
                                    "2 SaveState(hits, stale etag '1') -> ABORTED")
        lab.schedule()
        assert (lab.calls, lab.value("hits")) == ([], None)


def test_transcripts_hide_random_etags_and_name_transactions() -> None:
    with SdkLab([Component.around(MemoryStore(), "memstore")]) as lab:
        lab.schedule()
        lab.save("a", 1, store="memstore")
        etag = lab.client.get_state("memstore", "a").etag
        lab.client.delete_state("memstore", "a", etag=etag)
        assert lab.transcript() == "1 GetState(a) -> OK; 2 DeleteState(a, etag) -> OK"


def test_the_budget_cannot_be_swallowed_and_the_answer_is_reported() -> None:
    def swallow_everything(client: DaprClient) -> None:
        while True:
            try:
                client.get_state("statestore", "k")
            except Exception:  # noqa: BLE001, S112 - the mistake under test
                continue

    with SdkLab() as lab:
        lab.schedule()
        with pytest.raises(RequestBudgetExceeded):
            swallow_everything(lab.client)
        assert len(lab.calls) == MAX_REQUESTS
        lab.schedule()
        with pytest.raises(CheckFailed, match=r"^schedule 3: your function sent more than 60 "
                           r"requests; does a loop ever end\? Your calls and Dapr's answers: "
                           r"1-60 GetState\(k\) -> OK \(60 times\)\.$"):
            lab.answer(3, swallow_everything, lab.client)
