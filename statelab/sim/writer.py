"""What a writer asks for, what it gets back, and the one loop that drives it.

A writer is a generator: it yields :class:`Get`, :class:`Save` and :class:`Sleep` actions and
receives, for each request, the :class:`~statelab.analysis.history.Operation` it became (and
``None`` after a sleep). It never does I/O itself, so the same writer runs on the simulator's
virtual time (:mod:`statelab.sim.engine`) and for real over HTTP (:mod:`statelab.sim.live`);
only the door a request goes through differs. Both doors describe the answer as a
:class:`Reply` and turn it into an operation with :func:`build_operation`, so a simulated history
and a live one record the same fields the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from statelab.analysis.history import Operation, Outcome

__all__ = [
    "Action",
    "Answer",
    "Get",
    "Pending",
    "Reply",
    "Save",
    "Sleep",
    "WriterGen",
    "build_operation",
    "drive",
    "save_body",
]


@dataclass(frozen=True)
class Get:
    """Read *key* (``consistency`` is the query parameter, empty for the store's default)."""

    key: str
    attempt: int = 1
    consistency: str = ""


@dataclass(frozen=True)
class Save:
    """Save *value* under *key*; *based_on* is the ETag of the read the value was computed from
    (kept even when no ETag is sent, so the checkers can tell what a write overwrote)."""

    key: str
    value: Any
    etag: str | None
    concurrency: str
    based_on: str | None
    increment: int
    attempt: int = 1
    consistency: str = ""


@dataclass(frozen=True)
class Sleep:
    """Think, or back off, for *duration_us* (virtual or real microseconds)."""

    duration_us: int


Action = Get | Save | Sleep
#: A request's operation, or None after a sleep (and to start the generator).
Answer = Operation | None
WriterGen = Generator[Action, Answer, None]


def save_body(save: Save) -> dict[str, Any]:
    """The one item of a Dapr save request body (``POST /v1.0/state/{store}``)."""
    item: dict[str, Any] = {"key": save.key, "value": save.value}
    if save.etag is not None:
        item["etag"] = save.etag
    options = {}
    if save.concurrency:
        options["concurrency"] = save.concurrency
    if save.consistency:
        options["consistency"] = save.consistency
    if options:
        item["options"] = options
    return item


@dataclass(frozen=True)
class Reply:
    """A request's answer, whichever door it came through (the state API, or HTTP).

    *value* is the decoded body of a successful read (None otherwise); *etag* is the ETag a
    read returned.
    """

    status: int
    etag: str | None = None
    value: Any = None
    error_code: str | None = None
    message: str | None = None


def build_operation(index: int, process: int, action: Get | Save, invoke_us: int,
                    complete_us: int, reply: Reply | None,
                    applied_us: int | None = None) -> Operation:
    """The history entry of one request; *reply* None means the client gave up waiting."""
    save = action if isinstance(action, Save) else None
    outcome: Outcome = "info"
    status: int | None = None
    error_code = message = etag_returned = None
    if reply is not None:
        outcome = "ok" if 200 <= reply.status < 300 else "fail"
        status, error_code, message = reply.status, reply.error_code, reply.message
        etag_returned = None if save else reply.etag
    if save is None:
        return Operation(index=index, process=process, kind="read", key=action.key,
                         invoke_us=invoke_us, complete_us=complete_us, outcome=outcome,
                         status=status, error_code=error_code,
                         value=None if reply is None else reply.value,
                         etag_returned=etag_returned, applied_us=applied_us, message=message,
                         attempt=action.attempt, consistency=action.consistency or None)
    return Operation(index=index, process=process, kind="write", key=save.key,
                     invoke_us=invoke_us, complete_us=complete_us, outcome=outcome,
                     status=status, error_code=error_code, value=save.value,
                     etag_sent=save.etag, applied_us=applied_us, based_on=save.based_on,
                     increment=save.increment, message=message, attempt=save.attempt,
                     consistency=save.consistency or None)


class Pending(Enum):
    """A runner's way to say "I will answer later" (the simulator always does)."""

    LATER = "later"


#: Carries out one action: returns its answer now, or ``Pending.LATER`` and resumes the writer
#: with :func:`drive` once the answer exists.
Perform = Callable[[Action], Answer | Pending]


def drive(writer: WriterGen, perform: Perform, answer: Answer = None) -> None:
    """Feed *answer* to *writer*, then carry out its actions until it ends or has to wait.

    A blocking runner (live threads) answers every action at once and so runs the writer to
    its end in one call; the event-driven simulator answers ``Pending.LATER`` and calls
    :func:`drive` again from the event that completes the request.
    """
    while True:
        try:
            action = writer.send(answer)
        except StopIteration:
            return
        result = perform(action)
        if result is Pending.LATER:
            return
        answer = result
