"""The writer protocol: actions, the one Operation builder and the one driving loop."""

from __future__ import annotations

from statelab.analysis.history import Operation
from statelab.sim.writer import (
    Action,
    Answer,
    Get,
    Pending,
    Reply,
    Save,
    Sleep,
    WriterGen,
    build_operation,
    drive,
    save_body,
)

SAVE = Save("k", 4, "3", "first-write", "3", increment=2, attempt=3)


def test_save_body_carries_only_what_is_set() -> None:
    assert save_body(Save("k", 1, None, "", None, 1)) == {"key": "k", "value": 1}
    assert save_body(SAVE) == {"key": "k", "value": 4, "etag": "3",
                               "options": {"concurrency": "first-write"}}
    strong = Save("k", 1, None, "", None, 1, consistency="strong")
    assert save_body(strong)["options"] == {"consistency": "strong"}


def test_operations_from_replies() -> None:
    read = build_operation(0, 1, Get("k", 2), 10, 20, Reply(200, "3", 3), applied_us=15)
    assert (read.kind, read.outcome, read.value, read.etag_returned, read.attempt,
            read.applied_us, read.process) == ("read", "ok", 3, "3", 2, 15, 1)
    conflict = build_operation(1, 0, SAVE, 10, 20,
                               Reply(409, None, None, "ERR_STATE_SAVE", "possible etag mismatch"))
    assert (conflict.kind, conflict.outcome, conflict.status, conflict.error_code,
            conflict.value, conflict.etag_sent, conflict.based_on, conflict.increment,
            conflict.attempt) == ("write", "fail", 409, "ERR_STATE_SAVE", 4, "3", "3", 2, 3)
    lost = build_operation(2, 0, SAVE, 10, 20, None)
    assert (lost.outcome, lost.status, lost.value, lost.applied_us) == ("info", None, 4, None)
    assert build_operation(3, 0, Get("k"), 0, 1, Reply(204)).value is None


def test_drive_runs_a_blocking_runner_to_the_end() -> None:
    seen: list[Action] = []

    def writer() -> WriterGen:
        yield Sleep(5)
        read = yield Get("k")
        assert read is not None
        yield Save("k", read.value + 1, None, "", None, 1)

    def perform(action: Action) -> Answer:
        seen.append(action)
        if isinstance(action, Sleep):
            return None
        reply = Reply(200, "1", 1) if isinstance(action, Get) else Reply(204)
        return build_operation(len(seen), 0, action, 0, 1, reply)

    drive(writer(), perform)
    assert seen == [Sleep(5), Get("k"), Save("k", 2, None, "", None, 1)]


def test_drive_stops_when_the_answer_comes_later() -> None:
    seen: list[Action] = []

    def writer() -> WriterGen:
        first = yield Get("k")
        yield Get("k", attempt=2 if first is not None else 9)

    def later(action: Action) -> Pending:
        seen.append(action)
        return Pending.LATER

    gen = writer()
    drive(gen, later)
    assert seen == [Get("k")]
    answer = Operation(index=0, process=0, kind="read", key="k", invoke_us=0, complete_us=1,
                       outcome="ok")
    drive(gen, later, answer)
    assert seen == [Get("k"), Get("k", attempt=2)]
    drive(gen, later, answer)  # the writer ends: nothing more is performed
    assert len(seen) == 2
