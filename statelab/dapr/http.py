"""Dapr's HTTP state API contract, with no web framework in it.

:class:`StateAPI` answers a request (method, escaped path with query, headers, body) with the
status, headers and body daprd v1.18 would send (``docs/dapr-state-api.md``; section numbers
in comments refer to it). The HTTP adapter, the simulator, the widgets and the exercise
checker all call it, so a conflict seen in a simulated race is byte for byte the 409 a learner
gets over HTTP.

Calls are synchronous and thread-safe (the stores are); nothing here touches an event loop.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from statelab.dapr import messages
from statelab.dapr.components import Component, default_components, describe
from statelab.dapr.messages import DaprError, PlainTextError
from statelab.dapr.routing import match_route
from statelab.go.json import (
    ANY,
    INT,
    STRING,
    GoJSONError,
    MapOf,
    SliceOf,
    Struct,
    compact_raw,
    decode_first_value,
    decode_into,
    encode_std_ordered,
)
from statelab.stores.base import (
    DeleteRequest,
    EtagError,
    SetRequest,
    Store,
    StoreError,
    TransactionOperation,
)

__all__ = ["DAPR_RUNTIME_VERSION", "Response", "StateAPI", "canonical_header", "quote_key"]

#: The daprd release whose behaviour statelab reproduces.
DAPR_RUNTIME_VERSION = "1.18.3"
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

_JSON_HEADERS = (("Content-Type", "application/json"),)


@dataclass(frozen=True)
class Response:
    """An answer as daprd would send it. Header names use Go's canonical spelling."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: The error behind a 4xx/5xx answer, for Python callers (not part of the wire format).
    error: DaprError | None = field(default=None, compare=False, repr=False)

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
class _Call:
    """One request, parsed once: query values (first of each), headers, body."""

    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    body_too_large: bool = False

    @property
    def url_metadata(self) -> dict[str, str]:
        """``metadata.<name>`` query parameters (exact, case-sensitive prefix)."""
        return {k[len("metadata."):]: v for k, v in self.query.items() if k.startswith("metadata.")}


@dataclass
class StateAPI:
    """The Dapr state API over a set of components. Build one per sidecar.

    >>> api = StateAPI()                      # one embedded Redis store named "statestore"
    >>> api.request("POST", "/v1.0/state/statestore", json=[{"key": "k", "value": 1}]).status
    204
    """

    components: list[Component] | None = None
    app_id: str = "myapp"
    api_token: str | None = None
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    namespace: str | None = None
    extended: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.components is None:
            self.components = default_components()
        self._by_name = {c.name: c for c in self.components}
        for component in self.components:
            component.open()
        if self.namespace is None:
            self.namespace = os.environ.get("NAMESPACE", "")
        self.extended.setdefault("daprRuntimeVersion", DAPR_RUNTIME_VERSION)

    # -- entry points ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str] | Sequence[
               tuple[str, str]] = (), body: bytes = b"", *, body_too_large: bool = False
               ) -> Response:
        """Answer one HTTP request. *target* is the escaped path plus an optional query."""
        raw_path, _, query_string = target.partition("?")
        pairs = headers if isinstance(headers, (list, tuple)) else \
            headers.items() if isinstance(headers, Mapping) else headers
        call = _Call(
            query=_first_values(parse_qsl(query_string, keep_blank_values=True,
                                          errors="replace")) if query_string else {},
            headers=_first_values((k.lower(), v) for k, v in pairs),
            body=body, body_too_large=body_too_large)
        try:
            route = match_route(method.upper(), raw_path)
            if self.api_token is not None and (route is None or route.handler not in (
                    "healthz", "healthz_outbound")):
                if call.headers.get("dapr-api-token") != self.api_token:
                    raise messages.invalid_api_token()
            if route is None:
                raise messages.direct_invoke_fallback()
            handler = getattr(self, "_on_" + route.handler)
            return handler(call, **route.params)
        except DaprError as error:
            return Response(error.status, _JSON_HEADERS, error.body(), error)
        except PlainTextError as error:
            return Response(error.status, (("Content-Type", "text/plain; charset=utf-8"),
                                           ("X-Content-Type-Options", "nosniff")), error.body())

    def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                headers: Mapping[str, str] | None = None, json: Any = ...,
                content: bytes | str | None = None) -> Response:
        """A convenience for Python callers: like an httpx call, without a socket.

        *path* is sent as given, so quote keys with :func:`quote_key` first, as an HTTP client
        would have to (``/`` must travel as ``%2F``).
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

    # -- structured calls, for Python callers that already hold decoded values ---------------

    def save(self, store: str, items: list[dict[str, Any]],
             params: Mapping[str, str] | None = None) -> Response:
        """``POST /v1.0/state/{store}`` with *items* already decoded (no JSON round trip).

        The simulator and the widgets use this; it runs the same checks and store calls as an
        HTTP save, so the answer is identical. Python ints are stored as Go's float64 would
        store them (the encoders format every number as a float64).
        """
        try:
            return self._save_items(self._component(store), items, _url_metadata(params))
        except DaprError as error:
            return Response(error.status, _JSON_HEADERS, error.body(), error)

    def get(self, store: str, key: str, params: Mapping[str, str] | None = None) -> Response:
        """``GET /v1.0/state/{store}/{key}`` for an unescaped *key*."""
        try:
            return self._get_key(self._component(store), key, _url_metadata(params),
                                 params.get("consistency", "") if params else "")
        except DaprError as error:
            return Response(error.status, _JSON_HEADERS, error.body(), error)

    def delete(self, store: str, key: str, etag: str | None = None,
               params: Mapping[str, str] | None = None) -> Response:
        """``DELETE /v1.0/state/{store}/{key}`` with an optional ``If-Match`` *etag*."""
        call = _Call(query=dict(params or {}), headers={} if etag is None else {"if-match": etag},
                     body=b"")
        return self._structured(lambda: self._on_delete(call, store, key))

    @staticmethod
    def _structured(action: Any) -> Response:
        try:
            response: Response = action()
            return response
        except DaprError as error:
            return Response(error.status, _JSON_HEADERS, error.body(), error)

    # -- helpers ---------------------------------------------------------------------------

    def _component(self, store: str) -> Component:
        """E1 (no stores at all) is checked before E2 (unknown name), as daprd does (19.2)."""
        if not self._by_name:
            raise messages.store_not_configured(store, self.app_id)
        component = self._by_name.get(store)
        if component is None:
            raise messages.store_not_found(store, self.app_id)
        return component

    @staticmethod
    def _store(component: Component) -> Store:
        assert component.store is not None
        return component.store

    def modified_key(self, component: Component, key: str) -> str:
        """Dapr's key prefixing (section 10); rejects keys containing ``||`` (E3)."""
        if "||" in key:
            raise messages.illegal_key(component.name, key)
        strategy = component.key_prefix
        lowered = strategy.lower()
        if lowered == "appid":
            return f"{self.app_id}||{key}" if self.app_id else key
        if lowered == "name":
            return f"{component.name}||{key}"
        if lowered == "namespace":
            if self.namespace:
                return f"{self.namespace}.{self.app_id}||{key}"
            return f"{self.app_id}||{key}" if self.app_id else key
        if lowered == "none":
            return key
        return f"{lowered}||{key}"

    @staticmethod
    def original_key(stored_key: str) -> str:
        """Dapr's ``GetOriginalStateKey``: the second ``||`` segment, if any."""
        parts = stored_key.split("||")
        return stored_key if len(parts) <= 1 else parts[1]

    def _decode(self, call: _Call, target: Any) -> Any:
        if call.body_too_large:
            raise GoJSONError(messages.BODY_TOO_LARGE)
        return decode_into(call.body, target)

    # -- health and metadata (section 13) ----------------------------------------------------

    def _on_healthz(self, call: _Call) -> Response:
        app_id = call.query.get("appid")
        if app_id is not None and app_id != self.app_id:
            raise messages.health_app_id_mismatch()
        return Response(204)

    def _on_healthz_outbound(self, call: _Call) -> Response:
        return Response(204)

    def _on_metadata(self, call: _Call) -> Response:
        assert self.components is not None
        payload: dict[str, Any] = {"id": self.app_id, "runtimeVersion": DAPR_RUNTIME_VERSION}
        if self.components:
            payload["components"] = describe(self.components)
        payload["extended"] = dict(self.extended)
        return Response(200, _JSON_HEADERS, encode_std_ordered(payload))

    def _on_put_metadata(self, call: _Call, attributeName: str) -> Response:  # noqa: N803
        self.extended[attributeName] = call.body.decode("utf-8", errors="replace")
        return Response(204)

    # -- save (section 3) --------------------------------------------------------------------

    def _on_save(self, call: _Call, storeName: str) -> Response:  # noqa: N803
        component = self._component(storeName)
        try:
            items = self._decode(call, _SAVE_BODY) or []
        except GoJSONError as exc:
            raise messages.malformed(str(exc)) from None
        return self._save_items(component, items, call.url_metadata)

    def _save_items(self, component: Component, items: list[Any], url_meta: dict[str, str]
                    ) -> Response:
        """Save decoded items (the part of ``onPostState`` after the body is decoded)."""
        storeName = component.name  # noqa: N806
        requests: list[SetRequest] = []
        for item in items:
            item = item or {}
            key = item.get("key") or ""
            if not key:
                raise messages.malformed('"key" is a required field')
            options = item.get("options") or {}
            requests.append(SetRequest(
                key=self.modified_key(component, key),
                value=item.get("value"),
                etag=item.get("etag"),
                metadata={**(item.get("metadata") or {}), **url_meta},
                concurrency=options.get("concurrency") or "",
                consistency=options.get("consistency") or ""))
        if not requests:
            return Response(204)
        store = self._store(component)
        if len(requests) == 1:
            try:
                store.set(requests[0])
            except StoreError as exc:
                raise messages.save_failed(storeName, _save_status(exc), str(exc)) from None
            return Response(204)
        return self._bulk_save(storeName, store, requests)

    @staticmethod
    def _bulk_save(store_name: str, store: Store, requests: list[SetRequest]) -> Response:
        """Several items: each is saved on its own, no atomicity; errors are joined (3.3).

        daprd runs the items in parallel goroutines; statelab runs them in array order, which
        is one of the orders daprd may produce.
        """
        errors: list[StoreError] = []
        for request in requests:
            try:
                store.set(request)
            except StoreError as exc:
                errors.append(exc)
        if not errors:
            return Response(204)
        joined = "\n".join(str(e) for e in errors)
        if all(isinstance(e, EtagError) for e in errors):
            kind = "invalid" if any(e.kind == "invalid" for e in errors  # type: ignore[attr-defined]
                                    ) else "mismatch"
            wrapped = EtagError(kind, joined)
            raise messages.save_failed(store_name, _save_status(wrapped), str(wrapped))
        raise messages.save_failed(store_name, 500, joined)

    # -- get (section 4) -----------------------------------------------------------------------

    def _on_get(self, call: _Call, storeName: str, key: str) -> Response:  # noqa: N803
        return self._get_key(self._component(storeName), key, call.url_metadata,
                             call.query.get("consistency", ""))

    def _get_key(self, component: Component, key: str, url_meta: dict[str, str],
                 consistency: str = "") -> Response:
        storeName = component.name  # noqa: N806
        stored_key = self.modified_key(component, key)
        try:
            result = self._store(component).get(stored_key, url_meta, consistency)
        except StoreError as exc:
            raise messages.get_failed(key, storeName, str(exc)) from None
        if result is None:
            return Response(204)
        headers = list(_JSON_HEADERS)
        if result.etag is not None:
            headers.append(("Etag", result.etag))
        for name, value in result.metadata.items():
            headers.append((canonical_header("metadata." + name), value))
        return Response(200, tuple(headers), result.data)

    # -- delete (section 5) --------------------------------------------------------------------

    def _on_delete(self, call: _Call, storeName: str, key: str) -> Response:  # noqa: N803
        component = self._component(storeName)
        request = DeleteRequest(
            key=self.modified_key(component, key),
            etag=call.headers.get("if-match"),
            metadata=call.url_metadata,
            concurrency=call.query.get("concurrency", ""),
            consistency=call.query.get("consistency", ""))
        try:
            self._store(component).delete(request)
        except EtagError as exc:
            status = 409 if exc.kind == "mismatch" else 400
            raise messages.delete_failed(key, status, str(exc)) from None
        except StoreError as exc:
            raise messages.delete_failed(key, 500, str(exc)) from None
        return Response(204)

    # -- bulk get (section 6) ------------------------------------------------------------------

    def _on_bulk_get(self, call: _Call, storeName: str) -> Response:  # noqa: N803
        component = self._component(storeName)
        try:
            body = self._decode(call, _BULK_BODY) or {}
        except GoJSONError as exc:
            raise messages.malformed_body(str(exc)) from None
        metadata = {**(body.get("metadata") or {}), **call.url_metadata}
        keys = [k or "" for k in (body.get("keys") or [])]
        stored_keys = [self.modified_key(component, k) for k in keys]
        store = self._store(component)
        parts: list[str] = []
        for key, stored_key in zip(keys, stored_keys):
            item: dict[str, Any] = {"key": self.original_key(stored_key)}
            try:
                result = store.get(stored_key, metadata)
            except StoreError as exc:
                item["error"] = str(exc)
                parts.append(encode_std_ordered(item).decode())
                continue
            if result is not None:
                try:
                    data = compact_raw(result.data)
                except GoJSONError:
                    # json.Encoder fails before writing anything; daprd ignores that error and
                    # answers 200 with an empty body (spec section 6; inferred, not observed).
                    return Response(200, _JSON_HEADERS, b"")
                encoded = encode_std_ordered(item).decode()[:-1] + ',"data":' + data
                tail: dict[str, Any] = {}
                if result.etag is not None:
                    tail["etag"] = result.etag
                if result.metadata:
                    tail["metadata"] = result.metadata
                if tail:
                    encoded += "," + encode_std_ordered(tail).decode()[1:-1]
                parts.append(encoded + "}")
            else:
                parts.append(encode_std_ordered(item).decode())
        return Response(200, _JSON_HEADERS, ("[" + ",".join(parts) + "]\n").encode())

    # -- transaction (section 7) ---------------------------------------------------------------

    def _on_transaction(self, call: _Call, storeName: str) -> Response:  # noqa: N803
        component = self._component(storeName)
        store = self._store(component)
        if "TRANSACTIONAL" not in store.features:
            raise messages.transactions_not_supported(storeName)
        try:
            body = self._decode(call, _TRANSACTION_BODY) or {}
        except GoJSONError as exc:
            raise messages.malformed_body(str(exc)) from None
        raw_operations = body.get("operations") or []
        if not raw_operations:
            return Response(204)
        url_meta = call.url_metadata
        tx_metadata = {**(body.get("metadata") or {}), **url_meta}
        operations: list[TransactionOperation] = []
        for raw in raw_operations:
            raw = raw or {}
            kind = raw.get("operation") or ""
            fields = _decode_operation_request(raw.get("request"), kind)
            options = fields.get("options") or {}
            key = self.modified_key(component, fields.get("key") or "")
            metadata = {**(fields.get("metadata") or {}), **url_meta}
            if kind == "upsert":
                request: SetRequest | DeleteRequest = SetRequest(
                    key=key, value=fields.get("value"), etag=fields.get("etag"),
                    metadata=metadata, concurrency=options.get("concurrency") or "",
                    consistency=options.get("consistency") or "")
            else:
                request = DeleteRequest(
                    key=key, etag=fields.get("etag"), metadata=metadata,
                    concurrency=options.get("concurrency") or "",
                    consistency=options.get("consistency") or "")
            operations.append(TransactionOperation(kind, request))  # type: ignore[arg-type]
        try:
            store.multi(operations, tx_metadata)
        except StoreError as exc:
            raise messages.transaction_failed(str(exc)) from None
        return Response(204)

    # -- query (section 8) ---------------------------------------------------------------------

    def _on_query(self, call: _Call, storeName: str) -> Response:  # noqa: N803
        component = self._component(storeName)
        if component.type == "state.in-memory":
            raise messages.query_not_supported(storeName)
        try:
            if call.body_too_large:
                raise GoJSONError(messages.BODY_TOO_LARGE)
            decode_first_value(call.body)
        except GoJSONError as exc:
            raise messages.query_failed(storeName, f"failed to parse JSON query body: {exc}"
                                        ) from None
        # Neither fakeredis's nor Debian's Redis carry RedisJSON and RediSearch, so the Redis
        # store answers as Dapr's does on such a server (E20).
        raise messages.query_failed(storeName,
                                    "redis-json server support is required for query capability")


def _save_status(error: StoreError) -> int:
    """daprd's ``stateErrorResponse``: 409 mismatch, 400 invalid etag, 500 otherwise."""
    if isinstance(error, EtagError):
        return 409 if error.kind == "mismatch" else 400
    return 500


_OPERATION_FIELDS: dict[str, dict[str, str]] = {
    "upsert": {"key": "string", "value": "any", "etag": "string", "metadata": "map",
               "options": "options", "contentType": "string"},
    "delete": {"key": "string", "etag": "string", "metadata": "map", "options": "options",
               "contentType": "string"},
}


def _mapstructure_error(problems: list[str]) -> DaprError:
    """mapstructure's error text, wrapped as E15."""
    lines = "\n".join(f"* {p}" for p in problems)
    return messages.malformed_body(f"{len(problems)} error(s) decoding:\n\n{lines}")


def _go_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "nil"


def _decode_operation_request(raw: Any, operation: str) -> dict[str, Any]:
    """A transaction operation's ``request``, decoded the way daprd's mapstructure call does:
    case-insensitive names, no weak typing (spec 7.1). Unknown operations give E16."""
    if operation not in _OPERATION_FIELDS:
        raise messages.operation_not_supported(operation)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _mapstructure_error([f"'' expected a map, got '{_go_kind(raw)}'"])
    schema = _OPERATION_FIELDS[operation]
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        name = next((f for f in schema if f.lower() == key.lower()), None)
        if name is None:
            continue
        kind = schema[name]
        if value is None or kind == "any":
            out[name] = value
        elif kind == "string":
            if isinstance(value, str):
                out[name] = value
            else:
                problems.append(f"'{name}' expected type 'string', got unconvertible type "
                                f"'{_go_kind(value)}', value: '{_go_value(value)}'")
        elif kind == "map":
            if not isinstance(value, dict):
                problems.append(f"'{name}' expected a map, got '{_go_kind(value).split('[')[0] or 'slice'}'")
                continue
            bad = [k for k, v in value.items() if not isinstance(v, str)]
            for k in bad:
                problems.append(f"'{name}[{k}]' expected type 'string', got unconvertible type "
                                f"'{_go_kind(value[k])}', value: '{_go_value(value[k])}'")
            if not bad:
                out[name] = value
        else:  # options
            if not isinstance(value, dict):
                problems.append(f"'{name}' expected a map, got '{_go_kind(value)}'")
                continue
            options: dict[str, str] = {}
            for okey, ovalue in value.items():
                oname = next((f for f in ("concurrency", "consistency")
                              if f == okey.lower()), None)
                if oname is None:
                    continue
                if isinstance(ovalue, str):
                    options[oname] = ovalue
                elif ovalue is not None:
                    problems.append(f"'{name}.{oname.capitalize()}' expected type 'string', got "
                                    f"unconvertible type '{_go_kind(ovalue)}', value: "
                                    f"'{_go_value(ovalue)}'")
            out[name] = options
    if problems:
        raise _mapstructure_error(problems)
    return out


def _go_value(value: Any) -> str:
    if isinstance(value, float):
        from statelab.go.json import go_float

        return go_float(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _url_metadata(params: Mapping[str, str] | None) -> dict[str, str]:
    if not params:
        return {}
    return {k[len("metadata."):]: v for k, v in params.items() if k.startswith("metadata.")}


def _json_dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def quote_key(key: str) -> str:
    """Quote a state key for a URL path so that daprd decodes it back to *key* (``+``, ``/``,
    ``%`` and spaces included)."""
    return quote(key, safe="")
