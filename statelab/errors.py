"""Exceptions raised by statelab's Python API.

Errors that a Dapr sidecar would answer over HTTP are not exceptions here: they are responses
(status, ``errorCode``, ``message``) built by :mod:`statelab.dapr.messages`. The exceptions below are
for Python callers: bad configuration, a sidecar that cannot start, a client call that failed.

    StatelabError
    ├── ComponentError        a component YAML file is invalid (names the file and the field)
    ├── SidecarError          the sidecar could not start or stop
    └── DaprResponseError     a client call got a non-2xx answer (carries status and errorCode)
        └── EtagMismatchError     ... that answer was an ETag conflict (409)
"""

from __future__ import annotations

__all__ = [
    "ComponentError",
    "DaprResponseError",
    "EtagMismatchError",
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


class DaprResponseError(StatelabError):
    """A state API call answered with an error, in Dapr's ``{errorCode, message}`` shape."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        super().__init__(f"{status} {error_code}: {message}")


class EtagMismatchError(DaprResponseError):
    """The 409 that Dapr answers when the ETag sent does not match the stored one."""
