"""Race checks: lost updates named in a sentence, final value, conflicts, retries."""

from __future__ import annotations

from statelab.analysis.history import History, Operation
from statelab.analysis.races import analyse, lost_updates
from statelab.sim.race import Race, RetryPolicy, run_schedule


def test_the_classic_lost_update_sentence() -> None:
    history = run_schedule((0, 1, 0, 1))  # A reads, B reads, A writes, B writes
    [(anomaly, sentence)] = lost_updates(history)
    assert sentence == ("writer B overwrote version 1 of counter-0 with a value computed from an "
                        "empty key; writer A's increment is lost")
    assert (anomaly.overwritten_version, anomaly.based_on_version) == (1, 0)
    assert anomaly.lost_writers == ("A",) and anomaly.lost_indexes == (2,)
    report = analyse(history)
    assert (report.final_total, report.expected, report.lost) == (1, 2, 1)
    assert report.first_anomaly_index == 3
    assert report.lines()[0] == "final value 1, expected 2 (1 increment(s) lost)"


def test_versions_match_redis_etags() -> None:
    history = Race(writers=4, increments=5, mode="last-write", seed=2).run()
    for anomaly, sentence in lost_updates(history):
        assert f"version {anomaly.overwritten_version} of counter-0" in sentence
        write = history[anomaly.write_index]
        if write.based_on is not None:
            assert int(write.based_on) == anomaly.based_on_version  # Redis etag == version


def test_several_writers_in_one_sentence() -> None:
    history = run_schedule((0, 1, 1, 2, 2, 0))  # B writes, C builds on it, A overwrites both
    sentences = [s for _, s in lost_updates(history)]
    assert sentences[-1] == ("writer A overwrote version 2 of counter-0 with a value computed "
                             "from an empty key; the increments of writers B and C are lost")


def test_every_missing_increment_is_named_exactly_once() -> None:
    """The count the report gives reconciles: the increments the sentences name add up to
    those missing from the final value, each named once, even when a later write computed
    from an older version brought a dropped one back."""
    for seed in range(12):
        history = Race(writers=5, increments=4, mode="last-write", seed=seed).run()
        report = analyse(history)
        named = [i for anomaly, _ in lost_updates(history) for i in anomaly.lost_indexes]
        assert len(named) == len(set(named)) == report.erased == report.lost, seed
        if report.anomalies:
            assert report.lines()[1] == (
                f"lost updates: {len(report.anomalies)} write"
                + ("" if len(report.anomalies) == 1 else "s")
                + " overwrote a newer version than the one they were computed from, erasing "
                f"{report.erased} increment" + ("" if report.erased == 1 else "s")
                + " (the ones missing above); each below, in the store's order")


def test_a_dropped_write_brought_back_is_not_lost() -> None:
    # A reads 0, B reads 0, A writes 1 (v1), C reads v1, B writes 1 from v0 (drops A),
    # C writes 2 from v1 (brings A back, drops B): only B's increment is missing, charged to C.
    history = run_schedule((0, 1, 0, 2, 1, 2))
    report = analyse(history)
    [(anomaly, sentence)] = lost_updates(history)
    assert anomaly.lost_writers == ("B",) and history[anomaly.write_index].writer == "C"
    assert (report.final_total, report.expected, report.lost, report.erased) == (2, 3, 1, 1)


def test_first_write_report() -> None:
    report = analyse(Race(writers=6, increments=5, seed=8, retry=RetryPolicy("backoff")).run())
    assert report.anomalies == [] and report.lost == 0
    assert report.successes == report.expected == 30
    assert report.conflicts > 0 and report.retries > 0
    assert report.retries_per_success == report.retries / 30
    assert sum(report.attempts.values()) == 30
    assert report.throughput_per_s > 0 and report.latency_p99_ms >= report.latency_p50_ms
    assert report.text().splitlines()[1] == "lost updates: 0"


def test_live_histories_use_the_final_values() -> None:
    op = Operation(index=0, process=0, kind="write", key="counter-0", invoke_us=0,
                   complete_us=10, outcome="ok", status=204, value=1, increment=1)
    history = History([op, op], meta={"live": True, "final_values": {"counter-0": 1}})
    report = analyse(history)
    assert report.live and report.final == {"counter-0": 1} and report.lost == 1
    assert report.lines()[1].startswith("lost updates: not named in a live run")


def test_empty_history() -> None:
    report = analyse(History())
    assert (report.expected, report.final_total, report.retries_per_success,
            report.throughput_per_s) == (0, 0, 0.0, 0.0)
