"""Operation histories in the Jepsen shape: who asked what, when, and what came back.

Every request a writer makes (in the simulator or live over HTTP) becomes one
:class:`Operation`: the process, invoke and complete times, the kind (read, write or delete),
the key, the value read or written, the etag sent and the etag returned, the HTTP status and
Dapr ``errorCode``, the attempt number, and the outcome:

* ``ok``: the request succeeded;
* ``fail``: it definitely did not take effect (a 409, a 400...);
* ``info``: indeterminate; the client gave up waiting, so it may or may not have taken effect
  (Jepsen's ``:info``).

Simulated histories also know the server's side: when and in which order the store applied each
request (``applied_us``, ``applied_order``) and what it answered (``applied_status``), even when
the client never saw that answer. The checkers use them to name lost updates exactly.

Times are integers in microseconds of virtual time (or of wall time for live runs), so the JSON
export is byte-identical for the same seed on every machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

__all__ = ["History", "Kind", "Operation", "Outcome", "writer_name"]

Kind = Literal["read", "write", "delete"]
Outcome = Literal["ok", "fail", "info"]


def writer_name(process: int) -> str:
    """Writers are named A, B, ... Z, then W27, W28, ... (process numbers start at 0)."""
    return chr(ord("A") + process) if process < 26 else f"W{process + 1}"


@dataclass
class Operation:
    """One request and its answer (treat it as read-only)."""

    index: int
    process: int
    kind: Kind
    key: str
    invoke_us: int
    complete_us: int
    outcome: Outcome
    status: int | None = None
    error_code: str | None = None
    value: Any = None
    etag_sent: str | None = None
    etag_returned: str | None = None
    attempt: int = 1
    increment: int = 0
    applied_us: int | None = None
    applied_order: int | None = None
    applied_status: int | None = None
    based_on: str | None = None
    message: str | None = None
    consistency: str | None = None
    node: str | None = None

    @property
    def writer(self) -> str:
        return writer_name(self.process)

    @property
    def latency_us(self) -> int:
        return self.complete_us - self.invoke_us

    def describe(self) -> str:
        """One line, stable: ``A write k=3 expects v2 -> 409 ERR_STATE_SAVE``, then, for a
        request the store applied, both of its places: ``(request #4 sent, #5 applied)``.
        Histories list requests in the order they were sent; lost-update sentences speak of
        the order the store applied them, and the two differ in every race."""
        head = f"{self.writer} {self.kind} {self.key}"
        if self.kind == "write":
            head += f"={_short(self.value)}"
            if self.etag_sent:
                head += f" expects v{self.etag_sent}"
        if self.outcome == "info":
            tail = "timed out (indeterminate)"
        elif self.kind == "read" and self.status == 200:
            tail = f"{_short(self.value)} @ v{self.etag_returned}"
        elif self.status == 204 and self.kind == "read":
            tail = "204 (missing)"
        else:
            tail = str(self.status) + (f" {self.error_code}" if self.error_code else "")
        if self.applied_order is not None:
            tail += f" (request #{self.index + 1} sent, #{self.applied_order + 1} applied)"
        return f"{head} -> {tail}"


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= 24 else text[:21] + "..."


_FIELDS = tuple(f.name for f in fields(Operation))


@dataclass
class History:
    """An ordered list of operations plus the parameters that produced them."""

    operations: list[Operation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def __getitem__(self, index: int) -> Operation:
        return self.operations[index]

    @property
    def processes(self) -> list[int]:
        return sorted({op.process for op in self.operations})

    @property
    def duration_us(self) -> int:
        return max((op.complete_us for op in self.operations), default=0)

    def to_json(self) -> str:
        """A canonical JSON text: sorted keys, no whitespace variation, newline at the end."""
        payload = {"meta": self.meta,
                   "operations": [asdict(op) for op in self.operations]}
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> History:
        payload = json.loads(text)
        if not isinstance(payload, dict) or not isinstance(payload.get("operations"), list):
            raise ValueError("not a statelab history: expected {'meta': ..., 'operations': [...]}")
        operations = []
        for number, raw in enumerate(payload["operations"]):
            unknown = set(raw) - set(_FIELDS)
            if unknown:
                raise ValueError(f"operation {number}: unknown fields {sorted(unknown)}")
            operations.append(Operation(**raw))
        return cls(operations=operations, meta=dict(payload.get("meta") or {}))

    def summary(self) -> str:
        """A stable text summary: one line per operation, in invoke order."""
        lines = []
        for op in self.operations:
            lines.append(f"{op.invoke_us / 1000:9.3f}ms  {op.describe()}")
        return "\n".join(lines)
