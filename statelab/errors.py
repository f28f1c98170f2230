"""Every exception statelab raises on purpose, in one tree (the model is httpx's).

    StatelabError
    ├── ComponentError        a component YAML file is invalid (names the file and the field)
    ├── SidecarError          the sidecar could not start or stop
    ├── DaprError             Dapr answered with an error: status, errorCode, message, details
    │   └── EtagMismatchError     ... an ETag conflict (HTTP 409; gRPC ABORTED)
    └── PlainTextError        an answer daprd writes as plain text (a bad token, a bad escape)

:class:`DaprError` is what :class:`statelab.dapr.service.StateService` raises for every error
daprd would answer, with daprd's status, ``errorCode`` and wording; the HTTP door serialises it
as ``{"errorCode": ..., "message": ...}``. Its builders, one per error of the spec, are in
:mod:`statelab.dapr.messages`. Errors that never leave statelab's own layers (a store's
``StoreError``, Go's decoder errors) are converted into these before a caller sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statelab.go.json import encode_std_ordered, go_string

__all__ = [
    "ComponentError",
    "DaprError",
    "DaprResponseError",
    "EtagMismatchError",
    "PlainTextError",
    "SidecarError",
    "StatelabError",
]


class StatelabError(Exception):
    """Base class of every exception statelab raises on purpose."""


class ComponentError(StatelabError):
    """A component definition is invalid; the message names the file and the field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


class SidecarError(StatelabError):
    """The sidecar could not be started (or stopped) as asked."""


@dataclass(eq=False)
class DaprError(StatelabError):
    """An error answer: ``{"errorCode": ..., "message": ...}`` plus optional ``details``."""

    status: int
    error_code: str
    message: str
    details: list[dict[str, Any]] | None = field(default=None)

    def __str__(self) -> str:
        return f"{self.status} {self.error_code}: {self.message}"

    def body(self) -> bytes:
        """Serialised like Go's ``json.Marshal`` of the struct: no trailing newline."""
        if self.details is None:  # the common case, kept cheap for the simulator
            return ('{"errorCode":' + go_string(self.error_code) + ',"message":'
                    + go_string(self.message) + "}").encode("utf-8")
        payload: dict[str, Any] = {"errorCode": self.error_code, "message": self.message,
                                   "details": self.details}
        return encode_std_ordered(payload)


class EtagMismatchError(DaprError):
    """The conflict Dapr answers when the ETag sent is not the stored one (a save or delete)."""


#: The name of :class:`DaprError` in statelab 0.1.
DaprResponseError = DaprError


@dataclass(eq=False)
class PlainTextError(StatelabError):
    """An answer Go writes with ``http.Error``: plain text and a trailing newline."""

    status: int
    text: str

    def __str__(self) -> str:
        return f"{self.status} {self.text}"

    def body(self) -> bytes:
        return (self.text + "\n").encode("utf-8")
