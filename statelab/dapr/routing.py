"""daprd's HTTP routing for the state API: path cleaning, matching and parameter decoding.

daprd routes with chi on the *escaped* path, then decodes each ``{param}`` with Go's
``url.QueryUnescape`` (spec section 1). That order is why ``%2F`` lets a key contain a slash
while a literal slash makes a different route (404), and why ``+`` in a key becomes a space.
A static segment such as ``bulk`` only wins for the methods it is registered with, so
``GET /v1.0/state/s/bulk`` reads the key ``bulk``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from statelab.dapr.messages import unescape_failed
from statelab.go.stdlib import GoParseError, path_clean, query_unescape

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


def clean_path(raw_path: str) -> str:
    """daprd's ``CleanPathMiddleware`` and ``StripSlashesMiddleware`` (pkg/api/http/
    middlewares.go): Go's ``path.Clean`` of the escaped path, which collapses ``//``, drops
    ``.`` segments, resolves ``..`` and leaves no trailing slash.

    Because the *escaped* path is cleaned, ``%2E`` and ``%2F`` are untouched: a key may be
    ``.`` or contain ``/`` when escaped, while ``.../statestore/.`` is the store's own path
    (no key) and ``.../other/../statestore/k`` reaches the key ``k`` of ``statestore``.
    """
    return path_clean(raw_path or "/")


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


#: How many routed paths :class:`Router` remembers.
_RECENT_LIMIT = 4096


class Router(Generic[T]):
    """A route table, matched the way chi matches daprd's routes.

    *fallback*, if given, answers every request no route matches, as daprd's service
    invocation endpoint does (``IsFallback`` in pkg/api/http/directmessaging.go); its one
    parameter, ``path``, is the escaped path as sent (that handler reads the path uncleaned).
    """

    def __init__(self, routes: Sequence[Route[T]], fallback: T | None = None) -> None:
        self.routes = tuple(routes)
        self.fallback = None if fallback is None else Route(frozenset(), "/*", fallback)
        # The same routes, in the same order, indexed by (method, number of segments): a
        # request only needs to be tried against the few routes that could match it.
        self._by_shape: dict[tuple[str, int], list[Route[T]]] = {}
        for route in self.routes:
            for method in route.methods:
                self._by_shape.setdefault((method, len(route.segments)), []).append(route)
        #: Recent answers by (method, escaped path): a hot key is routed once, not per request
        #: (cleaning, splitting and matching cost about 3 us of a 60 us request). Bounded:
        #: emptied when full. Matches are never changed after they are made.
        self._recent: dict[tuple[str, str], Match[T] | None] = {}

    def match(self, method: str, raw_path: str) -> Match[T] | None:
        """Find the route for *method* on the escaped *raw_path*; None (or the fallback route,
        when there is one) when no route matches.

        Static segments are preferred over parameters, but only among routes registered for
        the method, which is how chi backtracks. Raises :class:`PlainTextError` for a bad
        escape in a parameter.
        """
        key = (method, raw_path)
        if key in self._recent:
            return self._recent[key]
        found = self._match(method, raw_path)
        if len(self._recent) >= _RECENT_LIMIT:
            self._recent.clear()
        self._recent[key] = found
        return found

    def _match(self, method: str, raw_path: str) -> Match[T] | None:
        cleaned = clean_path(raw_path)
        segments = cleaned.split("/")[1:]
        best: tuple[Route[T], dict[str, str]] | None = None
        for route in self._by_shape.get((method, len(segments)), ()):
            params = _match(route.segments, segments)
            # The first route with the most static segments wins (a stable sort's first).
            if params is not None and (best is None or route.statics > best[0].statics):
                best = (route, params)
        if best is None:
            return None if self.fallback is None else Match(self.fallback, {"path": raw_path})
        route, params = best
        decoded: dict[str, str] = {}
        for name, value in params.items():
            try:
                decoded[name] = query_unescape(value)
            except GoParseError as exc:
                raise unescape_failed(name, str(exc)) from None
        return Match(route, decoded)
