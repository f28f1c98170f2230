"""Operation histories: JSON round trips, summaries, names."""

from __future__ import annotations

import pytest

from statelab.analysis.history import History, Operation, writer_name
from statelab.sim.race import Race


def test_writer_names() -> None:
    assert [writer_name(p) for p in (0, 1, 25, 26, 127)] == ["A", "B", "Z", "W27", "W128"]


def test_json_round_trip_is_byte_identical() -> None:
    history = Race(writers=3, increments=2, seed=4, timeout_ms=6.0).run()
    text = history.to_json()
    assert text.endswith("\n")
    again = History.from_json(text)
    assert again.to_json() == text
    assert again.operations == history.operations
    assert len(again) == len(history) and again[0] == history[0]


def test_from_json_rejects_other_documents() -> None:
    with pytest.raises(ValueError, match="not a statelab history"):
        History.from_json('{"ops": []}')
    with pytest.raises(ValueError, match="unknown fields"):
        History.from_json('{"operations": [{"index": 0, "surprise": 1}]}')


def test_describe_and_summary() -> None:
    read = Operation(index=0, process=0, kind="read", key="k", invoke_us=0, complete_us=5000,
                     outcome="ok", status=200, value=3, etag_returned="3")
    write = Operation(index=1, process=1, kind="write", key="k", invoke_us=1500,
                      complete_us=9000, outcome="fail", status=409,
                      error_code="ERR_STATE_SAVE", value=4, etag_sent="3")
    lost = Operation(index=2, process=2, kind="write", key="k", invoke_us=2000,
                     complete_us=12000, outcome="info", value={"long": "x" * 40})
    assert read.describe() == "A read k -> 3 @ v3"
    assert write.describe() == "B write k=4 expects v3 -> 409 ERR_STATE_SAVE"
    assert lost.describe() == 'C write k={"long":"xxxxxxxxxxxx... -> timed out (indeterminate)'
    applied = Operation(index=3, process=0, kind="write", key="k", invoke_us=0, complete_us=1,
                        outcome="ok", status=204, value=5, applied_order=1)
    assert applied.describe() == "A write k=5 -> 204 (request #4 sent, #2 applied)"
    assert write.latency_us == 7500
    history = History([read, write, lost])
    assert history.summary().splitlines()[1] == (
        "    1.500ms  B write k=4 expects v3 -> 409 ERR_STATE_SAVE")
    assert history.processes == [0, 1, 2] and history.duration_us == 12000
