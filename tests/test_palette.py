"""One palette: no picture or board spells a colour that the palette does not name."""

from __future__ import annotations

import re
from pathlib import Path

import statelab
from statelab.render import palette

PACKAGE = Path(statelab.__file__).parent
COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def test_colours_are_spelled_only_in_the_palette() -> None:
    for folder in ("render", "widgets"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            if path.name == "palette.py":
                continue
            assert not COLOUR.findall(path.read_text()), path.name


def test_palette_names_each_colour_once() -> None:
    colours = {name: value for name, value in vars(palette).items()
               if name.isupper() and isinstance(value, str)}
    assert all(COLOUR.fullmatch(value) for value in colours.values())
    assert len(set(colours.values())) == len(colours)


def test_outcomes_use_palette_colours() -> None:
    named = {value for value in vars(palette).values() if isinstance(value, str)}
    for solid, light, text in palette.OUTCOME_COLOURS.values():
        assert {solid, light, text} <= named
