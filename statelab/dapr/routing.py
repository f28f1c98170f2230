"""daprd's HTTP routing for the state API: path cleaning, matching and parameter decoding.

daprd routes with chi on the *escaped* path, then decodes each ``{param}`` with Go's
``url.QueryUnescape`` (spec section 1). That order is why ``%2F`` lets a key contain a slash
while a literal slash makes a different route (404), and why ``+`` in a key becomes a space.
A static segment such as ``bulk`` only wins for the methods it is registered with, so
``GET /v1.0/state/s/bulk`` reads the key ``bulk``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from statelab.dapr.messages import unescape_failed
from statelab.go.stdlib import GoParseError, query_unescape

__all__ = ["Route", "clean_path", "match_route"]


@dataclass(frozen=True)
class Route:
    """A matched route: the handler name and its decoded path parameters."""

    handler: str
    params: dict[str, str]


# (methods, path pattern segments, handler). Parameters are written {name}.
_ROUTES: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = (
    (frozenset({"GET"}), ("v1.0", "healthz"), "healthz"),
    (frozenset({"GET"}), ("v1.0", "healthz", "outbound"), "healthz_outbound"),
    (frozenset({"GET"}), ("v1.0", "metadata"), "metadata"),
    (frozenset({"PUT"}), ("v1.0", "metadata", "{attributeName}"), "put_metadata"),
    (frozenset({"POST", "PUT"}), ("v1.0", "state", "{storeName}"), "save"),
    (frozenset({"POST", "PUT"}), ("v1.0", "state", "{storeName}", "bulk"), "bulk_get"),
    (frozenset({"POST", "PUT"}), ("v1.0", "state", "{storeName}", "transaction"), "transaction"),
    (frozenset({"GET"}), ("v1.0", "state", "{storeName}", "{key}"), "get"),
    (frozenset({"DELETE"}), ("v1.0", "state", "{storeName}", "{key}"), "delete"),
    (frozenset({"POST", "PUT"}), ("v1.0-alpha1", "state", "{storeName}", "query"), "query"),
)

_ROUTES_WITH_STATICS = tuple(
    (methods, pattern, handler, sum(1 for p in pattern if not p.startswith("{")))
    for methods, pattern, handler in _ROUTES)

# The same routes, in the same order, indexed by (method, number of segments): a request only
# needs to be tried against the few routes that could match it.
_ROUTES_BY_SHAPE: dict[tuple[str, int], list[tuple[tuple[str, ...], str, int]]] = {}
for _methods, _pattern, _handler, _statics in _ROUTES_WITH_STATICS:
    for _method in _methods:
        _ROUTES_BY_SHAPE.setdefault((_method, len(_pattern)), []).append(
            (_pattern, _handler, _statics))

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
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments):
        if expected.startswith("{"):
            if actual == "":
                return None
            params[expected[1:-1]] = actual
        elif expected != actual:
            return None
    return params


def match_route(method: str, raw_path: str) -> Route | None:
    """Find the route for *method* on the escaped *raw_path*; None means the 404 fallback.

    Static segments are preferred over parameters, but only among routes registered for the
    method, which is how chi backtracks. Raises :class:`PlainTextError` for a bad escape.
    """
    segments = clean_path(raw_path).split("/")[1:]
    best: tuple[int, str, dict[str, str]] | None = None
    for pattern, handler, statics in _ROUTES_BY_SHAPE.get((method, len(segments)), ()):
        params = _match(pattern, segments)
        # The first route with the most static segments wins (a stable sort's first element).
        if params is not None and (best is None or statics > best[0]):
            best = (statics, handler, params)
    if best is None:
        return None
    _, handler, params = best
    decoded: dict[str, str] = {}
    for name, value in params.items():
        try:
            decoded[name] = query_unescape(value)
        except GoParseError as exc:
            raise unescape_failed(name, str(exc)) from None
    return Route(handler=handler, params=decoded)

