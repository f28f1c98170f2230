"""The tutorial in a real browser: JupyterLab end-to-end tests (issue: browser tests).

A module fixture starts ``jupyter lab`` from this environment on a free loopback port, in a
temporary root that holds copies of the notebooks, with its own JUPYTER_* directories, the
news/update pop-up turned off by a settings override (as on Binder) and the exercise progress
file in the same temporary directory. Debian's Chromium, driven by Python playwright, then:

* opens every notebook, runs all its cells from the Run menu and checks that every cell ran,
  that no cell has an error output (unless tagged ``raises-exception``), that every widget
  rendered (no "Error displaying widget"), and saves a screenshot of each widget;
* plays with a race board (writers, mode, Run, step, scrub), a replica board (strong and
  eventual) and an exercise (a wrong answer, then the reference solution, then the progress
  checklist), in scratch notebooks written next to the copies.

Screenshots go to ``test-artifacts/browser/`` (git-ignored). Missing Chromium or playwright
skips these tests with a message on a learner's machine and fails them under ``CI=true``.
Never run ``playwright install``: the tests use Debian's ``/usr/bin/chromium``.

Every wait is on a condition (playwright's auto-waiting ``expect`` or ``wait_for_function``),
never a sleep, so the tests are as fast as the machine and do not race.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import IN_CI, free_port, require_binary

from statelab.render.replica_timeline import COLOURS
from statelab.render.timeline import CURSOR

try:
    from playwright.sync_api import Locator, Page, expect, sync_playwright
except ImportError:  # checked (skip locally, fail under CI) by the browser fixture
    sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM_HINT = ("needs Debian's Chromium for the JupyterLab browser tests: apt-get install "
                 "chromium (never `playwright install`: the tests use /usr/bin/chromium)")
PLAYWRIGHT_HINT = ("needs the playwright Python package for the JupyterLab browser tests: "
                   "pip install -e '.[test]' (then apt-get install chromium)")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNEL_IDLE = "| Idle"
STALE = COLOURS["stale"]  # replica board: a stale read's bar
HIGHLIGHT = f'rect[stroke="{CURSOR}"][stroke-width="2.5"]'  # race board: the cursor's operation

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing(what: str, hint: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is missing in CI: {hint}")
    pytest.skip(hint)


def _require_browser_tools() -> str:
    """Chromium's path; skips (or fails under CI) when Chromium, playwright or JupyterLab is
    missing."""
    if sync_playwright is None:
        _missing("playwright", PLAYWRIGHT_HINT)
    if importlib.util.find_spec("jupyterlab") is None:
        _missing("jupyterlab", "needs JupyterLab for the browser tests: pip install -e "
                               "'.[notebooks,test]'")
    return require_binary("chromium", CHROMIUM_HINT)


# -- JupyterLab ----------------------------------------------------------------------------------

class Lab:
    """A JupyterLab server that the tests own: its URL, token, root and REST helpers."""

    def __init__(self, base: str, token: str, root: Path, progress: Path, log: Path) -> None:
        self.base, self.token, self.root, self.progress, self.log = (
            base, token, root, progress, log)
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"token {token}"},
                                 timeout=30)

    def url(self, notebook: str) -> str:
        # reset: start from the default layout, not the last test's open tabs
        return f"{self.base}/lab/tree/{notebook}?token={self.token}&reset"

    def shut_down_kernels(self) -> None:
        """Delete every session (and so its kernel), so the next notebook gets port 3500."""
        for session in self.http.get("/api/sessions").json():
            self.http.delete(f"/api/sessions/{session['id']}")
        for kernel in self.http.get("/api/kernels").json():
            self.http.delete(f"/api/kernels/{kernel['id']}")


def serve_jupyter(app: str, base_dir: Path, files: Iterable[Path], server_class: type[Lab],
                  ) -> Iterator[Lab]:
    """Run ``python -m <app>`` (``jupyterlab`` or ``notebook``) on a free loopback port with a
    token, its own JUPYTER_* directories and a root holding copies of *files*; yield a
    *server_class* once ``/api/status`` answers, and stop the process afterwards."""
    root, home = base_dir / "root", base_dir / "home"
    root.mkdir()
    for path in files:
        shutil.copy(path, root / path.name)
    # the news/update pop-up covers the bottom right corner: off, as on Binder
    app_settings = home / "app-settings"
    app_settings.mkdir(parents=True)
    shutil.copy(ROOT / "binder" / "overrides.json", app_settings / "overrides.json")
    progress = base_dir / "progress.json"
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "IPYTHONDIR": str(home / "ipython"), "STATELAB_PROGRESS_FILE": str(progress)}
    env.pop("STATELAB_DAPR_URL", None)  # each notebook starts its own sidecar
    app_class = {"jupyterlab": "LabApp", "notebook": "JupyterNotebookApp"}[app]
    port, token = free_port(), "statelab-browser-tests"
    command = [sys.executable, "-m", app, "--no-browser", "--allow-root",
               "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--{app_class}.app_settings_dir={app_settings}",
               # window.jupyterapp: the tests read the notebook model (execution counts,
               # output types, tags); cells are still run from the menus
               f"--{app_class}.expose_app_in_browser=True"]
    log_path = base_dir / f"{app}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if httpx.get(f"{base}/api/status", params={"token": token},
                             timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)  # polling the server's start, not waiting for a race
        server = server_class(base, token, root, progress, log_path)
        yield server
        server.http.close()
    finally:
        process.terminate()  # jupyter_server shuts its kernels down on SIGTERM
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


# Module scope, not session: playwright's sync API keeps an asyncio loop running in this thread
# while it is open, and later test modules call asyncio.run().
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    _require_browser_tools()  # no server to start if the browser is missing
    files = [*NOTEBOOKS, ROOT / "notebooks" / "nbval-sanitize.cfg", ROOT / "notebooks" / "glossary.md"]
    yield from serve_jupyter("jupyterlab", tmp_path_factory.mktemp("jupyterlab"), files, Lab)


@pytest.fixture(scope="module")
def browser_context(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = _require_browser_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1600})  # tall: whole boards on screen
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(lab: Lab, browser_context: Any) -> Iterator[Page]:
    lab.shut_down_kernels()
    page = browser_context.new_page()
    # a widget view that throws (or any front-end failure) shows up here, not in the page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    try:
        yield page
        assert not errors, "errors in the browser:\n" + "\n".join(errors)
    finally:
        page.close()
        lab.shut_down_kernels()


# -- driving JupyterLab --------------------------------------------------------------------------

CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = [];
    for (let j = 0; j < cell.outputs.length; j++) {
      const o = cell.outputs.get(j).toJSON();
      outputs.push({type: o.output_type, mimes: Object.keys(o.data || {}),
                    ename: o.ename || null, evalue: o.evalue || null});
    }
    out.push({index: i, count: cell.executionCount, tags: cell.getMetadata('tags') || [],
              source: cell.sharedModel.getSource().slice(0, 80), outputs});
  }
  return out;
}"""

# Run all has finished: every code cell has a count, or a cell not tagged raises-exception
# failed (JupyterLab stops there, so later cells would never get one).
FINISHED_JS = """() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  let all = true;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const tags = cell.getMetadata('tags') || [];
    for (let j = 0; j < cell.outputs.length; j++) {
      if (cell.outputs.get(j).type === 'error' && !tags.includes('raises-exception')) return true;
    }
    if (!cell.executionCount) all = false;
  }
  return all;
}"""


def open_notebook(page: Page, lab: Lab, name: str) -> None:
    """Open *name* and wait for its kernel (the status bar, not the toolbar: see research)."""
    page.goto(lab.url(name))
    expect(page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)).to_be_visible(
        timeout=60_000)
    # more room for the 960-pixel pictures: fold the file browser away
    page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    expect(page.locator("#jp-left-stack")).to_be_hidden()


def menu(page: Page, top: str, item: str) -> None:
    page.get_by_role("menuitem", name=top, exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def cells(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(CELLS_JS)


def run_all(page: Page, timeout_ms: int = 120_000) -> list[dict[str, Any]]:
    """Clear every output (and count), run all cells from the Run menu, wait for the end."""
    menu(page, "Edit", "Clear Outputs of All Cells")
    assert all(cell["count"] is None for cell in cells(page)), "outputs were not cleared"
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(FINISHED_JS, timeout=timeout_ms, polling=100)
    expect(page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)).to_be_visible(
        timeout=60_000)
    return cells(page)


def error_outputs(model: list[dict[str, Any]]) -> list[str]:
    return [f"cell {cell['index']} ({cell['source']!r}): {o['ename']}: {o['evalue']}"
            for cell in model for o in cell["outputs"]
            if o["type"] == "error" and "raises-exception" not in cell["tags"]]


def widget_outputs(page: Page) -> Locator:
    """Each top-level widget view in an output area (a board, a chart, ...)."""
    return page.locator(".jp-OutputArea-output > .jupyter-widgets")


def check_widgets(page: Page, expected: int) -> None:
    """Every widget view rendered and visible; no "Error displaying widget" anywhere."""
    views = widget_outputs(page)
    expect(views).to_have_count(expected, timeout=30_000)
    for number in range(expected):
        view = views.nth(number)
        view.scroll_into_view_if_needed()
        expect(view).to_be_visible()
        containers = view.locator(".widget-box, .widget-gridbox, .widget-html-content svg")
        for inner in range(containers.count()):
            expect(containers.nth(inner)).to_be_visible()
        box = view.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50, box
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    expect(page.get_by_text("Loading widget")).to_have_count(0)
    # a slider's value that does not fit its readout gets ipywidgets' "overflow" shadow
    expect(page.locator(".jp-OutputArea-output .widget-readout.overflow")).to_have_count(0)


def shoot(locator: Locator, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path


def write_notebook(lab: Lab, name: str, sources: list[str]) -> str:
    """A scratch notebook in the lab's root (never in the repository)."""
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{number}",
                   "metadata": {}, "outputs": [], "source": textwrap.dedent(source).strip()}
                  for number, source in enumerate(sources)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                    "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5}
    (lab.root / name).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return name


# -- every notebook, Run All ----------------------------------------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(notebook: Path, lab: Lab, page: Page) -> None:
    open_notebook(page, lab, notebook.name)
    model = run_all(page)
    missing = [cell["index"] for cell in model if not cell["count"]]
    errors = error_outputs(model)
    assert not errors, "error outputs:\n" + "\n".join(errors)
    assert not missing, f"cells that never ran: {missing}"
    expected = sum(WIDGET_MIME in o["mimes"] for cell in model for o in cell["outputs"])
    check_widgets(page, expected)
    views = widget_outputs(page)
    for number in range(expected):
        shoot(views.nth(number), f"{notebook.stem}-widget-{number + 1}")
    if not expected:  # no widget: the last rich output (an exercise's verdict, the progress)
        rich = page.locator(".jp-OutputArea-output.jp-RenderedHTML")
        if rich.count():
            shoot(rich.last, f"{notebook.stem}-output")
    expect(page.get_by_text("get notified about official Jupyter news")).to_have_count(0)


# -- interaction: the race board ------------------------------------------------------------------

def _lost_updates(board: Locator) -> int:
    row = board.locator(".widget-html-content tr", has_text="lost updates")
    text = row.locator("td").nth(1).inner_text()
    return int(text.split()[0])


def _overlay_text(board: Locator) -> str:
    return board.locator(".statelab-overlay svg text").filter(
        has_text=re.compile(r"^operation \d+ of \d+")).text_content() or ""


def _highlight(board: Locator) -> dict[str, str | None]:
    rect = board.locator(f".statelab-overlay svg {HIGHLIGHT}")
    expect(rect).to_have_count(1)
    return {name: rect.get_attribute(name) for name in ("x", "y", "width")}


def _set_slider(widget: Locator, value: int) -> None:
    """Type a value into an ipywidgets slider's editable readout."""
    readout = widget.locator(".widget-readout")
    readout.click()
    page = readout.page
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    expect(readout).to_have_text(str(value))


def test_race_board_controls_run_step_and_scrub(lab: Lab, page: Page) -> None:
    name = write_notebook(lab, "scratch-race-board.ipynb", ["""
        from statelab.widgets.race_board import RaceBoard

        board = RaceBoard(writers=3, increments=3, mode="last-write", seed=7)
        board
    """])
    open_notebook(page, lab, name)
    assert not error_outputs(run_all(page))
    check_widgets(page, 1)
    board = widget_outputs(page).first
    base = board.locator(".widget-gridbox .widget-html:not(.statelab-overlay) svg")
    run = board.locator("button.widget-button", has_text="Run")
    status = board.locator(".widget-html-content", has_text="writers x")

    expect(base).to_have_attribute("aria-label", re.compile(r"^Race timeline: 3 writer\(s\)"))
    assert _lost_updates(board) > 0  # seed 7 loses updates under last-write

    # five writers, still last-write: the timeline gets two more lanes, updates are lost
    _set_slider(board.locator(".widget-slider", has_text="writers"), 5)
    expect(status).to_contain_text("settings changed: press Run")
    run.click()
    expect(base).to_have_attribute("aria-label", re.compile(r"^Race timeline: 5 writer\(s\)"))
    expect(base.locator("text", has_text="last-write · 5 writers")).to_have_count(1)
    expect(status).not_to_contain_text("settings changed")
    lost = _lost_updates(board)
    assert lost > 0, "last-write with 5 writers should lose updates"
    expect(board.locator(".widget-html-content ol li").first).to_contain_text("overwrote")
    # the first lost update: the overlay names it and outlines its bar
    board.locator("button.widget-button", has_text="jump to first lost update").click()
    expect(board.locator(".statelab-overlay svg text", has_text="lost update:")).to_have_count(1)
    shoot(board, "interaction-race-board-last-write")

    # first-write (ETags): the same writers lose nothing; conflicts are retried instead
    board.locator(".widget-dropdown", has_text="mode").locator("select").select_option(
        "first-write")
    run.click()
    expect(base.locator("text", has_text="first-write · 5 writers")).to_have_count(1)
    expect(board.locator(".widget-html-content", has_text="no lost update")).to_have_count(1)
    assert _lost_updates(board) == 0
    expect(board.locator("button.widget-button", has_text="no lost update")).to_be_disabled()

    # step back and forth: the highlighted operation moves, the sentence follows
    total = int(re.search(r"of (\d+)", _overlay_text(board)).group(1))  # type: ignore[union-attr]
    assert _overlay_text(board).startswith(f"operation {total} of {total}")
    last = _highlight(board)
    board.locator("button.widget-button:has(.fa-step-backward)").click()
    expect(board.locator(".statelab-overlay svg text",
                         has_text=f"operation {total - 1} of {total}")).to_have_count(1)
    before_last = _highlight(board)
    assert before_last != last
    board.locator("button.widget-button:has(.fa-step-forward)").click()
    expect(board.locator(".statelab-overlay svg text",
                         has_text=f"operation {total} of {total}")).to_have_count(1)
    assert _highlight(board) == last

    # scrub: drag the operation slider's handle to the far left: operation 1, earliest bar
    slider = board.locator(".widget-slider", has_text="operation")
    handle = slider.locator(".noUi-handle")
    track = slider.locator(".noUi-base").bounding_box()
    grip = handle.bounding_box()
    assert track is not None and grip is not None
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] / 2, grip["y"] + grip["height"] / 2, steps=5)
    page.mouse.move(track["x"] - 20, grip["y"] + grip["height"] / 2, steps=5)
    page.mouse.up()
    expect(slider.locator(".widget-readout")).to_have_text("1")
    expect(board.locator(".statelab-overlay svg text",
                         has_text=f"operation 1 of {total}")).to_have_count(1)
    first = _highlight(board)
    assert float(first["x"] or 0) < float(last["x"] or 0), (first, last)
    shoot(board, "interaction-race-board-first-write-scrubbed")


# -- interaction: the replica board ---------------------------------------------------------------

def _stale_bars(board: Locator) -> Locator:
    # bars have a tooltip; the legend's red swatch has none
    return board.locator(f'.widget-html-content svg rect[fill="{STALE}"]:has(title)')


def test_replica_board_strong_and_eventual(lab: Lab, page: Page) -> None:
    name = write_notebook(lab, "scratch-replica-board.ipynb", ["""
        from statelab.widgets import ReplicaBoard

        ReplicaBoard(replicas=2, writers=1, readers=2, writes=5, reads=8, seed=1)
    """])
    open_notebook(page, lab, name)
    assert not error_outputs(run_all(page))
    check_widgets(page, 1)
    board = widget_outputs(page).first
    caption = board.locator(".widget-html-content b", has_text="consistency")
    stale_row = board.locator(".widget-html-content tr", has_text="stale reads")

    expect(caption).to_contain_text("eventual consistency")
    # the toggle's description sits on the buttons' row, as the sliders' descriptions do
    label = board.locator(".widget-toggle-buttons > .widget-label").bounding_box()
    button = board.locator(".widget-toggle-button").first.bounding_box()
    assert label is not None and button is not None
    assert abs((label["y"] + label["height"] / 2) - (button["y"] + button["height"] / 2)) < 8
    stale = _stale_bars(board).count()
    assert stale > 0, "eventual reads from lagging replicas should be stale"
    shoot(board, "interaction-replica-board-eventual")

    board.locator(".widget-toggle-button", has_text="strong").click()
    expect(caption).to_contain_text("strong consistency")
    expect(_stale_bars(board)).to_have_count(0)
    expect(stale_row.locator("td").nth(1)).to_have_text(re.compile(r"^[1-9]\d* of "))  # eventual
    expect(stale_row.locator("td").nth(2)).to_have_text(re.compile(r"^0 of "))  # strong
    shoot(board, "interaction-replica-board-strong")

    board.locator(".widget-toggle-button", has_text="eventual").click()
    expect(caption).to_contain_text("eventual consistency")
    expect(_stale_bars(board)).to_have_count(stale)


# -- interaction: an exercise ---------------------------------------------------------------------

def test_exercise_wrong_then_right_then_progress(lab: Lab, page: Page) -> None:
    from statelab.exercises.framework import exercise

    reference = textwrap.dedent(exercise("save-and-read").solution_code).strip()
    lab.progress.unlink(missing_ok=True)  # a fresh checklist, whatever ran before
    name = write_notebook(lab, "scratch-exercise.ipynb", [
        """
        import statelab

        ex = statelab.exercise("save-and-read")
        statelab.progress()
        """,
        """
        def save_order(client, order_id, order):
            item = {"key": f"order-{order_id}", "value": order}
            client.post("/v1.0/state/statestore", json=[item])
            return None  # forgot to read it back

        ex.check(save_order)
        """,
        reference + "\n\n\nex.check(save_order)",
        "statelab.progress()",
    ])
    open_notebook(page, lab, name)
    menu(page, "Edit", "Clear Outputs of All Cells")
    notebook_cells = page.locator(".jp-Notebook .jp-CodeCell")
    expect(notebook_cells).to_have_count(4)

    def run_cell(number: int) -> Locator:
        cell = notebook_cells.nth(number)
        cell.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"),
                                                               timeout=60_000)
        return cell.locator(".jp-OutputArea-output")

    checklist = run_cell(0)
    item = checklist.locator("li", has_text="save-and-read")
    expect(item).to_contain_text("\u2610")  # ☐
    expect(checklist).to_contain_text("0 of")

    wrong = run_cell(1)
    expect(wrong).to_contain_text("Not yet")
    expect(wrong).to_contain_text("save-and-read:")
    assert len(wrong.inner_text().split("save-and-read:", 1)[1].strip()) > 20, \
        "a failed check explains why in a sentence"
    shoot(wrong, "interaction-exercise-not-yet")

    right = run_cell(2)
    expect(right).to_contain_text("Passed")
    expect(right).not_to_contain_text("Not yet")

    after = run_cell(3)
    expect(after.locator("li", has_text="save-and-read")).to_contain_text("\u2611")  # ☑
    expect(after).to_contain_text("1 of")
    shoot(after, "interaction-exercise-progress")
    assert "save-and-read" in json.loads(lab.progress.read_text())["completed"]
    assert not error_outputs(cells(page))
