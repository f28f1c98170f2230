"""Live mode: the simulator's writers, run for real, on threads, over HTTP.

After replaying a race deterministically, the "now for real" moment: the same writer code
(:func:`statelab.sim.race.increment_writer`) drives real ``httpx`` requests against a running sidecar
(statelab's or a real daprd), one thread per writer. Timing is the machine's, so the history
differs from run to run; instead of comparing outputs, callers check invariants, for example
"first-write with re-reading retries loses no update": the final value equals the number of
acknowledged increments.

A live history has client-side times only (microseconds since the start); the store's order
of application is unknown, so :func:`statelab.analysis.races.analyse` compares the final value read
at the end with the acknowledged increments instead of naming each lost update.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from statelab.analysis.history import History, Operation
from statelab.sim.race import Race, _body, _Get, _Save, _Sleep, increment_writer

__all__ = ["LiveRace"]


class LiveRace:
    """Run *race* against the sidecar at *url*; ``start()`` returns at once, ``wait()`` joins.

    ``on_operation`` is called (from the writer threads) after each request with the growing
    history's length; keep it short, for example assigning a widget value.
    """

    def __init__(self, race: Race, url: str, *, store: str = "statestore",
                 api_token: str | None = None,
                 on_operation: Callable[[int], None] | None = None) -> None:
        self.race = race
        self.url = url.rstrip("/")
        self.store = store
        self.headers = {"dapr-api-token": api_token} if api_token else {}
        self.on_operation = on_operation
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
        import httpx

        for thread in self._threads:
            thread.join()
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
        writer = increment_writer(self.race, rng, key_names)
        try:
            with httpx.Client(base_url=self.url, headers=self.headers,
                              timeout=timeout or 30) as client:
                answer: Any = None
                while True:
                    try:
                        action = writer.send(answer)
                    except StopIteration:
                        return
                    if isinstance(action, _Sleep):
                        time.sleep(action.duration_us / 1e6)
                        answer = None
                        continue
                    answer = self._request(client, process, action)
        except BaseException as exc:  # noqa: BLE001 - reported through wait()
            self.errors.append(exc)

    def _request(self, client: Any, process: int, action: Any) -> Operation:
        import httpx

        invoke = self._now_us()
        path = f"/v1.0/state/{self.store}/{action.key}" if isinstance(action, _Get) \
            else f"/v1.0/state/{self.store}"
        try:
            if isinstance(action, _Get):
                reply = client.get(path)
            else:
                reply = client.post(path, json=[_body(action)])
        except httpx.TimeoutException:
            reply = None
        complete = self._now_us()
        with self._lock:
            index = len(self._operations)
            op = _operation(index, process, action, invoke, complete, reply)
            self._operations.append(op)
        if self.on_operation is not None:
            self.on_operation(index + 1)
        return op


def _operation(index: int, process: int, action: Any, invoke: int, complete: int,
               reply: Any) -> Operation:
    kind = "read" if isinstance(action, _Get) else "write"
    common: dict[str, Any] = {"index": index, "process": process, "kind": kind,
                              "key": action.key, "invoke_us": invoke, "complete_us": complete,
                              "attempt": action.attempt}
    if isinstance(action, _Save):
        common.update(value=action.value, etag_sent=action.etag, based_on=action.based_on,
                      increment=action.increment)
    if reply is None:
        return Operation(outcome="info", **common)
    error_code = message = None
    if reply.status_code >= 400:
        try:
            error = reply.json()
            error_code, message = error.get("errorCode"), error.get("message")
        except ValueError:
            message = reply.text
    ok = 200 <= reply.status_code < 300
    if kind == "read":
        value = reply.json() if reply.status_code == 200 else None
        return Operation(outcome="ok" if ok else "fail", status=reply.status_code,
                         error_code=error_code, message=message, value=value,
                         etag_returned=reply.headers.get("etag"), **common)
    return Operation(outcome="ok" if ok else "fail", status=reply.status_code,
                     error_code=error_code, message=message, **common)

