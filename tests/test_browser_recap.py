"""A recap quiz clicked through in JupyterLab: radio buttons, a short answer, Check, progress.

Uses ``tests/test_browser.py``'s JupyterLab server, Chromium and helpers (importable as a module
because pytest puts ``tests/`` on the path). A scratch notebook shows notebook 03's recap; the
test picks a wrong answer first, checks that it is explained, then answers everything right and
finds the recap ticked in the progress file. Screenshots go to ``test-artifacts/browser/``.
Every wait is on a condition, never a sleep.
"""

from __future__ import annotations

import json
import re

import pytest
import test_browser
from test_browser import (
    Lab,
    cells,
    error_outputs,
    menu,
    open_notebook,
    shoot,
    widget_outputs,
    write_notebook,
)

# test_browser's fixtures, used here under the same names (a module-scoped JupyterLab)
lab = test_browser.lab
browser_context = test_browser.browser_context
page = test_browser.page

try:
    from playwright.sync_api import Page, expect
except ImportError:  # checked (skip locally, fail under CI) by the lab fixture
    pass

pytestmark = pytest.mark.browser


def test_recap_wrong_then_right_then_recorded(lab: Lab, page: Page) -> None:
    lab.progress.unlink(missing_ok=True)
    name = write_notebook(lab, "scratch-recap.ipynb", [
        'import statelab\n\nstatelab.recap("03-lose-an-update")'])
    open_notebook(page, lab, name)
    menu(page, "Edit", "Clear Outputs of All Cells")
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(0)
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"\[\d+\]"), timeout=60_000)
    form = widget_outputs(page).first
    expect(form).to_be_visible()
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    radios = form.locator(".widget-radio-box")
    expect(radios).to_have_count(3)

    radios.nth(0).get_by_text("a) Always at 2", exact=False).click()
    form.locator("input[type=text]").fill("4")
    form.get_by_role("button", name="Check").click()
    expect(form).to_contain_text("1. wrong: you said a; the answer is b) At 2 or at 1")
    expect(form).to_contain_text("2. right: 4.")
    expect(form).to_contain_text("1 of 4 right, 2 not answered")
    shoot(form, "interaction-recap-not-yet")
    assert not lab.progress.exists() or "recap-03-lose-an-update" not in lab.progress.read_text()

    radios.nth(0).get_by_text("b) At 2 or at 1", exact=False).click()
    radios.nth(1).get_by_text("d) 204, like every other save", exact=False).click()
    radios.nth(2).get_by_text("c) No: it is the same last-write save", exact=False).click()
    form.get_by_role("button", name="Check").click()
    expect(form).to_contain_text("All 4 right: recap-03-lose-an-update is done.")
    shoot(form, "interaction-recap-done")
    assert "recap-03-lose-an-update" in json.loads(lab.progress.read_text())["completed"]
    assert not error_outputs(cells(page))
