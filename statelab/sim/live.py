"""Live mode: the simulator's writers, run for real, on threads, over HTTP.

After replaying a race deterministically, the "now for real" moment: the same writer code
(:func:`statelab.sim.race.increment_writer`), driven by the same loop
(:func:`statelab.sim.writer.drive`), sends real ``httpx`` requests to a running sidecar
(statelab's or a real daprd), one thread per writer. Timing is the machine's, so the history
differs from run to run; instead of comparing outputs, callers check invariants, for example
"first-write with re-reading retries loses no update": the final value equals the number of
acknowledged increments.

In a browser tab (JupyterLite) there are no threads: the writers take turns in the kernel's
one thread instead, a seeded draw choosing who sends the next request, so their reads and
saves still interleave over real HTTP requests to the in-tab sidecar, and a ``Sleep`` (a
retry's backoff) passes the turn on instead of waiting.

A live history has client-side times only (microseconds since the start); the store's order
of application is unknown, so :func:`statelab.analysis.races.analyse` compares the final value read
at the end with the acknowledged increments instead of naming each lost update.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from statelab.analysis.history import History, Operation
from statelab.runtime import in_browser
from statelab.sim.race import Race, increment_writer
from statelab.sim.writer import (
    Action,
    Answer,
    Get,
    Pending,
    Reply,
    Save,
    Sleep,
    build_operation,
    drive,
    save_body,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["LiveRace"]


class LiveRace:
    """Run *race* against the sidecar at *url*; ``start()`` returns at once, ``wait()`` joins.

    ``on_operation`` is called (from the writer threads) after each request with the growing
    history's length; keep it short, for example assigning a widget value. *threads*: one
    thread per writer (the default, except in a browser), or False for writers taking turns
    in the caller's thread (then ``start()`` returns when the race is over).
    """

    def __init__(self, race: Race, url: str, *, store: str = "statestore",
                 api_token: str | None = None,
                 on_operation: Callable[[int], None] | None = None,
                 threads: bool | None = None) -> None:
        self.race = race
        self.url = url.rstrip("/")
        self.store = store
        self.headers = {"dapr-api-token": api_token} if api_token else {}
        self.on_operation = on_operation
        self.threads = not in_browser() if threads is None else threads
        self._operations: list[Operation] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._start_ns = 0
        self.errors: list[BaseException] = []
        self.final: dict[str, int] = {}
        self.done = threading.Event()

    # -- running -----------------------------------------------------------------------------

    def start(self) -> LiveRace:
        import httpx

        key_names = [f"counter-{i}" for i in range(self.race.keys)]
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=10) as client:
            for key in key_names:  # a fresh counter for every run
                reply = client.delete(f"/v1.0/state/{self.store}/{key}")
                if reply.status_code != 204:
                    raise RuntimeError(f"cannot reset {key}: {reply.status_code} {reply.text}")
        self._start_ns = time.perf_counter_ns()
        if not self.threads:
            self._run_in_turns(key_names)
            return self
        for process in range(self.race.writers):
            rng = random.Random(f"{self.race.seed}-{process}")
            thread = threading.Thread(target=self._run_writer, args=(process, rng, key_names),
                                      name=f"statelab-live-{process}", daemon=True)
            self._threads.append(thread)
        for thread in self._threads:
            thread.start()
        threading.Thread(target=self._finish, args=(key_names,), daemon=True,
                         name="statelab-live-finish").start()
        return self

    def wait(self, timeout: float | None = 120) -> History:
        """Block until every writer is done; return the history."""
        if not self.done.wait(timeout):
            raise TimeoutError(f"the live race did not finish within {timeout} s")
        if self.errors:
            raise RuntimeError(f"a writer failed: {self.errors[0]!r}") from self.errors[0]
        return self.history()

    def run(self, timeout: float | None = 120) -> History:
        return self.start().wait(timeout)

    def history(self) -> History:
        """A snapshot of the operations so far, in invoke order."""
        with self._lock:
            operations = sorted(self._operations, key=lambda op: (op.invoke_us, op.index))
        meta: dict[str, Any] = {"race": self.race.params(), "live": True, "url": "sidecar"}
        if self.done.is_set():
            meta["final_values"] = dict(self.final)
        return History(operations=operations, meta=meta)

    # -- internals ---------------------------------------------------------------------------

    def _now_us(self) -> int:
        return (time.perf_counter_ns() - self._start_ns) // 1000

    def _finish(self, key_names: list[str]) -> None:
        for thread in self._threads:
            thread.join()
        self._read_final(key_names)

    def _read_final(self, key_names: list[str]) -> None:
        import httpx

        try:
            with httpx.Client(base_url=self.url, headers=self.headers, timeout=10) as client:
                for key in key_names:
                    reply = client.get(f"/v1.0/state/{self.store}/{key}")
                    self.final[key] = int(reply.json()) if reply.status_code == 200 else 0
        except Exception as exc:  # noqa: BLE001 - reported through wait()
            self.errors.append(exc)
        self.done.set()

    def _run_writer(self, process: int, rng: random.Random, key_names: list[str]) -> None:
        import httpx

        timeout = None if self.race.timeout_ms is None else self.race.timeout_ms / 1000
        try:
            with httpx.Client(base_url=self.url, headers=self.headers,
                              timeout=timeout or 30) as client:

                def perform(action: Action) -> Answer:
                    if isinstance(action, Sleep):
                        time.sleep(action.duration_us / 1e6)
                        return None
                    return self._request(client, process, action)

                drive(increment_writer(self.race, rng, key_names), perform)
        except BaseException as exc:  # noqa: BLE001 - reported through wait()
            self.errors.append(exc)

    def _run_in_turns(self, key_names: list[str]) -> None:
        """Every writer in this thread: a seeded draw picks who acts next (no threads)."""
        import httpx

        writers = [increment_writer(self.race, random.Random(f"{self.race.seed}-{process}"),
                                    key_names) for process in range(self.race.writers)]
        answers: list[Answer] = [None] * len(writers)
        waiting = list(range(len(writers)))
        turns = random.Random(f"{self.race.seed}-turns")
        timeout = None if self.race.timeout_ms is None else self.race.timeout_ms / 1000
        asked: list[Action] = []

        def ask(action: Action) -> Answer | Pending:
            asked.append(action)
            return Pending.LATER

        try:
            with httpx.Client(base_url=self.url, headers=self.headers,
                              timeout=timeout or 30) as client:
                while waiting:
                    process = turns.choice(waiting)
                    asked.clear()
                    # The one writer driver, stopped after one action as the simulator does.
                    drive(writers[process], ask, answers[process])
                    if not asked:
                        waiting.remove(process)  # this writer is done
                    elif isinstance(asked[0], Sleep):
                        answers[process] = None  # a backoff passes the turn on
                    else:
                        answers[process] = self._request(client, process, asked[0])
        except Exception as exc:  # noqa: BLE001 - reported through wait(), as with threads
            self.errors.append(exc)
        self._read_final(key_names)

    def _request(self, client: httpx.Client, process: int, action: Get | Save) -> Operation:
        import httpx

        invoke = self._now_us()
        try:
            if isinstance(action, Get):
                reply = _reply(client.get(f"/v1.0/state/{self.store}/{action.key}"), read=True)
            else:
                reply = _reply(client.post(f"/v1.0/state/{self.store}",
                                           json=[save_body(action)]), read=False)
        except httpx.TimeoutException:
            reply = None
        complete = self._now_us()
        with self._lock:
            index = len(self._operations)
            op = build_operation(index, process, action, invoke, complete, reply)
            self._operations.append(op)
        if self.on_operation is not None:
            self.on_operation(index + 1)
        return op


def _reply(response: httpx.Response, *, read: bool) -> Reply:
    """Describe an HTTP answer the way the simulator describes the state API's."""
    error_code = message = None
    if response.status_code >= 400:
        try:
            error = response.json()
            error_code, message = error.get("errorCode"), error.get("message")
        except ValueError:
            message = response.text
    if not read:
        return Reply(response.status_code, None, None, error_code, message)
    value = response.json() if response.status_code == 200 else None
    return Reply(response.status_code, response.headers.get("etag"), value, error_code, message)
