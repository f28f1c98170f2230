"""The whole course in the browser: the JupyterLite site (``make lite``) in Chromium, offline.

A module fixture builds the site with ``make lite`` (Pyodide from npm, wheels from PyPI: the
only downloads, at build time), serves ``lite/_output`` with ``python -m http.server`` on a
free loopback port, and opens Debian's Chromium (Python playwright, never ``playwright
install``) with a fresh profile whose resolver sends every host but 127.0.0.1 nowhere. Every
request the pages, the kernel's web worker and the service worker make is recorded; the tests
assert each URL is the local server's. Then:

* every notebook opens on the Pyodide kernel and runs all its cells: no error output, every
  cell ran, every widget visible; the SDK cells answer with ``%%local_only``'s note;
* notebook 03's race board runs again from its Run button, in the browser;
* an exercise checks in the REPL app, and its progress is still there after a reload (the
  browser's storage), with the progress checklist's download link.

The figures the issue asks for (time from opening the page to the first notebook's kernel
being idle, time to run all cells of notebook 03, the site's size) are printed and written to
``test-artifacts/lite/figures.json``; they are reported in the notes, never asserted.
Missing Chromium or playwright skips these tests locally and fails them under ``CI=true``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import IN_CI, free_port, require_binary
from test_browser import (
    CHROMIUM_HINT,
    FLAGS,
    KERNEL_IDLE,
    PLAYWRIGHT_HINT,
    WIDGET_MIME,
    check_widgets,
    error_outputs,
    run_all,
    widget_outputs,
)

from statelab.local_only import NOTE

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # checked (skip locally, fail under CI) by the site fixture
    sync_playwright = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "lite" / "_output"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "lite"
# Any name but the loopback resolves to nothing: a request that tried to leave would fail
# (and still be recorded, so the test says which).
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require(what: str, hint: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is missing in CI: {hint}")
    pytest.skip(hint)


class Site:
    """The served site: its base URL, the requests seen and the figures measured."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.requests: list[str] = []
        self.figures: dict[str, Any] = {}

    def foreign(self) -> list[str]:
        """Requests to anything but the local server (``data:`` and ``blob:`` stay in the page)."""
        return [url for url in self.requests
                if not url.startswith((self.base + "/", "data:", "blob:"))]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if sync_playwright is None:
        _require("playwright", PLAYWRIGHT_HINT)
    require_binary("chromium", CHROMIUM_HINT)
    started = time.monotonic()
    build = subprocess.run(["make", "-s", "lite"], cwd=ROOT, capture_output=True, text=True,
                           check=False)
    if build.returncode:
        message = f"make lite failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message + "\n(it needs PyPI and registry.npmjs.org the first time)")
    build_s = time.monotonic() - started
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path_factory.mktemp("lite") / "http.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(SITE)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/jupyter-lite.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "http.server died"
            time.sleep(0.1)  # polling the server's start, not waiting for a race
        served = Site(base)
        size = sum(path.stat().st_size for path in SITE.rglob("*") if path.is_file())
        served.figures.update(site_mb=round(size / 1e6, 1), build_s=round(build_s, 1))
        yield served
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "figures.json").write_text(json.dumps(served.figures, indent=1) + "\n")
        print("\nJupyterLite figures:", json.dumps(served.figures))
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    chromium = require_binary("chromium", CHROMIUM_HINT)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True,
                                              args=[*FLAGS, OFFLINE])
        try:
            yield launched
        finally:
            launched.close()
    # the recording sees the kernel's web worker too: it is the one that fetches the wheels
    assert any(url.endswith("statelab-0.1.0-py3-none-any.whl") for url in site.requests)
    assert site.foreign() == [], "requests left the machine"


@pytest.fixture
def page(site: Site, browser: Any) -> Iterator[Page]:
    """A fresh context per test, as a learner's first visit: empty storage and cache (the
    site would otherwise reopen the last test's notebooks, each with its kernel)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    context.set_default_timeout(60_000)
    # the page, its web workers (the kernel) and the service worker (the drive)
    context.on("request", lambda request: site.requests.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    try:
        yield page
        assert not errors, "errors in the browser:\n" + "\n".join(errors)
    finally:
        context.close()


def open_notebook(page: Page, site: Site, name: str) -> float:
    """Open *name* in JupyterLite's lab; seconds until its Pyodide kernel is idle."""
    started = time.monotonic()
    page.goto(f"{site.base}/lab/index.html?path={name}")
    expect(page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)).to_be_visible(
        timeout=180_000)
    return time.monotonic() - started


def repl(page: Page, site: Site, code: str) -> Any:
    """Run *code* in the REPL app (a console on the same kernel and drive); its last output."""
    query = urllib.parse.urlencode({"kernel": "python", "code": textwrap.dedent(code).strip()})
    page.goto(f"{site.base}/repl/index.html?{query}")
    output = page.locator(".jp-CodeConsole .jp-OutputArea-output").last
    expect(output).to_be_visible(timeout=180_000)
    return output


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_in_the_browser(notebook: Path, site: Site, page: Page) -> None:
    idle_s = open_notebook(page, site, notebook.name)
    started = time.monotonic()
    model = run_all(page, timeout_ms=600_000)
    site.figures[f"{notebook.stem}: kernel idle s"] = round(idle_s, 1)
    site.figures[f"{notebook.stem}: run all s"] = round(time.monotonic() - started, 1)
    errors = error_outputs(model)
    assert not errors, "error outputs:\n" + "\n".join(errors)
    assert not [cell["index"] for cell in model if not cell["count"]], "cells that never ran"
    local_only = [cell for cell in model if "local-only" in cell["tags"]]
    for cell in local_only:
        assert cell["source"].startswith("%%local_only"), cell["source"]
    if local_only:  # the SDK cells explain themselves and show their recorded outputs
        expect(page.get_by_text(NOTE[:60]).first).to_be_attached()
        expect(page.get_by_text("On a real sidecar it printed:").first).to_be_attached()
    expected = sum(WIDGET_MIME in o["mimes"] for cell in model for o in cell["outputs"])
    check_widgets(page, expected)
    if notebook.stem.startswith("03"):
        _race_board_runs(page)


def _race_board_runs(page: Page) -> None:
    """Notebook 03's first race board: first-write, Run, and no update is lost any more."""
    board = widget_outputs(page).first
    board.scroll_into_view_if_needed()
    board.locator(".widget-dropdown", has_text="mode").locator("select").select_option(
        "first-write")
    board.locator("button.widget-button", has_text="Run").click()
    base = board.locator(".widget-gridbox .widget-html:not(.statelab-overlay) svg")
    expect(base.locator("text", has_text="first-write · 3 writers")).to_have_count(1)
    expect(board.locator(".widget-html-content", has_text="no lost update")).to_have_count(1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    board.screenshot(path=str(ARTIFACTS / "race-board-first-write.png"))


def test_an_exercise_checks_and_its_progress_survives_a_reload(site: Site, page: Page) -> None:
    from statelab.exercises.framework import exercise

    reference = textwrap.dedent(exercise("save-and-read").solution_code).strip()
    verdict = repl(page, site, "import statelab\n\n" + reference +
                   "\n\nstatelab.exercise('save-and-read').check(save_order)")
    expect(verdict).to_contain_text("Passed")
    page.reload()  # the kernel and its memory are gone; the drive is in the browser's storage
    checklist = repl(page, site, "import statelab\nstatelab.progress()")
    expect(checklist.locator("li", has_text="save-and-read")).to_contain_text("\u2611")  # ☑
    expect(checklist.locator("a[download]")).to_have_count(1)
    page.goto(f"{site.base}/lab/index.html")
    expect(page.locator(".jp-DirListing-item", has_text="statelab-progress.json")).to_be_visible()
