"""daprd's HTTP routing for the state API: path cleaning, matching and parameter decoding.

daprd routes with chi on the *escaped* path, then decodes each ``{param}`` with Go's
``url.QueryUnescape`` (spec section 1). That order is why ``%2F`` lets a key contain a slash
while a literal slash makes a different route (404), and why ``+`` in a key becomes a space.
A static segment such as ``bulk`` only wins for the methods it is registered with, so
``GET /v1.0/state/s/bulk`` reads the key ``bulk``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from statelab.dapr.messages import unescape_failed
from statelab.go.stdlib import GoParseError, query_unescape

__all__ = ["Match", "Route", "Router", "clean_path"]

T = TypeVar("T")


@dataclass(frozen=True)
class Route(Generic[T]):
    """One route as data: methods, a pattern such as ``/v1.0/state/{storeName}``, an endpoint.

    *public* routes answer without the API token (daprd's health endpoints).
    """

    methods: frozenset[str]
    pattern: str
    endpoint: T
    public: bool = False
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)
    statics: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        segments = tuple(self.pattern.strip("/").split("/"))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "statics", sum(1 for s in segments if not s.startswith("{")))


@dataclass(frozen=True)
class Match(Generic[T]):
    """A matched route and its decoded path parameters."""

    route: Route[T]
    params: dict[str, str]


_SLASHES = re.compile(r"/{2,}")


def clean_path(raw_path: str) -> str:
    """daprd's CleanPath and StripSlashes middlewares: collapse ``//``, drop one trailing ``/``.

    Unlike Go's ``path.Clean`` this does not resolve ``.`` and ``..`` segments; Dapr's own
    middleware is documented (spec section 1) only for the slash rules.
    """
    path = raw_path or "/"
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{"):
            if actual == "":
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


class Router(Generic[T]):
    """A route table, matched the way chi matches daprd's routes."""

    def __init__(self, routes: Sequence[Route[T]]) -> None:
        self.routes = tuple(routes)
        # The same routes, in the same order, indexed by (method, number of segments): a
        # request only needs to be tried against the few routes that could match it.
        self._by_shape: dict[tuple[str, int], list[Route[T]]] = {}
        for route in self.routes:
            for method in route.methods:
                self._by_shape.setdefault((method, len(route.segments)), []).append(route)

    def match(self, method: str, raw_path: str) -> Match[T] | None:
        """Find the route for *method* on the escaped *raw_path*; None means the 404 fallback.

        Static segments are preferred over parameters, but only among routes registered for
        the method, which is how chi backtracks. Raises :class:`PlainTextError` for a bad
        escape in a parameter.
        """
        segments = clean_path(raw_path).split("/")[1:]
        best: tuple[Route[T], dict[str, str]] | None = None
        for route in self._by_shape.get((method, len(segments)), ()):
            params = _match(route.segments, segments)
            # The first route with the most static segments wins (a stable sort's first).
            if params is not None and (best is None or route.statics > best[0].statics):
                best = (route, params)
        if best is None:
            return None
        route, params = best
        decoded: dict[str, str] = {}
        for name, value in params.items():
            try:
                decoded[name] = query_unescape(value)
            except GoParseError as exc:
                raise unescape_failed(name, str(exc)) from None
        return Match(route, decoded)
