"""Playback shared by every board: the slider counts from 1, the Python API from 0."""

from __future__ import annotations

import ipywidgets
import pytest

from statelab.widgets.player import Playback, StaticRepr


class Moves:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_slider_counts_from_one_cursor_from_zero() -> None:
    moves = Moves()
    playback = Playback(moves, play={}, slider={})
    assert playback.cursor is None and playback.seek(3) is None and playback.step() is None
    playback.reset(10, to_end=True)
    assert moves.count == 0  # a reset is quiet: the board redraws once after it
    assert playback.slider.value == playback.slider.max == playback.play.max == 10
    assert playback.cursor == 9 and playback.at_end
    assert playback.seek(0) == 0 and playback.slider.value == 1
    assert playback.step(3) == 3 and playback.slider.value == 4
    assert playback.seek(99) == 9 and playback.seek(-5) == 0
    assert moves.count == 4
    playback.slider.value = 5  # a drag in the front end
    assert playback.cursor == 4 and moves.count == 5


def test_reset_can_keep_the_cursor() -> None:
    playback = Playback(Moves(), play={}, slider={})
    playback.reset(10, to_end=True)
    playback.seek(2)
    playback.reset(20, to_end=False)
    assert playback.cursor == 2 and not playback.at_end
    playback.reset(0, to_end=True)
    assert playback.cursor is None and playback.slider.max == 1


def test_play_is_jslinked_to_the_slider() -> None:
    playback = Playback(Moves(), play={"interval": 50}, slider={})
    assert isinstance(playback.link, ipywidgets.widgets.widget_link.Link)
    assert playback.link.source == (playback.play, "value")
    assert playback.link.target == (playback.slider, "value")
    assert playback.play.interval == 50


class Board(StaticRepr, ipywidgets.HTML):  # type: ignore[misc]  # ipywidgets ships no type hints
    def summary_text(self) -> str:
        return "Board: text"

    def summary_html(self) -> str:
        return "<p>Board</p>"


@pytest.mark.parametrize("kwargs", [{}, {"include": None}])
def test_static_repr_keeps_the_widget_view(kwargs: dict[str, object]) -> None:
    board = Board()
    bundle = board._repr_mimebundle_(**kwargs)
    assert bundle["text/plain"] == repr(board) == "Board: text"
    assert bundle["text/html"] == "<p>Board</p>"
    assert "application/vnd.jupyter.widget-view+json" in bundle
