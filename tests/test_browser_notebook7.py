"""The race board in Jupyter Notebook 7 (not only JupyterLab): one end-to-end browser test.

A module fixture starts ``jupyter notebook`` (Notebook 7) from this environment the way
``tests/test_browser.py`` starts JupyterLab: a free loopback port, a token, its own JUPYTER_*
directories, a temporary root holding a copy of ``03-lose-an-update.ipynb`` and the news pop-up
turned off. Debian's Chromium (Python playwright, never ``playwright install``) opens the
notebook, clears it, runs all cells from the Run menu and checks that every cell ran, that no
cell has an error output, that both race boards rendered (no "Error displaying widget"), and
that the first board's Run button redraws the timeline. The screenshot goes to
``test-artifacts/browser/notebook7-race-board.png``.

The helpers (Chromium check, flags, notebook model scripts, slider and screenshot helpers) come
from ``test_browser``; as ``support``, it is importable because pytest puts ``tests/`` on the
path (the default "prepend" import mode). Every wait is on a condition, never a sleep.
"""

from __future__ import annotations

import importlib.util
import re
from typing import Any, Iterator

import pytest
from test_browser import (
    ARTIFACTS,
    CELLS_JS,
    FINISHED_JS,
    FLAGS,
    ROOT,
    WIDGET_MIME,
    Lab,
    _missing,
    serve_jupyter,
    _require_browser_tools,
    _set_slider,
    error_outputs,
    menu,
    shoot,
    widget_outputs,
)

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # checked (skip locally, fail under CI) by _require_browser_tools
    sync_playwright = None  # type: ignore[assignment]

NOTEBOOK = "03-lose-an-update.ipynb"
NOTEBOOK7_HINT = ("needs Jupyter Notebook 7 for its browser test: pip install -e "
                  "'.[notebooks,test]'")
# the kernel of the notebook on screen (window.jupyterapp: --expose-app-in-browser)
KERNEL_IDLE_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(panel && panel.sessionContext && panel.sessionContext.session &&
            panel.sessionContext.kernelDisplayStatus === 'idle');
}"""

# Notebook 7.6's own start-up race, not statelab's (it happens before any cell runs, on any
# notebook): docmanager-extension reloads its settings before shortcuts-extension has loaded
# its own, and shortcuts-extension's pluginChanged handler reads
# registry.plugins["@jupyterlab/shortcuts-extension:shortcuts"].schema while it is undefined.
# Only that exact uncaught error, thrown from Notebook 7's bundle, is let through.
UPSTREAM_ERROR = "Cannot read properties of undefined (reading 'schema')"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _upstream(error: Any) -> bool:
    return (str(error) == UPSTREAM_ERROR
            and "/static/notebook/notebook_core." in (error.stack or ""))


class Notebook7(Lab):
    """A Notebook 7 server: Lab's REST helpers, Notebook 7's ``/notebooks/`` pages."""

    def url(self, notebook: str) -> str:
        return f"{self.base}/notebooks/{notebook}?token={self.token}"


def _require_tools() -> str:
    chromium = _require_browser_tools()
    if importlib.util.find_spec("notebook") is None:
        _missing("notebook", NOTEBOOK7_HINT)
    import notebook

    if int(notebook.__version__.split(".")[0]) < 7:
        _missing("Notebook 7", NOTEBOOK7_HINT + f" (found notebook {notebook.__version__})")
    return chromium


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook7]:
    _require_tools()  # no server to start if the browser is missing
    yield from serve_jupyter("notebook", tmp_path_factory.mktemp("notebook7"),  # type: ignore[misc]
                             [ROOT / "notebooks" / NOTEBOOK], Notebook7)


@pytest.fixture
def page(notebook7: Notebook7, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    chromium = _require_tools()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    errors: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1600})  # tall: whole boards on screen
        context.set_default_timeout(30_000)
        try:
            page = context.new_page()
            # a widget view that throws (or any front-end failure) shows up here
            page.on("pageerror", lambda error: None if _upstream(error)
                    else errors.append(f"uncaught: {error}"))
            page.on("console", lambda message: errors.append(f"console: {message.text}")
                    if message.type == "error" else None)
            yield page
            assert not errors, "errors in the browser:\n" + "\n".join(errors)
        finally:
            context.close()
            notebook7.shut_down_kernels()


def _cells(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(CELLS_JS)


def test_race_board_renders_in_notebook7(notebook7: Notebook7, page: Page) -> None:
    page.goto(notebook7.url(NOTEBOOK))
    # Notebook 7's page, not JupyterLab's: one notebook, no dock panel or status bar
    expect(page.locator("#main-panel .jp-NotebookPanel")).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-LabShell")).to_have_count(0)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000, polling=100)

    menu(page, "Edit", "Clear Outputs of All Cells")
    assert all(cell["count"] is None for cell in _cells(page)), "outputs were not cleared"
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(FINISHED_JS, timeout=60_000, polling=100)
    page.wait_for_function(KERNEL_IDLE_JS, timeout=60_000, polling=100)
    model = _cells(page)
    errors = error_outputs(model)
    assert not errors, "error outputs:\n" + "\n".join(errors)
    missing = [cell["index"] for cell in model if not cell["count"]]
    assert not missing, f"cells that never ran: {missing}"

    expected = sum(WIDGET_MIME in o["mimes"] for cell in model for o in cell["outputs"])
    # two race boards and the recap's form (issue 12)
    assert expected == 3, f"two race boards and a recap expected, {expected} widget outputs"
    views = widget_outputs(page)
    expect(views).to_have_count(expected, timeout=30_000)
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    expect(page.get_by_text("Loading widget")).to_have_count(0)

    board = views.first
    board.scroll_into_view_if_needed()
    expect(board).to_be_visible()
    expect(board.locator(".widget-gridbox").first).to_be_visible()
    timeline = board.locator(".widget-gridbox .widget-html:not(.statelab-overlay) svg")
    expect(timeline).to_be_visible()
    expect(timeline).to_have_attribute("aria-label",
                                       re.compile(r"^Race timeline: 3 writer\(s\)"))
    box = board.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50, box

    # Run, after a change, goes to the kernel and back: the timeline gets a fourth lane
    _set_slider(board.locator(".widget-slider", has_text="writers"), 4)
    board.locator("button.widget-button", has_text="Run").click()
    expect(timeline).to_have_attribute("aria-label",
                                       re.compile(r"^Race timeline: 4 writer\(s\)"))
    expect(timeline.locator("text", has_text="last-write · 4 writers")).to_have_count(1)
    expect(timeline).to_be_visible()
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    assert not error_outputs(_cells(page))
    expect(page.get_by_text("get notified about official Jupyter news")).to_have_count(0)
    shoot(board, "notebook7-race-board")
