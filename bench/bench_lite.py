#!/usr/bin/env python3
"""The browser edition beside local JupyterLab: how long a learner waits, and for how much.

For each edition, in headless Chromium (Debian's, through playwright) with a fresh profile, as
on a learner's first visit:

* the time from opening notebook 01's page to its kernel being idle (JupyterLite: Pyodide
  loading the wheels in the page; JupyterLab: the server starting an ipykernel);
* the time to run all cells of notebook 03 (after its kernel is idle);
* for the JupyterLite site (``make lite`` first), its size on disk and what a first visit
  downloads, then the same two times on a second visit (the browser's cache warm).

Rounds are medians; the machine is shared and noisy, so compare the editions within one run.
Usage: ``python bench/bench_lite.py [--rounds N]``. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from support import free_port  # noqa: E402
from test_browser import FLAGS, KERNEL_IDLE, Lab, run_all, serve_jupyter  # noqa: E402

SITE = ROOT / "lite" / "_output"
FIRST, RACE = "01-start-the-sidecar.ipynb", "03-lose-an-update.ipynb"


@contextmanager
def lite_server() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(SITE)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # the server's start, before any figure is taken
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def idle(page: Page, url: str) -> float:
    started = time.monotonic()
    page.goto(url)
    expect(page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)).to_be_visible(
        timeout=300_000)
    return time.monotonic() - started


def run_all_s(page: Page) -> float:
    started = time.monotonic()
    run_all(page, timeout_ms=600_000)
    return time.monotonic() - started


def measure(browser: Any, url: Callable[[str], str], *, warm: bool) -> dict[str, float]:
    """One round: notebook 01 to idle, then notebook 03 to idle and run all; bytes received."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    finished: list[Any] = []
    context.on("requestfinished", lambda request: finished.append(request))
    try:
        page = context.new_page()
        if warm:  # a first visit fills the cache; measure the second
            idle(page, url(FIRST))
            page = context.new_page()
        finished.clear()
        first_idle = idle(page, url(FIRST))
        # what notebook 01's page fetched with a 200 (a cached or 304 answer is not counted)
        fetched = sum(request.sizes()["responseBodySize"] for request in finished
                      if request.response() is not None and request.response().status == 200)
        page.close()
        page = context.new_page()
        idle(page, url(RACE))
        return {"first idle s": first_idle, "03 run all s": run_all_s(page),
                "downloaded MB": fetched / 1e6}
    finally:
        context.close()


def median(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not (SITE / "index.html").is_file():
        sys.exit("build the site first: make lite")
    size = sum(p.stat().st_size for p in SITE.rglob("*") if p.is_file()) / 1e6
    print(f"JupyterLite site: {size:.1f} MB on disk ({SITE.relative_to(ROOT)})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             headless=True, args=FLAGS)
        rows: dict[str, dict[str, float]] = {}
        with lite_server() as base:
            def lite(name: str) -> str:
                return f"{base}/lab/index.html?path={name}"

            rows["JupyterLite, first visit"] = median(
                [measure(browser, lite, warm=False) for _ in range(args.rounds)])
            print("JupyterLite, first visit:", rows["JupyterLite, first visit"], flush=True)
            rows["JupyterLite, cached"] = median(
                [measure(browser, lite, warm=True) for _ in range(args.rounds)])
            print("JupyterLite, cached:", rows["JupyterLite, cached"], flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            files = sorted((ROOT / "notebooks").glob("*.ipynb"))
            serving = serve_jupyter("jupyterlab", Path(scratch), files, Lab)
            lab: Lab = next(serving)  # the generator stops the server when closed
            try:
                def local(name: str) -> str:
                    return lab.url(name)

                rounds = []
                for _ in range(args.rounds):
                    lab.shut_down_kernels()
                    rounds.append(measure(browser, local, warm=False))
                rows["local JupyterLab"] = median(rounds)
            finally:
                lab.shut_down_kernels()
                serving.close()
        browser.close()
    print(f"{'edition':28} {'01 to idle':>11} {'03 run all':>11} {'downloaded':>11}")
    for name, row in rows.items():
        print(f"{name:28} {row['first idle s']:>10.1f}s {row['03 run all s']:>10.1f}s "
              f"{row['downloaded MB']:>9.1f}MB")


if __name__ == "__main__":
    main()
