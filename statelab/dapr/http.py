"""The HTTP binding: daprd's HTTP state API as a route table over :class:`StateService`.

:class:`StateAPI` answers a request (method, escaped path with query, headers, body) with the
status, headers and body daprd v1.18 would send (``docs/dapr-state-api.md``; section numbers
in comments refer to it). What is HTTP lives here: routes, the API token, query-string and
header metadata, Go's JSON decoding of bodies, the exact bytes of answers. What is Dapr's state
semantics lives in :mod:`statelab.dapr.service`. The ASGI adapter serves it over sockets, and
:class:`statelab.server.transport.StateTransport` hands it to an ``httpx.Client`` in-process.

Each endpoint is a generator of its operation's store calls (:mod:`statelab.dapr.steps`):
:meth:`Pending.finish` runs it synchronously (thread-safe: the stores are), and
:meth:`Pending.finish_async` awaits it on a door's event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from statelab.dapr import messages, steps
from statelab.dapr.components import Component
from statelab.dapr.invoke import invoke_error
from statelab.dapr.routing import Match, Route, Router
from statelab.dapr.service import (
    DAPR_RUNTIME_VERSION,
    BulkItem,
    DeleteItem,
    SaveItem,
    StateService,
    TransactionItem,
)
from statelab.dapr.steps import AsyncStores, Steps
from statelab.errors import DaprError, PlainTextError
from statelab.go import mapstructure
from statelab.go.json import (
    ANY,
    INT,
    STRING,
    GoJSONError,
    MapOf,
    SliceOf,
    Struct,
    compact_raw,
    decode_into,
    encode_std_ordered,
)

__all__ = ["DAPR_RUNTIME_VERSION", "DEFAULT_MAX_BODY_SIZE", "Pending", "Response", "StateAPI",
           "Weight", "canonical_header"]

DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024  # daprd --max-body-size 4Mi

_OPTIONS = Struct("state.SetStateOption", (("concurrency", STRING), ("consistency", STRING)))
_SET_REQUEST = Struct("state.SetRequest", (
    ("key", STRING), ("value", ANY), ("etag", STRING), ("metadata", MapOf(STRING)),
    ("options", _OPTIONS), ("contentType", STRING)))
_SAVE_BODY = SliceOf(_SET_REQUEST)
_BULK_BODY = Struct("http.BulkGetRequest", (
    ("metadata", MapOf(STRING)), ("keys", SliceOf(STRING)), ("parallelism", INT)))
_TRANSACTION_BODY = Struct("http.stateTransactionRequestBody", (
    ("operations", SliceOf(Struct("http.stateTransactionRequestBodyOperation", (
        ("operation", STRING), ("request", ANY))))),
    ("metadata", MapOf(STRING))))
# The Go structs a transaction operation's ``request`` is decoded into with mapstructure
# (components-contrib state.SetRequest and state.DeleteRequest, Go field names in order).
_OPERATION_SCHEMAS: dict[str, dict[str, mapstructure.FieldKind]] = {
    "upsert": {"Key": "string", "Value": "any", "ETag": "string", "Metadata": "map",
               "Options": "options", "ContentType": "string"},
    "delete": {"Key": "string", "ETag": "string", "Metadata": "map", "Options": "options"},
}
# Their JSON names, which _save_item and _delete_item read.
_JSON_NAMES = {"Key": "key", "Value": "value", "ETag": "etag", "Metadata": "metadata",
               "Options": "options", "ContentType": "contentType"}

_JSON_HEADERS = (("Content-Type", "application/json"),)
_PLAIN_HEADERS = (("Content-Type", "text/plain; charset=utf-8"),
                  ("X-Content-Type-Options", "nosniff"))


@dataclass(frozen=True)
class Response:
    """An answer as daprd would send it. Header names use Go's canonical spelling."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: The error behind a 4xx/5xx answer, for Python callers (not part of the wire format).
    error: DaprError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of_error(cls, error: DaprError) -> Response:
        return cls(error.status, _JSON_HEADERS, error.body(), error)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup (``Etag``, ``etag`` and ``ETag`` are the same)."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def etag(self) -> str | None:
        return self.header("Etag")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


_NO_CONTENT = Response(204)


def canonical_header(name: str) -> str:
    """Go's ``textproto.CanonicalMIMEHeaderKey``: ``metadata.ttlExpireTime`` becomes
    ``Metadata.ttlexpiretime`` on the wire (spec section 4)."""
    out = []
    upper = True
    for ch in name:
        if upper and "a" <= ch <= "z":
            ch = ch.upper()
        elif not upper and "A" <= ch <= "Z":
            ch = ch.lower()
        out.append(ch)
        upper = ch == "-"
    return "".join(out)


def _first_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


@dataclass
class Call:
    """One request, parsed once: path parameters, query values (first of each), headers
    (lower-cased names), body."""

    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    body_too_large: bool = False

    @property
    def url_metadata(self) -> dict[str, str]:
        """``metadata.<name>`` query parameters (exact, case-sensitive prefix)."""
        return {k[len("metadata."):]: v for k, v in self.query.items()
                if k.startswith("metadata.")}

    def decode(self, target: Any) -> Any:
        """The body decoded as Go's ``json.Unmarshal`` into *target* would decode it."""
        if self.body_too_large:
            raise GoJSONError(messages.BODY_TOO_LARGE)
        return decode_into(self.body, target)


#: An endpoint yields its store calls (:mod:`statelab.dapr.steps`) and returns the answer.
Endpoint = Callable[[StateService, Call], Steps[Response]]


def _store_free(answer: Callable[[StateService, Call], Response]) -> Endpoint:
    """An endpoint that never calls a store, as steps (it yields nothing)."""
    def endpoint(service: StateService, call: Call) -> Steps[Response]:
        yield from ()  # makes this a generator; there is no store call to yield
        return answer(service, call)
    endpoint.__name__ = answer.__name__
    endpoint.__doc__ = answer.__doc__
    return endpoint

#: What answering a request costs, known from its headers: ``none`` never touches a store
#: (health, metadata, an answer decided from the headers), ``light`` is one small store call
#: (a GET, a DELETE, a small save), ``heavy`` may take long (bulk, transaction, a big save).
Weight = Literal["none", "light", "heavy"]

#: Saves with a body up to this size are ``light``: their store work is a few items.
LIGHT_BODY_LIMIT = 16 * 1024

# Go's textproto trims these around a header value before daprd's token middleware sees it.
_HEADER_SPACE = " \t\r\n"


@dataclass
class Pending:
    """A request whose request line and headers are read: routed and authorised, its body not
    yet read. A door calls :meth:`finish` with the body, or sends :attr:`answer` without
    reading the body at all (a bad token is refused before any upload is accepted)."""

    service: StateService
    found: Match[Endpoint] | None
    query: dict[str, str]
    headers: dict[str, str]
    #: The answer when the headers alone decide it (bad token, no route, bad escape).
    answer: Response | None = None

    def weight(self, body_size: int) -> Weight:
        if self.answer is not None or self.found is None:
            return "none"
        endpoint = self.found.route.endpoint
        if endpoint in _STORE_FREE:
            return "none"
        if endpoint in _LIGHT or (endpoint is _save and body_size <= LIGHT_BODY_LIMIT):
            return "light"
        return "heavy"

    def awaitable(self, body_size: int) -> bool:
        """Can an event loop await this request's store calls as they come? True for one
        key's get or delete, and for a save or a transaction with a small body: their work
        between store calls is small. A bulk read (its answer may be large) and a big body
        (Go's JSON decoding of megabytes) are better run off the loop."""
        if self.answer is not None or self.found is None:
            return False
        endpoint = self.found.route.endpoint
        return endpoint in _LIGHT or (endpoint in _SMALL_BODY and body_size <= LIGHT_BODY_LIMIT)

    def finish(self, body: bytes = b"", *, body_too_large: bool = False) -> Response:
        """The answer, with the body read, every store call made in this thread."""
        return steps.run(self.steps(body, body_too_large=body_too_large))

    async def finish_async(self, stores: AsyncStores, body: bytes = b"", *,
                           body_too_large: bool = False) -> Response:
        """The answer on an event loop: store calls are awaited on the door's native asyncio
        stores (*stores*), or made inline where a component has none."""
        return await steps.run_async(self.steps(body, body_too_large=body_too_large), stores)

    def steps(self, body: bytes = b"", *, body_too_large: bool = False) -> Steps[Response]:
        """The answer as steps; Dapr's errors become their HTTP answers here, once."""
        if self.answer is not None:
            return self.answer
        found = self.found
        try:
            if found is None:
                raise messages.direct_invoke_fallback()
            call = Call(found.params, self.query, self.headers, body, body_too_large)
            return (yield from found.route.endpoint(self.service, call))
        except DaprError as error:
            return Response.of_error(error)
        except PlainTextError as error:
            return Response(error.status, _PLAIN_HEADERS, error.body())

    @property
    def store_name(self) -> str | None:
        """The store a state route names (None for any other request)."""
        if self.answer is not None or self.found is None:
            return None
        return self.found.params.get("storeName")


class StateAPI:
    """Dapr's HTTP state API over a :class:`StateService`. Build one per sidecar.

    >>> api = StateAPI()                      # one embedded Redis store named "statestore"
    >>> api.request("POST", "/v1.0/state/statestore", json=[{"key": "k", "value": 1}]).status
    204
    """

    def __init__(self, components: Sequence[Component] | None = None, *,
                 app_id: str = "myapp", api_token: str | None = None,
                 max_body_size: int = DEFAULT_MAX_BODY_SIZE, namespace: str | None = None,
                 extended: Mapping[str, str] | None = None,
                 service: StateService | None = None) -> None:
        self.service = service or StateService(components, app_id=app_id, namespace=namespace,
                                               extended=extended)
        # An empty token is no token, as daprd reads an empty DAPR_API_TOKEN.
        self.api_token = api_token or None
        self.max_body_size = max_body_size

    @property
    def components(self) -> list[Component]:
        return self.service.components

    @property
    def app_id(self) -> str:
        return self.service.app_id

    def handle(self, method: str, target: str,
               headers: Mapping[str, str] | Sequence[tuple[str, str]] = (), body: bytes = b"",
               *, body_too_large: bool = False) -> Response:
        """Answer one HTTP request. *target* is the escaped path plus an optional query."""
        return self.begin(method, target, headers).finish(body, body_too_large=body_too_large)

    def begin(self, method: str, target: str,
              headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()) -> Pending:
        """Route and authorise a request from its request line and headers (daprd's token
        middleware runs before any handler reads the body)."""
        raw_path, _, query_string = target.partition("?")
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        query = _first_values(parse_qsl(query_string, keep_blank_values=True,
                                        errors="replace")) if query_string else {}
        lowered = _first_values((k.lower(), v) for k, v in pairs)
        pending = Pending(self.service, None, query, lowered)
        try:
            pending.found = ROUTER.match(method.upper(), raw_path)
            # daprd's APITokenAuthMiddleware compares the value Go's textproto parsed, which
            # has its surrounding spaces and tabs trimmed.
            if self.api_token is not None \
                    and (pending.found is None or not pending.found.route.public) \
                    and lowered.get("dapr-api-token", "").strip(_HEADER_SPACE) != self.api_token:
                raise messages.invalid_api_token()
        except DaprError as error:
            pending.answer = Response.of_error(error)
        except PlainTextError as error:
            pending.answer = Response(error.status, _PLAIN_HEADERS, error.body())
        return pending

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None, json: Any = ...,
                content: bytes | str | None = None) -> Response:
        """A convenience for Python callers: like an httpx call, without a socket.

        *path* is sent as given, so quote keys first (``urllib.parse.quote(key, safe="")``),
        as an HTTP client would have to: ``/`` must travel as ``%2F``.
        """
        if json is not ...:
            body = _json_dumps(json)
        elif isinstance(content, str):
            body = content.encode()
        else:
            body = content or b""
        target = path
        if params:
            target += "?" + urlencode(params)
        return self.handle(method, target, headers or {}, body)


# -- endpoints: one per route, each a thin mapping onto the service ------------------------------

@_store_free
def _healthz(service: StateService, call: Call) -> Response:
    service.health(call.query.get("appid"))
    return _NO_CONTENT


@_store_free
def _healthz_outbound(service: StateService, call: Call) -> Response:
    return _NO_CONTENT


@_store_free
def _metadata(service: StateService, call: Call) -> Response:
    return Response(200, _JSON_HEADERS, service.metadata())


@_store_free
def _put_metadata(service: StateService, call: Call) -> Response:
    """``onPutMetadata`` reads the raw body with ``io.ReadAll``: past the body limit that read
    fails, and nothing is stored (``ErrBodyRead``, pkg/api/http/metadata.go)."""
    if call.body_too_large:
        raise messages.body_read_failed(messages.BODY_TOO_LARGE)
    service.set_metadata(call.params["attributeName"],
                         call.body.decode("utf-8", errors="replace"))
    return _NO_CONTENT


def _save(service: StateService, call: Call) -> Steps[Response]:
    """``onPostState``: the store is looked up before the body is decoded (E2 before E4)."""
    component = service.component(call.params["storeName"])
    try:
        items = call.decode(_SAVE_BODY) or []
    except GoJSONError as exc:
        raise messages.malformed(str(exc)) from None
    url_meta = call.url_metadata
    decoded = [_save_item(item or {}, url_meta) for item in items]
    with _key_errors_rewrapped(component.name):
        requests = service.prepare_save(component, decoded)
    yield from service.save_steps(component, requests)
    return _NO_CONTENT


@contextmanager
def _key_errors_rewrapped(store: str, field: str | None = None) -> Iterator[None]:
    """E3 as daprd's HTTP handlers answer it: wrapped once more
    (:func:`~statelab.dapr.messages.illegal_key_over_http`); other errors pass unchanged."""
    try:
        yield
    except DaprError as error:
        if not messages.is_illegal_key(error):
            raise
        raise messages.illegal_key_over_http(store, field, error) from None


def _save_item(fields: Mapping[str, Any], url_meta: Mapping[str, str]) -> SaveItem:
    """A decoded ``state.SetRequest``; URL metadata wins over the item's (section 3)."""
    options = fields.get("options") or {}
    return SaveItem(key=fields.get("key") or "", value=fields.get("value"),
                    etag=fields.get("etag"),
                    metadata={**(fields.get("metadata") or {}), **url_meta},
                    concurrency=options.get("concurrency") or "",
                    consistency=options.get("consistency") or "")


def _delete_item(fields: Mapping[str, Any], url_meta: Mapping[str, str]) -> DeleteItem:
    options = fields.get("options") or {}
    return DeleteItem(key=fields.get("key") or "", etag=fields.get("etag"),
                      metadata={**(fields.get("metadata") or {}), **url_meta},
                      concurrency=options.get("concurrency") or "",
                      consistency=options.get("consistency") or "")


def _get(service: StateService, call: Call) -> Steps[Response]:
    store = call.params["storeName"]
    with _key_errors_rewrapped(store):
        result = yield from service.get_steps(store, call.params["key"], call.url_metadata,
                                              call.query.get("consistency", ""))
    if result is None:
        return _NO_CONTENT
    headers = list(_JSON_HEADERS)
    if result.etag is not None:
        headers.append(("Etag", result.etag))
    for name, value in result.metadata.items():
        headers.append((canonical_header("metadata." + name), value))
    return Response(200, tuple(headers), result.data)


def _delete(service: StateService, call: Call) -> Steps[Response]:
    store = call.params["storeName"]
    with _key_errors_rewrapped(store):
        yield from service.delete_steps(store, DeleteItem(
            key=call.params["key"], etag=call.headers.get("if-match"),
            metadata=call.url_metadata, concurrency=call.query.get("concurrency", ""),
            consistency=call.query.get("consistency", "")))
    return _NO_CONTENT


def _bulk_get(service: StateService, call: Call) -> Steps[Response]:
    store = call.params["storeName"]
    service.component(store)
    try:
        body = call.decode(_BULK_BODY) or {}
    except GoJSONError as exc:
        raise messages.malformed_body(str(exc)) from None
    metadata = {**(body.get("metadata") or {}), **call.url_metadata}
    keys = [k or "" for k in (body.get("keys") or [])]
    with _key_errors_rewrapped(store):
        items = yield from service.bulk_get_steps(store, keys, metadata)
    try:
        parts = [_bulk_item_json(item) for item in items]
    except GoJSONError:
        # json.Encoder fails before writing anything; daprd ignores that error and answers
        # 200 with an empty body (spec section 6; inferred, not observed).
        return Response(200, _JSON_HEADERS, b"")
    return Response(200, _JSON_HEADERS, ("[" + ",".join(parts) + "]\n").encode())


def _bulk_item_json(item: BulkItem) -> str:
    """``BulkGetResponse`` as Go's json.Encoder writes it: ``data`` is raw JSON, compacted."""
    head: dict[str, Any] = {"key": item.key}
    if item.error is not None:
        head["error"] = item.error
        return encode_std_ordered(head).decode()
    if item.data is None:
        return encode_std_ordered(head).decode()
    encoded = encode_std_ordered(head).decode()[:-1] + ',"data":' + compact_raw(item.data)
    tail: dict[str, Any] = {}
    if item.etag is not None:
        tail["etag"] = item.etag
    if item.metadata:
        tail["metadata"] = item.metadata
    if tail:
        encoded += "," + encode_std_ordered(tail).decode()[1:-1]
    return encoded + "}"


def _transaction(service: StateService, call: Call) -> Steps[Response]:
    """``onPostStateTransaction``: per operation, in order, the kind (E16), the mapstructure
    decoding (E15) and the key (E3), as daprd's loop checks them."""
    component = service.component(call.params["storeName"])
    service.require_transactions(component)
    try:
        body = call.decode(_TRANSACTION_BODY) or {}
    except GoJSONError as exc:
        raise messages.malformed_body(str(exc)) from None
    raw_operations = body.get("operations") or []
    if not raw_operations:
        return _NO_CONTENT  # daprd's HTTP handler answers before it calls the store (7.1)
    url_meta = call.url_metadata
    operations = []
    for raw in raw_operations:
        raw = raw or {}
        kind = service.check_operation(raw.get("operation") or "")
        try:
            decoded = mapstructure.decode(raw.get("request"), _OPERATION_SCHEMAS[kind])
        except mapstructure.MapstructureError as exc:
            raise messages.malformed_body(str(exc)) from None
        fields = {_JSON_NAMES[name]: value for name, value in decoded.items()}
        item: SaveItem | DeleteItem = _save_item(fields, url_meta) if kind == "upsert" \
            else _delete_item(fields, url_meta)
        # onPostStateTransaction has already overwritten the request's Key with
        # GetModifiedStateKey's "" when it builds the error: the field is empty.
        with _key_errors_rewrapped(component.name, field=""):
            operations.append(service.transaction_operation(component,
                                                            TransactionItem(kind, item)))
    yield from service.transact_steps(component, operations,
                              {**(body.get("metadata") or {}), **url_meta})
    return _NO_CONTENT


@_store_free
def _query(service: StateService, call: Call) -> Response:
    service.query(call.params["storeName"], call.body, body_too_large=call.body_too_large)


@_store_free
def _invoke(service: StateService, call: Call) -> Response:
    """Every other request: daprd's service invocation fallback (:mod:`~statelab.dapr.invoke`),
    which statelab always answers with daprd's error for an app it cannot reach."""
    raise invoke_error(call.params["path"], call.headers, service.app_id, service.namespace)


ROUTER: Router[Endpoint] = Router([
    Route(frozenset({"GET"}), "/v1.0/healthz", _healthz, public=True),
    Route(frozenset({"GET"}), "/v1.0/healthz/outbound", _healthz_outbound, public=True),
    Route(frozenset({"GET"}), "/v1.0/metadata", _metadata),
    Route(frozenset({"PUT"}), "/v1.0/metadata/{attributeName}", _put_metadata),
    Route(frozenset({"POST", "PUT"}), "/v1.0/state/{storeName}", _save),
    Route(frozenset({"POST", "PUT"}), "/v1.0/state/{storeName}/bulk", _bulk_get),
    Route(frozenset({"POST", "PUT"}), "/v1.0/state/{storeName}/transaction", _transaction),
    Route(frozenset({"GET"}), "/v1.0/state/{storeName}/{key}", _get),
    Route(frozenset({"DELETE"}), "/v1.0/state/{storeName}/{key}", _delete),
    Route(frozenset({"POST", "PUT"}), "/v1.0-alpha1/state/{storeName}/query", _query),
], fallback=_invoke)


_STORE_FREE: frozenset[Endpoint] = frozenset({_healthz, _healthz_outbound, _metadata,
                                              _put_metadata, _invoke})
_LIGHT: frozenset[Endpoint] = frozenset({_get, _delete})
_SMALL_BODY: frozenset[Endpoint] = frozenset({_save, _transaction})


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
