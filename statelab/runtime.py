"""Where this Python runs: a normal interpreter, or a browser tab (Pyodide, in JupyterLite).

A browser tab has no sockets to listen on and cannot start threads, so the few places that
would use them (the sidecar's server, live writers, the progress file) ask here and take the
in-tab way instead. One function, so tests can pretend to be in a browser.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["BROWSER_DRIVE", "in_browser"]

#: JupyterLite's file browser, as the Pyodide kernel mounts it: files written under it are
#: kept in the browser's storage (IndexedDB) and survive a reload; the rest of the file
#: system lives in memory and is gone with the tab.
BROWSER_DRIVE = Path("/drive")


def in_browser() -> bool:
    """True inside Pyodide (Emscripten), where JupyterLite's kernel runs."""
    return sys.platform == "emscripten"
