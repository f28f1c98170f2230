"""``%%local_only``: runs the cell where Python runs normally; in a browser tab says why not
and shows what the cell printed on a real sidecar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from statelab import local_only
from statelab.local_only import NOTE, RECORDINGS, cell_key, recorded_outputs, register

SDK_CELL = 'from dapr.clients import DaprClient\nprint("saved")\n'


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    instance = InteractiveShell.instance()
    register(instance)
    yield instance
    InteractiveShell.clear_instance()


@pytest.fixture
def recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The package's recordings file, as the browser build writes it, in a folder of its own."""
    monkeypatch.setattr(local_only.resources, "files", lambda package: tmp_path)
    return tmp_path / RECORDINGS


def test_locally_the_cell_runs_as_written(shell: InteractiveShell) -> None:
    result = shell.run_cell("%%local_only\nanswer = 41 + 1\n")
    assert result.success and shell.user_ns["answer"] == 42


def test_in_a_tab_the_cell_is_explained_with_its_recorded_output(
        shell: InteractiveShell, recordings: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(local_only, "in_browser", lambda: True)
    recordings.write_text(json.dumps({cell_key(SDK_CELL): [
        {"output_type": "stream", "name": "stdout", "text": ["saved\n"]},
        {"output_type": "execute_result", "execution_count": 3, "metadata": {},
         "data": {"text/plain": ["'ok'"]}}]}))
    shown: list[Any] = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    result = shell.run_cell("%%local_only\n" + SDK_CELL)
    assert result.success  # nothing was imported: dapr is never needed in a tab
    assert "DaprClient" not in shell.user_ns
    assert capsys.readouterr().out == NOTE + " On a real sidecar it printed:\nsaved\n"
    assert shown == [{"text/plain": "'ok'"}]


def test_in_a_tab_without_a_recording_only_the_reason_is_shown(
        shell: InteractiveShell, recordings: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(local_only, "in_browser", lambda: True)
    assert recorded_outputs(SDK_CELL) == []  # no file at all
    recordings.write_text("{}")
    assert shell.run_cell("%%local_only\n" + SDK_CELL).success
    assert capsys.readouterr().out == NOTE + "\n"


def test_the_key_ignores_outer_blank_lines_only() -> None:
    assert cell_key("\nx = 1\n\n") == cell_key("x = 1")
    assert cell_key("x = 1") != cell_key("x = 2")


def test_importing_statelab_in_a_kernel_registers_the_magic(shell: InteractiveShell) -> None:
    import importlib

    import statelab

    shell.magics_manager.magics["cell"].pop("local_only")
    importlib.reload(statelab)
    assert "local_only" in shell.magics_manager.magics["cell"]
