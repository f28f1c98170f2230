"""A lab for one check: fresh stores, the learner's HTTP client, and competing writers.

Functions that talk to Dapr receive an ``httpx.Client`` whose base URL is
``http://127.0.0.1:3500``, so the code a learner writes is the code they would run against a
real sidecar. Its transport (:class:`~statelab.server.transport.StateTransport`) answers from a
state API in this process and, on the schedules that call for it, lets a competing writer act
between the learner's requests: a race that happens the same way every time.

The checker itself, and the competing writers, call the typed
:class:`~statelab.dapr.service.StateService` directly: they are not under test, only the
learner's HTTP is.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import httpx

from statelab.dapr.components import Component
from statelab.dapr.http import Response, StateAPI
from statelab.dapr.service import SaveItem, StateService
from statelab.exercises.framework import CheckFailed, RequestBudgetExceeded, run_answer
from statelab.server.transport import DEFAULT_BASE_URL, StateTransport
from statelab.stores.redis.model import RedisModelStore

__all__ = ["Interference", "Lab", "LabClock", "MAX_REQUESTS", "Timeout", "answer_in_schedule",
           "competing_increment", "describe_request", "say_runs", "writer_schedules",
           "your_requests"]

#: More requests than any correct answer sends: past it, the learner's loop never ends.
MAX_REQUESTS = 60

#: The answer recorded for a request that timed out before it reached Dapr (status 0: none).
NO_ANSWER = Response(0)


@dataclass
class Interference:
    """After the learner's *after*-th request (1-based), run *action* against the service."""

    after: int
    action: Callable[[StateService], None]


@dataclass(frozen=True)
class Timeout:
    """The learner's *at*-th request (1-based) times out: its client raises
    ``httpx.ReadTimeout``. If it *reached* Dapr, Dapr handled it (a save may have been applied)
    and only the answer was lost; if not, the request was lost on the way. The client cannot
    tell which, as with a real timeout; competing writers due after that request still run."""

    at: int
    reached: bool

    def describe(self) -> str:
        """``your request 2 timed out after Dapr handled it (the answer was lost)``."""
        if self.reached:
            return f"your request {self.at} timed out after Dapr handled it (the answer was lost)"
        return f"your request {self.at} timed out before it reached Dapr"


@dataclass
class LabClock:
    """A replicated store's time in microseconds, moved only by the lab: 1 ms before each of
    the learner's requests (``Lab(tick=clock.tick)``) and by each strong write's wait for the
    replicas (``ReplicatedStore(clock_us=clock, wait=clock.wait)``), so a strong write answers
    once every replica has it, as in the sidecar, and every check runs the same way."""

    now_us: int = 0
    #: Each strong write's wait, in the order they happened.
    waits: list[int] = field(default_factory=list)

    def __call__(self) -> int:
        return self.now_us

    def tick(self) -> None:
        self.now_us += 1000

    def wait(self, delay_us: int) -> None:
        self.waits.append(delay_us)
        self.now_us += delay_us

class Lab:
    """A fresh state service and an ``httpx.Client`` on it, recording every request.

    Use it as a context manager, so the client is closed however the check ends. Without
    *components*, the lab has one Redis store named ``statestore`` (the model store: the same
    Lua semantics as the embedded Redis, at a fraction of the cost per check).
    """

    def __init__(self, components: Sequence[Component] | None = None,
                 interference: Sequence[Interference] = (),
                 tick: Callable[[], None] | None = None,
                 timeouts: Sequence[Timeout] = ()) -> None:
        api = StateAPI(list(components or [Component.around(RedisModelStore())]))
        self.service = api.service
        self.requests: list[httpx.Request] = []
        #: Dapr's answer to each request, in the same order as :attr:`requests`.
        self.answers: list[Response] = []
        self.interference = sorted(interference, key=lambda step: step.after)
        #: Called before each of the learner's requests is answered (a store's clock moves).
        self.tick = tick
        #: Requests that time out, by number; a lost request's answer is :data:`NO_ANSWER`.
        self.timeouts = {step.at: step for step in timeouts}
        transport = StateTransport(api, observe=self._observe, after=self._after)
        self.client = httpx.Client(base_url=DEFAULT_BASE_URL, transport=transport)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.client.close()

    def _observe(self, request: httpx.Request) -> None:
        self.requests.append(request)
        if len(self.requests) > MAX_REQUESTS:
            raise RequestBudgetExceeded(f"your function sent more than {MAX_REQUESTS} "
                                        "requests; does a loop ever end?")
        if self.tick is not None:
            self.tick()
        timeout = self.timeouts.get(len(self.requests))
        if timeout is not None and not timeout.reached:
            self.answers.append(NO_ANSWER)
            self._interfere()
            raise httpx.ReadTimeout("timed out (the request never reached Dapr)",
                                    request=request)

    def _after(self, request: httpx.Request, reply: Response) -> None:
        self.answers.append(reply)
        self._interfere()
        if len(self.requests) in self.timeouts:
            raise httpx.ReadTimeout("timed out (Dapr handled the request; the answer was lost)",
                                    request=request)

    def _interfere(self) -> None:
        for step in self.interference:
            if step.after == len(self.requests):
                step.action(self.service)

    def answer(self, case: int, fn: Callable[..., Any], *args: Any) -> Any:
        """Run the learner's *fn* (with :func:`run_answer`) in schedule *case*; if it raises,
        the failure says which schedule it was and which requests led there (as
        :meth:`SdkLab.answer <statelab.exercises.sdk_lab.SdkLab.answer>` does for calls)."""
        return answer_in_schedule(case, fn, args, self.transcript, "requests")

    def transcript(self) -> str:
        """The learner's requests and Dapr's answers, numbered, for a check's message:
        ``1 GET hits -> 200; 2 POST statestore [hits, etag '1', first-write] -> 409``;
        a run of three or more alike is said once (``3-60 ... (58 times)``)."""
        lines = [f"{describe_request(request)} -> {self._said_answer(n)}"
                 for n, request in enumerate(self.requests)]
        return say_runs(lines)

    def _said_answer(self, index: int) -> str:
        """``204``, ``no answer``, and for a timeout what happened to it: ``204, answer lost
        (ReadTimeout)`` or ``never reached Dapr (ReadTimeout)``."""
        if index >= len(self.answers):
            return "no answer"
        timeout = self.timeouts.get(index + 1)
        if timeout is None:
            return str(self.answers[index].status)
        if timeout.reached:
            return f"{self.answers[index].status}, answer lost (ReadTimeout)"
        return "never reached Dapr (ReadTimeout)"

    def value(self, key: str, store: str = "statestore", consistency: str = "") -> Any:
        """The decoded value under *key*, or None when the key is missing."""
        found = self.service.get(store, key, consistency=consistency)
        return None if found is None else json.loads(found.data.decode("utf-8"))

    def save(self, key: str, value: Any, store: str = "statestore") -> None:
        self.service.save(store, [SaveItem(key, value)])

    def etag(self, key: str, store: str = "statestore") -> str | None:
        found = self.service.get(store, key)
        return None if found is None else found.etag


def competing_increment(key: str, store: str = "statestore"
                        ) -> Callable[[StateService], None]:
    """Another well-behaved writer: it reads, then increments with the ETag it read.

    Nothing runs between its read and its write, so its save always succeeds."""
    def act(service: StateService) -> None:
        current = service.get(store, key)
        value = 0 if current is None else json.loads(current.data.decode("utf-8"))
        etag = None if current is None else current.etag or None
        service.save(store, [SaveItem(key, value + 1, etag=etag, concurrency="first-write")])
    return act


def describe_request(request: httpx.Request) -> str:
    """``POST statestore [hits, etag '1', first-write]``, ``GET hits``, ``DELETE k (If-Match
    '3')``: a request as a learner would recognise it, without the URL prefix every one
    shares."""
    path = unquote(request.url.raw_path.decode("ascii", "replace").split("?", 1)[0])
    tail = path.split("/v1.0/state/", 1)[-1]
    query = request.url.query.decode("ascii", "replace")
    said = f"{request.method} {tail.split('/', 1)[1] if '/' in tail else tail}"
    if query:
        said += f" ?{query}"
    if_match = request.headers.get("if-match")
    if if_match is not None:
        said += f" (If-Match {if_match!r})"
    if request.method == "POST" and tail.count("/") == 0:
        said += _describe_items(request.content)
    if request.method == "POST" and tail.endswith("/transaction"):
        said += _describe_operations(request.content)
    return said


def _describe_operations(content: bytes) -> str:
    """`` [upsert a, etag '1'; delete b]`` for the operations of a transaction body that
    parses (nothing for an empty or unreadable one: the answer says what Dapr made of it)."""
    try:
        body = json.loads(content)
    except ValueError:
        return " (a body that is not JSON)"
    operations = body.get("operations") if isinstance(body, dict) else None
    if not isinstance(operations, list) or not operations:
        return ""
    parts = []
    for operation in operations:
        request = operation.get("request") if isinstance(operation, dict) else None
        if not isinstance(request, dict):
            parts.append(repr(operation))
            continue
        said = [f"{operation.get('operation')} {request.get('key')}"]
        if "etag" in request:
            said.append(f"etag {request['etag']!r}")
        parts.append(", ".join(said))
    return " [" + "; ".join(parts) + "]"


def _describe_items(content: bytes) -> str:
    """`` [k, etag '1', first-write]`` for each item of a save body that parses."""
    try:
        items = json.loads(content)
    except ValueError:
        return " (a body that is not JSON)"
    if not isinstance(items, list):
        return " (a body that is not a JSON array)"
    parts = []
    for item in items:
        if not isinstance(item, dict):
            parts.append(repr(item))
            continue
        said = [str(item.get("key"))]
        if "etag" in item:
            said.append(f"etag {item['etag']!r}")
        options = item.get("options")
        if isinstance(options, dict):
            said += [str(v) for v in options.values()]
        parts.append(", ".join(said))
    return " [" + "; ".join(parts) + "]"


def say_runs(lines: Sequence[str]) -> str:
    """Numbered lines joined with ``; ``; three or more alike in a row are said once, and so
    are three or more pairs (or triples) alike in a row (a loop of read, refused write, read,
    ...)."""
    said: list[str] = []
    index = 0
    while index < len(lines):
        for period, how in ((1, ""), (2, "alternately "), (3, "in turn ")):
            # a run of one line, a pair (read, refused save) or a triple (read, read,
            # refused transaction) repeated three times or more is said once
            runs = _repeats(lines, index, period)
            if runs >= 3:
                last = index + period * runs
                group = lines[index:index + period]
                listed = group[0] if period == 1 else ", ".join(group[:-1]) + " and " + group[-1]
                each = " each" if period > 1 else ""
                said.append(f"{index + 1}-{last} {how}{listed} ({runs} times{each})")
                index = last
                break
        else:
            said.append(f"{index + 1} {lines[index]}")
            index += 1
    return "; ".join(said) or "no requests"


def _repeats(lines: Sequence[str], start: int, period: int) -> int:
    """How many times the *period* lines from *start* occur in a row there."""
    block = list(lines[start:start + period])
    if len(block) < period or (period > 1 and len(set(block)) == 1):
        return 1
    count = 1
    while list(lines[start + count * period:start + (count + 1) * period]) == block:
        count += 1
    return count


def answer_in_schedule(case: int, fn: Callable[..., Any], args: Sequence[Any],
                       transcript: Callable[[], str], what: str) -> Any:
    """Run the learner's *fn* with :func:`run_answer`; if it raises (or runs out of
    requests), the failure names schedule *case* and quotes the *transcript* of its *what*
    ("requests", "calls") and Dapr's answers."""
    try:
        return run_answer(fn, *args)
    except CheckFailed as failure:
        said = str(failure).rstrip(".?") + ("?" if str(failure).endswith("?") else ".")
        raise CheckFailed(f"schedule {case}: {said} Your {what} and Dapr's answers: "
                          f"{transcript()}.") from None


def writer_schedules(seed: int, longest: int = 6, seeded: int = 6) -> list[list[int]]:
    """After which of the learner's requests (1-based) a competing writer acts, schedule by
    schedule: none; after each single one of the first *longest* (every gap a right answer
    has, exhaustively); then *seeded* random combinations of 2 to 4 among the first 11."""
    rng = random.Random(seed)
    singles = [[point] for point in range(1, longest + 1)]
    combos = [sorted(rng.sample(range(1, 12), rng.randint(2, 4))) for _ in range(seeded)]
    return [[], *singles, *combos]


def your_requests(numbers: list[int]) -> str:
    """``your request 2``, ``your requests 1 and 3``, ``your requests 1, 3 and 5``."""
    if len(numbers) == 1:
        return f"your request {numbers[0]}"
    return f"your requests {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"
