"""The SVG timeline: well-formed, deterministic, legible, and faithful to the history."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache

import pytest

from statelab.analysis.history import History, Operation
from statelab.analysis.races import analyse, lost_updates
from statelab.render import timeline as tl
from statelab.render.palette import CRIMSON, OUTCOME_COLOURS
from statelab.render.svg import num
from statelab.render.timeline import CHAR_W, Timeline, render_timeline
from statelab.render.timeline_layout import TOOLTIP_LIMIT
from statelab.sim.race import Latency, Race, RetryPolicy

SVG = "{http://www.w3.org/2000/svg}"


@cache
def run(**params: object) -> History:
    return Race(**params).run()  # type: ignore[arg-type]


def small(mode: str = "last-write", **params: object) -> History:
    return run(writers=3, increments=2, mode=mode, seed=1, **params)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


CASES = {
    "last-write": dict(writers=3, increments=2, mode="last-write", seed=1),
    "first-write": dict(writers=3, increments=2, mode="first-write", seed=1),
    "default-first-write": dict(writers=8, increments=20, mode="first-write", seed=0),
    "32-writers": dict(writers=32, increments=3, mode="first-write", seed=0),
    "three-keys": dict(writers=4, increments=6, keys=3, mode="last-write", seed=2),
    "memory-timeouts": dict(writers=3, increments=3, mode="first-write", store="memory",
                            timeout_ms=7, seed=3),
    "etag-with-last-write": dict(writers=4, increments=3, mode="etag-with-last-write", seed=4),
    "no-reread": dict(writers=3, increments=3, mode="first-write", seed=5,
                      retry=RetryPolicy("immediate", max_attempts=3, reread=False)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_well_formed_and_deterministic(name: str) -> None:
    history = run(**CASES[name])
    report = analyse(history)
    cursor = len(history) // 2
    first = render_timeline(history, report, cursor, title=name)
    again = render_timeline(History.from_json(history.to_json()), analyse(history), cursor,
                            title=name)
    assert first == again
    root = parse(first)
    assert root.get("width") == "960"
    assert not re.search(r"\bid=", first)          # several timelines may share a page
    assert not re.search(r"0x[0-9a-f]{6,}", first)  # no memory addresses


@pytest.mark.parametrize("name", sorted(CASES))
def test_coordinates_are_rounded_to_one_decimal(name: str) -> None:
    svg = render_timeline(run(**CASES[name]), cursor=3)
    for attr, value in re.findall(r'\b(x|y|x1|x2|width|height|cx|cy|d)="([^"]*)"', svg):
        for number in re.findall(r"-?\d+\.\d+", value):
            assert len(number.split(".")[1]) == 1, (attr, value)
    assert not re.search(r'="-0"|[ ML]-0[ "LVHhvz]', svg)


def test_one_lane_per_writer_plus_the_store_lane() -> None:
    history = run(**CASES["32-writers"])
    words = texts(parse(render_timeline(history)))
    names = [chr(ord("A") + i) for i in range(26)] + [f"W{i}" for i in range(27, 33)]
    for name in names:
        assert name in words
    assert "store" in words and "counter-0" in words


def test_outcome_colours_and_read_write_shapes() -> None:
    history = small("first-write")
    timeline = Timeline(history)
    timeline.base()
    conflicts = [op for op in history if op.status == 409]
    assert conflicts
    bar = timeline.bars[conflicts[0].index]
    assert bar.fill == OUTCOME_COLOURS["conflict"][0]
    read = next(op for op in history if op.kind == "read" and op.outcome == "ok")
    write = next(op for op in history if op.kind == "write" and op.outcome == "ok")
    read_bar, write_bar = timeline.bars[read.index], timeline.bars[write.index]
    assert read_bar.fill == OUTCOME_COLOURS["ok"][1] and read_bar.stroke == OUTCOME_COLOURS["ok"][0]
    assert write_bar.fill == OUTCOME_COLOURS["ok"][0] and write_bar.stroke is None
    assert read_bar.h < write_bar.h  # reads are thinner: visible without colour


def test_labels_speak_in_versions() -> None:
    words = texts(parse(render_timeline(small("first-write"))))
    assert any(re.fullmatch(r"expects v\d+ → v\d+", w) for w in words)
    assert any(re.fullmatch(r"saw v\d+", w) for w in words)
    assert "empty" in words
    words = texts(parse(render_timeline(small("last-write"))))
    assert any(re.fullmatch(r"(from v\d+, )?no etag → v\d+", w) for w in words)


def test_timeouts_are_grey_and_say_so() -> None:
    history = run(**CASES["memory-timeouts"])
    assert any(op.outcome == "info" for op in history)
    svg = render_timeline(history)
    assert OUTCOME_COLOURS["info"][0] in svg
    assert "timed out after" in svg
    assert "timeout" in texts(parse(svg))


def test_labels_fit_inside_their_bars_and_never_overlap() -> None:
    for name in CASES:
        timeline = Timeline(run(**CASES[name]))
        timeline.base()
        by_lane: dict[float, list[tuple[float, float]]] = {}
        for bar in timeline.bars.values():
            assert timeline.layout.left - 0.05 <= bar.x1 < bar.x2 <= timeline.layout.right + 0.05
            if bar.label is None:
                continue
            width = len(bar.label) * timeline.layout.label_size * CHAR_W
            assert width <= bar.x2 - bar.x1 - 3, (name, bar.label)
            centre = (bar.x1 + bar.x2) / 2
            by_lane.setdefault(round(bar.y + bar.h / 2, 1), []).append(
                (centre - width / 2, centre + width / 2))
        for spans in by_lane.values():
            spans.sort()
            for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                assert end <= start, name


def test_dense_histories_drop_labels_and_ticks() -> None:
    history = run(**CASES["default-first-write"])
    timeline = Timeline(history)
    timeline.base()
    labelled = sum(1 for bar in timeline.bars.values() if bar.label)
    assert labelled < len(history) / 4
    assert len(timeline.bars) == len(history)  # but every request is drawn


def test_lost_updates_are_marked_and_explained() -> None:
    history = small("last-write")
    found = lost_updates(history)
    assert found
    anomaly, sentence = found[0]
    svg = render_timeline(history)
    root = parse(svg)
    titles = ["".join(t.itertext()) for t in root.iter(f"{SVG}title")]
    assert f"lost update: {sentence}" in titles
    assert any(t.endswith(f"this increment is lost: {sentence}") for t in titles)
    outlines = [g for g in root.iter(f"{SVG}g") if g.get("stroke") == CRIMSON]
    assert outlines and len(list(outlines[0])) == len(found)
    strikes = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == CRIMSON]
    assert strikes


def test_first_write_has_no_lost_update_marks() -> None:
    svg = render_timeline(small("first-write"), cursor=4, legend=False)
    assert "lost" not in svg
    assert CRIMSON not in svg


def test_store_lane_shows_versions_and_the_gap() -> None:
    history = small("last-write")
    report = analyse(history)
    words = texts(parse(render_timeline(history, report)))
    assert "v1=1" in words
    final = [w for w in words if w.startswith(f"v{report.successes} · value ")]
    assert final == [f"v{report.successes} · value {report.final_total}"]
    assert any(w.startswith("final value 3, expected 6") for w in words)


def test_store_lane_per_key() -> None:
    history = run(**CASES["three-keys"])
    timeline = Timeline(history)
    assert timeline.layout.keys == ["counter-0", "counter-1", "counter-2"]
    words = texts(parse(timeline.svg()))
    assert words.count("store") == 3


def test_many_keys_are_capped() -> None:
    history = run(writers=2, increments=12, keys=12, mode="last-write", seed=0)
    timeline = Timeline(history)
    assert len(timeline.layout.keys) == tl.MAX_STORE_LANES
    assert timeline.layout.keys[-1] == "counter-7"
    assert any("more key(s) not drawn" in w for w in texts(parse(timeline.svg())))


def test_cursor_highlights_the_operation_and_fades_the_future() -> None:
    history = small("first-write")
    timeline = Timeline(history)
    op = history[5]
    svg = timeline.svg(5)
    x, y, w, h = timeline.op_bar(5)  # type: ignore[misc]
    assert (f'<rect x="{num(x - 2)}" y="{num(y - 2)}" width="{num(w + 4)}" '
            f'height="{num(h + 4)}" fill="none" stroke="{tl.CURSOR}"') in svg
    assert f"operation 6 of {len(history)} at {op.invoke_us / 1000:.3f} ms" in svg
    assert f'<path d="M{num(timeline.layout.x(op.invoke_us))} ' in svg
    assert 'fill-opacity="0.55"' in svg
    assert 'fill-opacity="0.55"' not in timeline.svg(5, fade=False)


def test_cursor_moves_only_the_overlay() -> None:
    timeline = Timeline(small("first-write"))
    base = timeline.base()
    assert timeline.svg(2) != timeline.svg(7)
    assert timeline.base() is base
    assert timeline.svg(2).startswith(timeline.base_svg().removesuffix("</svg>"))
    assert timeline.overlay_svg(2).count("<svg") == 1
    assert "pointer-events:none" in timeline.overlay_svg(2)
    parse(timeline.overlay_svg(2))
    parse(timeline.base_svg())


def test_cursor_is_clamped_and_can_be_a_time() -> None:
    history = small()
    timeline = Timeline(history)
    assert timeline.svg(10_000) == timeline.svg(len(history) - 1)
    assert timeline.svg(-5) == timeline.svg(0)
    at_time = timeline.svg(cursor_us=5000)
    assert not re.search(r"operation \d+ of \d+", at_time) and "5.000 ms" in at_time


def test_cursor_on_a_lost_update_says_so() -> None:
    history = small("last-write")
    anomaly, sentence = lost_updates(history)[0]
    svg = render_timeline(history, cursor=anomaly.write_index)
    assert f"lost update: {sentence}" in texts(parse(svg))


def test_window_draws_only_that_stretch() -> None:
    history = run(**CASES["default-first-write"])
    whole = Timeline(history)
    window = Timeline(history, window_us=(100_000, 125_000))
    window.base()
    assert 0 < len(window.bars) < len(history) / 10
    for bar in window.bars.values():
        assert window.layout.left <= bar.x1 and bar.x2 <= window.layout.right
    assert sum(1 for b in window.bars.values() if b.label) > len(window.bars) / 3
    assert len(window.svg()) < len(whole.svg()) / 5
    assert "100" in texts(parse(window.svg()))  # axis in milliseconds


def test_empty_and_tiny_histories() -> None:
    empty = render_timeline(History())
    assert "no operations yet" in texts(parse(empty))
    assert render_timeline(History(), cursor=3) == empty
    one = History([Operation(index=0, process=0, kind="read", key="k", invoke_us=0,
                             complete_us=0, outcome="ok", status=204)])
    parse(render_timeline(one, cursor=0))


def test_text_is_escaped() -> None:
    op = Operation(index=0, process=0, kind="write", key="<k&>", invoke_us=0,
                   complete_us=5000, outcome="ok", status=204, value="<b>&'\"</b>",
                   applied_us=2000, applied_order=0, applied_status=204)
    svg = render_timeline(History([op]), cursor=0)
    root = parse(svg)
    assert any("<k&>" in t for t in texts(root))


def test_live_history_without_server_side_times() -> None:
    """Live histories have no applied_order: versions come from answer order and ETags."""
    ops = [
        Operation(index=0, process=0, kind="read", key="k", invoke_us=1_000, complete_us=2_000,
                  outcome="ok", status=200, value=4, etag_returned="4"),
        Operation(index=1, process=1, kind="read", key="k", invoke_us=1_500, complete_us=2_500,
                  outcome="ok", status=200, value=4, etag_returned="4"),
        Operation(index=2, process=0, kind="write", key="k", invoke_us=2_000, complete_us=3_000,
                  outcome="ok", status=204, value=5, etag_sent="4", based_on="4"),
        Operation(index=3, process=1, kind="write", key="k", invoke_us=2_500, complete_us=3_500,
                  outcome="fail", status=409, value=5, etag_sent="4", based_on="4",
                  error_code="ERR_STATE_SAVE"),
    ]
    timeline = Timeline(History(ops), writers=3)
    assert timeline.layout.processes == [0, 1, 2]
    assert timeline.layout.t0 == 1_000
    svg = timeline.svg(3)
    assert "409 ERR_STATE_SAVE" in svg
    parse(svg)


def test_large_history_stays_compact() -> None:
    history = run(writers=16, increments=10, mode="first-write", seed=0,
                  latency=Latency("uniform", 1.0, 5.0))
    assert len(history) > 1500
    svg = render_timeline(history, tooltips=False)
    parse(svg)
    assert len(svg) / len(history) < 120  # bytes per operation without tooltips


def test_tooltips_are_left_out_when_too_many_bars_are_in_view() -> None:
    history = run(**CASES["default-first-write"])
    assert len(history) > TOOLTIP_LIMIT
    dense = render_timeline(history)
    assert "<title>" not in dense and "zoom in to hover" in dense
    forced = render_timeline(history, tooltips=True)
    assert forced.count("<title>") >= len(history) and "zoom in to hover" not in forced
    zoomed = render_timeline(history, window_us=(100_000, 125_000))
    assert "<title>" in zoomed and "zoom in to hover" not in zoomed
    assert "zoom in to hover" not in render_timeline(history, tooltips=False)


def test_default_title() -> None:
    assert tl.default_title(small()) == \
        "last-write · 3 writers × 2 increments · redis store · seed 1"
    assert tl.default_title(History()) == "0 operations"


def test_all_is_sorted() -> None:
    assert tl.__all__ == sorted(tl.__all__)
