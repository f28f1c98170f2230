"""Live mode: show a history that real writer threads are still filling.

The writers call back on their own threads, many times a second. The feed copies the
operation list, skips redraws that come too soon after the last one, and never waits for
another thread's redraw (except for the final one), so the kernel is never blocked.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from statelab.analysis.history import History
from statelab.sim.race import Race

__all__ = ["LiveFeed"]

Show = Callable[[History, "int | None"], None]


class LiveFeed:
    """Throttles *show* (a board's redraw) to one call every *interval_s* seconds."""

    def __init__(self, show: Show, interval_s: float) -> None:
        self.show = show
        self.interval_s = interval_s
        self._lock = threading.Lock()  # one live update at a time
        self._last = -math.inf

    def update(self, history: History, *, final: bool = False,
               writers: int | None = None) -> bool:
        """Show a copy of *history* unless the last redraw was too recent (then False);
        ``final=True`` always redraws, waiting for a redraw under way."""
        now = time.monotonic()
        if not final and now - self._last < self.interval_s:
            return False
        if not self._lock.acquire(blocking=final):
            return False  # another thread is drawing; the next call will catch up
        try:
            snapshot = History(operations=list(history.operations), meta=dict(history.meta))
            self._last = now
            self.show(snapshot, writers)
        finally:
            self._lock.release()
        return True

    def run(self, race: Race, url: str, *, store: str, api_token: str | None) -> Any:
        """Start *race* for real against *url*; returns its :class:`~statelab.sim.live.LiveRace`."""
        from statelab.sim.live import LiveRace  # threads and HTTP: loaded only when used

        holder: dict[str, Any] = {}

        def progress(_count: int) -> None:
            live = holder.get("live")
            if live is not None:
                self.update(live.history(), writers=race.writers)

        live = LiveRace(race, url, store=store, api_token=api_token, on_operation=progress)
        holder["live"] = live

        def finish() -> None:
            live.done.wait()
            self.update(live.history(), final=True, writers=race.writers)

        live.start()
        if live.threads:
            threading.Thread(target=finish, name="statelab-live-board", daemon=True).start()
        else:  # writers took turns in this thread (a browser tab): the race is over
            finish()
        return live
