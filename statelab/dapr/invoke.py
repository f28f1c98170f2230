"""daprd's service invocation fallback, as far as a sidecar with no app can answer it.

Why this exists: every request no state route matches falls through to daprd's service
invocation handler (``onDirectMessage``, registered with ``IsFallback`` in
pkg/api/http/directmessaging.go, daprd v1.18). It looks for a target app id in the
``dapr-app-id`` header, in a ``Basic`` authorization for the user ``dapr-app-id``, or in the
path ``/v1.0/invoke/<id>/method/<method>`` (``findTargetIDAndMethod``). Without one it answers
404 ``failed getting app id ...``; with one it tries to reach the app, and statelab serves no
app and resolves no other, so the call fails the way daprd fails when nothing is reachable:
500 ``ERR_DIRECT_INVOKE`` ``failed to invoke, id: <id>, err: <why>`` (``ErrDirectInvoke``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from statelab.dapr import messages
from statelab.errors import DaprError
from statelab.go.stdlib import GoParseError, go_quote, path_clean, query_unescape

__all__ = ["invoke_error", "target_and_method"]

_APP_ID_HEADER = "dapr-app-id"


def _path_has_prefix(path: str, *parts: str) -> int:
    """daprd's ``pathHasPrefix``: the index just past the leading segments *parts* (and the
    slashes after them), or -1."""
    if not path:
        return -1
    start = found = 0
    for i, char in enumerate(path):
        if char != "/":
            if found >= len(parts):
                return i
            continue
        if i - start > 0:
            if path[start:i] != parts[found]:
                return -1
            found += 1
        start = i + 1
    return len(path) if found >= len(parts) else -1


def target_and_method(path: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """``findTargetIDAndMethod``: the app id and method of a request (``("", "")`` if none).

    *path* is the decoded, uncleaned request path (Go's ``r.URL.Path``); *headers* have
    lower-cased names.
    """
    app_id = headers.get(_APP_ID_HEADER, "")
    if app_id:
        return app_id, path_clean(path).removeprefix("/")
    auth = headers.get("authorization", "")
    if auth.startswith("Basic "):
        try:
            pair = base64.b64decode(auth.removeprefix("Basic "), validate=True).decode(
                "utf-8", errors="replace").split(":")
        except (binascii.Error, ValueError):
            pair = []
        if len(pair) == 2 and pair[0].casefold() == _APP_ID_HEADER:
            return pair[1], path_clean(path).removeprefix("/")
    index = _path_has_prefix(path, "v1.0", "invoke")
    if index > 0:
        rest = path[index:]
        cut = rest.find("/method/")
        if cut > 0:
            target = rest[:cut]
            method = path_clean(rest[cut + len("/method/"):])
            try:
                target = query_unescape(target) or target
            except GoParseError:
                pass
            return target, "" if method == "." else method
    return "", ""


def _method_problem(method: str) -> str | None:
    """``method.NormalizeMethod`` (pkg/messaging/method/normalize.go): forbidden bytes."""
    if any(char in method for char in "#?\x00"):
        return f"method contains forbidden character: {go_quote(method)}"
    for position, byte in enumerate(method.encode("utf-8", errors="surrogateescape")):
        if byte < 0x20 or byte == 0x7F:
            return (f"method contains control character at position {position}: "
                    f"{go_quote(method)}")
    return None


def _why_unreachable(target: str, method: str, app_id: str, namespace: str) -> str:
    """What ``directMessaging.Invoke`` fails with, for a sidecar with no app channel under
    daprd's default standalone name resolution (mDNS), in the order it checks."""
    problem = _method_problem(method)
    if problem is not None:
        return f"rpc error: code = InvalidArgument desc = invalid method: {problem}"
    if target.startswith(("http://", "https://")):
        # daprd would call that URL itself; statelab's own wording: it makes no outbound call.
        return "statelab does not call external endpoints"
    parts = target.split(".")
    if len(parts) > 2:
        return f"invalid app id {target}"  # requestAppIDAndNamespace
    target_id, target_namespace = (parts[0], parts[1]) if len(parts) == 2 \
        else (target, namespace)
    if target_id == app_id and target_namespace == namespace:
        return "cannot invoke local endpoint: app channel not initialized"  # invokeLocal
    return f"couldn't find service: {target_id}"  # mDNS ResolveID, no such app announced


def invoke_error(escaped_path: str, headers: Mapping[str, str], app_id: str,
                 namespace: str) -> DaprError:
    """daprd's answer to a request that reached the invocation fallback of this sidecar."""
    path = unquote(escaped_path, errors="replace")
    target, method = target_and_method(path, headers)
    if not target:
        return messages.direct_invoke_fallback()
    return messages.direct_invoke_failed(target,
                                         _why_unreachable(target, method, app_id, namespace))
