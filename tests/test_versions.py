"""One replay of a history: versions, what each request saw, and the version tree."""

from __future__ import annotations

from statelab.analysis.history import History, Kind, Operation
from statelab.analysis.versions import applied_ok, replay
from statelab.sim.race import run_schedule


def write(index: int, process: int, value: int, based_on: str | None = None, *,
          order: int | None = None, kind: Kind = "write") -> Operation:
    return Operation(index=index, process=process, kind=kind, key="k",
                     invoke_us=index * 10, complete_us=index * 10 + 5, outcome="ok",
                     status=204, value=value, based_on=based_on, applied_order=order,
                     applied_us=None if order is None else index * 10 + 2)


def test_applied_ok_trusts_the_store_over_the_client() -> None:
    timed_out = Operation(index=0, process=0, kind="write", key="k", invoke_us=0,
                          complete_us=5, outcome="info")
    assert not applied_ok(timed_out)
    timed_out.applied_status = 204
    assert applied_ok(timed_out)


def test_versions_and_facts_of_a_lost_update() -> None:
    story = replay(run_schedule((0, 1, 0, 1)))  # A reads, B reads, A writes, B writes
    assert story.store_order
    assert [v.number for v in story.versions["counter-0"]] == [0, 1, 2]
    assert (story.facts[2].based, story.facts[2].made) == (0, 1)
    assert (story.facts[3].store_at, story.facts[3].based, story.facts[3].made) == (1, 0, 2)
    [first, second] = story.writes
    assert second.replaced is first and second.based is not None and second.based.number == 0
    assert second.erased() == [first] and first.erased() == []


def test_erased_names_every_write_on_the_dropped_branch() -> None:
    story = replay(run_schedule((0, 1, 1, 2, 2, 0)))  # B writes, C builds on it, A from empty
    last = story.writes[-1]
    assert [v.index for v in last.erased()] == [2, 4]
    assert [v.depth for v in story.writes] == [1, 2, 1]


def test_a_delete_starts_the_key_again_from_empty() -> None:
    story = replay(History([write(0, 0, 1, order=0),
                            write(1, 0, 0, order=1, kind="delete"),
                            write(2, 1, 7, order=2)]))
    assert [(v.number, v.index) for v in story.versions["k"]] == [(0, None), (1, 0), (0, 1),
                                                                   (1, 2)]
    assert story.facts[2].store_at == 0 and story.facts[2].made == 1
    assert story.writes[-1].erased() == []  # nothing was there to lose


def test_a_live_history_is_replayed_in_answer_order() -> None:
    story = replay(History([write(1, 1, 1), write(0, 0, 1)]))
    assert not story.store_order
    assert [v.index for v in story.versions["k"]] == [None, 0, 1]


def test_unknown_etags_fall_back_to_their_number() -> None:
    sent = write(0, 0, 3, based_on="2", order=0)
    story = replay(History([sent]))
    assert story.facts[0].based == 2  # a Redis ETag is the version number
    assert story.writes[0].based is story.versions["k"][0]  # but the tree only knows "empty"
