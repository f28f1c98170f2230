"""The sidecar: the state API served over HTTP on 127.0.0.1, inside a kernel or as a process.

In a notebook, :func:`start` runs uvicorn in a daemon thread on a socket it binds itself (so a
busy port is a clear error, not a silently dead thread), with logs quiet so cell outputs stay
deterministic. It never uses the kernel's event loop: a synchronous ``httpx.get`` from a cell
would deadlock on it (the project's research notes on Jupyter testing, section 3.1).

:func:`start` is idempotent within a process: running the cell again returns the same sidecar.
If a ``statelab run`` of this user with the same app id, stores and token already answers on
the port (say, in a terminal), it is reused, once it has proved who it is
(:mod:`statelab.server.identity`: a secret in a 0600 file, within about a second, before any
token is sent); if anything else holds the port, a free port is chosen and a message says so.
With ``STATELAB_DAPR_URL`` set, nothing is started: the handle points at that real daprd, so
the same notebook runs against real Dapr.

In a browser tab (JupyterLite on Pyodide) there is no socket and no thread: the sidecar is
served on the tab's network instead (:mod:`statelab.server.browser`), at the same URL, and
httpx's own clients reach it there; there is no gRPC door (grpcio has no browser build).

Next to HTTP, the sidecar serves Dapr's gRPC API (the Python SDK's door) on ``grpc_port``
(50001 as daprd; a busy port moves the same way) over the same service and stores, and exports
``DAPR_GRPC_PORT``. grpcio and ``dapr`` are imported only then (:mod:`statelab.server.grpc_server`).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from statelab import __version__
from statelab.dapr.components import Component, default_components, load_components
from statelab.dapr.http import DEFAULT_MAX_BODY_SIZE, StateAPI
from statelab.errors import SidecarError
from statelab.runtime import in_browser
from statelab.server.browser import route_httpx, tab_network
from statelab.server.identity import Identity, prove_holder

__all__ = ["Sidecar", "running_sidecars", "serve", "start", "stop_all"]

DEFAULT_PORT = 3500
#: daprd's gRPC API port (``statelab.server.grpc_server.DEFAULT_GRPC_PORT``, not imported here
#: so that this module does not import grpcio).
DEFAULT_GRPC_PORT = 50001
#: The ``/v1.0/metadata`` extended attribute in which a sidecar publishes its gRPC port ("" for
#: none): a ``start()`` that attaches to ``statelab run`` exports it as ``DAPR_GRPC_PORT``.
#: Reserved, like ``statelab.role``: ``PUT /v1.0/metadata`` cannot change it.
GRPC_PORT_ATTRIBUTE = "statelab.grpcPort"
#: Where :func:`serve` looks for a free port on a browser tab's network (above start()'s).
PRIVATE_TAB_PORTS = 40000
_registry: dict[int, Sidecar] = {}
_registry_lock = threading.Lock()


class Sidecar:
    """A running (or attached) statelab sidecar. Use :func:`start` to get one."""

    def __init__(self, *, url: str, port: int, app_id: str, api: StateAPI | None,
                 owned: bool, config_key: tuple[Any, ...] = ()) -> None:
        self.url = url
        self.port = port
        self.app_id = app_id
        self.api = api
        self.owned = owned
        self._config_key = config_key
        self.requested_port = port
        self.moved_from: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        #: The host this sidecar answers for on the browser tab's network, while it does.
        self._tab_host: str | None = None
        self._socket: socket.socket | None = None
        self._app: Any = None
        #: The secret ``statelab run`` publishes so this user's start() can trust it.
        self._identity: Identity | None = None
        #: The gRPC door (a ``GrpcServer``), when this sidecar serves one.
        self.grpc: Any = None
        self.grpc_moved_from: int | None = None

    @property
    def grpc_port(self) -> int | None:
        """The port of the gRPC API (what ``DAPR_GRPC_PORT`` says), or None without one."""
        port = None if self.grpc is None else self.grpc.port
        return None if port is None else int(port)

    @property
    def grpc_endpoint(self) -> str | None:
        """``127.0.0.1:<grpc_port>``: ``DaprClient(address=sidecar.grpc_endpoint)``."""
        endpoint = None if self.grpc is None else self.grpc.endpoint
        return None if endpoint is None else str(endpoint)

    def __repr__(self) -> str:
        if not self.owned:
            return f"<Sidecar app_id={self.app_id!r} url={self.url!r} (attached)>"
        state = "running" if self.running else "stopped"
        if self.moved_from is not None:
            state += f" (port {self.moved_from} was busy)"
        if self.grpc_moved_from is not None:
            state += f" (gRPC port {self.grpc_moved_from} was busy)"
        stores = ", ".join(f"{c.name} ({c.type})" for c in (self.api.components or [])) \
            if self.api else ""
        notes = "".join(f"; {note}" for note in self.notes())
        return (f"<Sidecar app_id={self.app_id!r} url={self.url!r} {state}; stores: {stores}"
                f"{notes}>")

    def notes(self) -> list[str]:
        """Each store's note, when one runs in a degraded way (say, a fakeredis version the
        fast path was not tested on): ``<store>: <note>``."""
        if self.api is None:
            return []
        return [f"{c.name}: {c.store.note}" for c in self.api.components
                if c.store is not None and c.store.note]

    def describe(self) -> str:
        """A few lines for people: where the sidecar listens, its stores, and any note."""
        if self.api is None:
            return f"statelab sidecar for app {self.app_id!r} at {self.url} (another process)"
        lines = [f"statelab sidecar for app {self.app_id!r} at {self.url}"
                 f" ({'running' if self.running else 'stopped'})"]
        if self.grpc_endpoint is not None:
            lines.append(f"  gRPC API at {self.grpc_endpoint}")
        if self._tab_host is not None:
            lines.append("  in this browser tab: httpx clients are answered without a socket")
        lines += [f"  state store {c.name} ({c.type})" for c in self.api.components]
        lines += [f"  note: {note}" for note in self.notes()]
        return "\n".join(lines)

    @property
    def running(self) -> bool:
        return self._tab_host is not None or (self._thread is not None
                                              and self._thread.is_alive())

    @property
    def state_url(self) -> str:
        """The base URL of the state API, e.g. ``http://127.0.0.1:3500/v1.0/state``."""
        return f"{self.url}/v1.0/state"

    def component(self, name: str = "statestore") -> Component:
        if self.api is None:
            raise SidecarError("this sidecar runs in another process; inspect it there")
        for component in self.api.components or []:
            if component.name == name:
                return component
        raise SidecarError(f"no state store named {name!r}")

    def redis(self, store: str = "statestore") -> Any:
        """A redis-py client on the Redis database behind *store*, to see what Dapr stores.

        >>> sidecar.redis().hgetall("myapp||order-1")   # doctest: +SKIP
        {b'data': b'{"qty":1}', b'version': b'1'}
        """
        return self.component(store).redis_client()

    def reset(self, store: str | None = None) -> None:
        """Forget all data of one store (or of every store): a fresh start for an exercise."""
        if self.api is None:
            raise SidecarError("this sidecar runs in another process; reset it there")
        for component in self.api.components or []:
            if store is None or component.name == store:
                component.open().reset()

    # -- lifecycle ----------------------------------------------------------------------------

    def _serve(self, sock: socket.socket, timeout: float = 10.0) -> None:
        import uvicorn

        from statelab.server.asgi import StateApp
        from statelab.server.header_limit import MAX_HEAD_BYTES

        assert self.api is not None
        secret = self._identity.secret if self._identity is not None else None
        self._app = StateApp(self.api, secret=secret)
        # The lifespan starts and stops the app's background sweep of expired items.
        config = uvicorn.Config(self._app, log_level="warning", access_log=False,
                                lifespan="on", server_header=False, http=_http_impl(),
                                loop=_loop_impl(), ws="none",
                                h11_max_incomplete_event_size=MAX_HEAD_BYTES)
        self._server = uvicorn.Server(config)
        self._socket = sock
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"statelab-sidecar-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SidecarError(f"the sidecar on port {self.port} failed to start")
            time.sleep(0.002)

    def _serve_in_tab(self, host: str) -> None:
        """Answer this sidecar's URL on the browser tab's network (no socket, no thread)."""
        assert self.api is not None
        tab_network().listen(host, self.port, self.api)
        route_httpx(tab_network())
        self._tab_host = host

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving. Embedded Redis data stays in the process for the next start().
        An attached sidecar keeps running in its process; only the environment it exported
        (``DAPR_HTTP_PORT``, ``DAPR_API_TOKEN``) is put back."""
        if not self.owned:
            _unexport_env(self.port)
            return
        if self._tab_host is not None:
            tab_network().close(self._tab_host, self.port)
            self._tab_host = None
        if self.grpc is not None:
            self.grpc.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        if self._app is not None:
            self._app.close()
        with _registry_lock:
            if _registry.get(self.port) is self:
                del _registry[self.port]
        _unexport_env(self.port)
        if self._identity is not None:
            self._identity.withdraw()

    def _serve_grpc(self, port: int, quiet: bool) -> None:
        """Start the gRPC door on *port* (0: a free one); a busy port moves to a free one,
        said as for HTTP (stderr from scripts, the repr in notebooks)."""
        from statelab.server.grpc_server import grpc_door

        assert self.api is not None
        door = grpc_door(self.api.service, host=self.url.split("//", 1)[1].rsplit(":", 1)[0],
                         api_token=self.api.api_token, max_message_size=self.api.max_body_size)
        if not door.try_start(port):
            try:
                door.start(0)
            except SidecarError:
                self.stop()
                raise
            self.grpc_moved_from = port
            if not quiet and not _in_notebook():
                print(f"gRPC port {port} is in use by another program; statelab uses port "
                      f"{door.port} instead.", file=sys.stderr)
        self.grpc = door

    def __enter__(self) -> Sidecar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _http_impl() -> Any:
    """httptools when installed (``uvicorn[standard]``): about twice h11's throughput, with
    Go's 1 MiB limit on a request's head (h11 gets the same limit through its config)."""
    if importlib.util.find_spec("httptools") is None:
        return "h11"
    from statelab.server.header_limit import HeaderLimitedProtocol

    return HeaderLimitedProtocol


def _loop_impl() -> str:
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def _bind(host: str, port: int) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    sock.listen(128)
    return sock


def _same_stores(metadata: dict[str, Any], components: Sequence[Component]) -> bool:
    """Does a sidecar's ``/v1.0/metadata`` list exactly these stores (names and types)?"""
    served = sorted((str(c.get("name")), str(c.get("type")))
                    for c in metadata.get("components") or [] if isinstance(c, dict))
    return served == sorted((c.name, c.type) for c in components)


def _config_key(app_id: str, components: Any, api_token: str | None, max_body: int,
                grpc_port: int | None = None) -> tuple[Any, ...]:
    if components is None or isinstance(components, (str, os.PathLike)):
        comp_key: Any = str(Path(components).resolve()) if components is not None else None
    else:
        comp_key = id(components)
    return (app_id, comp_key, api_token, max_body, grpc_port)


def start(port: int = DEFAULT_PORT, app_id: str = "myapp",
          components: str | os.PathLike[str] | Sequence[Component] | None = None, *,
          host: str = "127.0.0.1", api_token: str | None = None,
          max_body_size: int = DEFAULT_MAX_BODY_SIZE, quiet: bool = False,
          role: str = "kernel", grpc_port: int | None = DEFAULT_GRPC_PORT) -> Sidecar:
    """Start (or return the already running) sidecar for *app_id* on *port*.

    *components* is a folder of Dapr component YAML files, a list of
    :class:`~statelab.dapr.components.Component`, or None for the ``dapr init`` default (one Redis
    store named ``statestore``, embedded). Sets ``DAPR_HTTP_PORT`` so Dapr SDKs find it.

    *grpc_port* is the gRPC API's port (50001 as daprd; 0 picks a free one; None serves no
    gRPC): ``DAPR_GRPC_PORT`` is set to it, so ``dapr.clients.DaprClient()`` works unchanged.
    Both doors share one service: a value saved over gRPC reads over HTTP and the reverse.

    A busy port is reused only when a ``statelab run`` process of this user holds it, proves
    it (:mod:`statelab.server.identity`), and has the same app id, stores and token (an empty
    *api_token* is no token, as in daprd); a sidecar inside another kernel is never borrowed
    (its data could vanish with that kernel, and it cannot be inspected from here), so a free
    port is chosen instead. The move is said on stderr from scripts and in the sidecar's repr
    in notebooks, where a stray stderr line would break reproducible outputs. *role* is
    ``"process"`` for ``statelab run``.
    """
    external = os.environ.get("STATELAB_DAPR_URL")
    if external:
        url = external.rstrip("/")
        sidecar = Sidecar(url=url, port=int(url.rsplit(":", 1)[-1]) if url.count(":") == 2
                          else 80, app_id=app_id, api=None, owned=False)
        return sidecar
    api_token = api_token or None  # '' is no token, as daprd reads an empty DAPR_API_TOKEN
    key = _config_key(app_id, components, api_token, max_body_size, grpc_port)
    with _registry_lock:
        if port == 0:
            # "Any free port": reuse a sidecar with the same settings, never replace another.
            existing = next((s for s in _registry.values()
                             if s.requested_port == 0 and s._config_key == key), None)
        else:
            existing = next((s for s in _registry.values() if s.requested_port == port), None)
    if existing is not None and existing.running:
        if existing._config_key == key:
            return existing
        existing.stop()
    loaded = _load(components, app_id)
    if in_browser():
        return _start_in_tab(port, app_id, loaded, host=host, api_token=api_token,
                             max_body_size=max_body_size, config_key=key)
    sock = _bind(host, port)
    if sock is None:
        # Only a `statelab run` of this user that proves it (a secret in a 0600 file) is
        # asked for its metadata; the token goes nowhere else (statelab.server.identity).
        holder = prove_holder(host, port, api_token)
        # Reuse it only if it serves the stores asked for (a notebook that needs a second
        # store must not attach to another kernel's sidecar that lacks it).
        reusable = holder is not None and holder.get("id") == app_id \
            and (holder.get("extended") or {}).get("statelab.role") == "process" \
            and _same_stores(holder, loaded)
        if reusable:
            sidecar = Sidecar(url=f"http://{host}:{port}", port=port, app_id=app_id, api=None,
                              owned=False)
            # The process publishes its gRPC port, so the SDK's DaprClient() finds it too.
            published = str((holder or {}).get("extended", {}).get(GRPC_PORT_ATTRIBUTE, ""))
            _export_env(port, api_token, int(published) if published.isdigit() else None)
            return sidecar
        sock = _bind(host, 0)
        if sock is None:
            raise SidecarError(f"cannot bind any port on {host}")
        chosen = sock.getsockname()[1]
        if not quiet and not _in_notebook():
            print(f"Port {port} is in use by another program; statelab uses port {chosen} "
                  "instead.", file=sys.stderr)
    actual = sock.getsockname()[1]
    sidecar = _owned(loaded, host=host, port=port, actual=actual, app_id=app_id,
                     api_token=api_token, max_body_size=max_body_size, role=role, key=key)
    api = sidecar.api
    assert api is not None
    if role == "process":
        identity = Identity(actual)
        if identity.publish():
            sidecar._identity = identity
    sidecar._serve(sock)
    if grpc_port is not None:
        sidecar._serve_grpc(grpc_port, quiet)
        api.service.extended[GRPC_PORT_ATTRIBUTE] = str(sidecar.grpc_port)
    with _registry_lock:
        _registry[actual] = sidecar
    _export_env(actual, api_token, sidecar.grpc_port)
    return sidecar


def _load(components: str | os.PathLike[str] | Sequence[Component] | None,
          app_id: str) -> list[Component]:
    if components is None:
        return default_components()
    if isinstance(components, (str, os.PathLike)):
        return load_components(components, app_id=app_id)
    return list(components)


def _owned(loaded: list[Component], *, host: str, port: int, actual: int, app_id: str,
           api_token: str | None, max_body_size: int, role: str,
           key: tuple[Any, ...]) -> Sidecar:
    """The handle of a sidecar this process serves on *actual* (asked for *port*)."""
    api = StateAPI(loaded, app_id=app_id, api_token=api_token, max_body_size=max_body_size,
                   extended={"statelab": __version__, "statelab.role": role,
                             GRPC_PORT_ATTRIBUTE: ""})
    sidecar = Sidecar(url=f"http://{host}:{actual}", port=actual, app_id=app_id, api=api,
                      owned=True, config_key=key)
    sidecar.requested_port = port
    if port and actual != port:
        sidecar.moved_from = port
    return sidecar


def _start_in_tab(port: int, app_id: str, loaded: list[Component], *, host: str,
                  api_token: str | None, max_body_size: int,
                  config_key: tuple[Any, ...]) -> Sidecar:
    """:func:`start` in a browser tab: the same sidecar on the tab's network, HTTP only."""
    actual = tab_network().free_port(host, port)
    sidecar = _owned(loaded, host=host, port=port, actual=actual, app_id=app_id,
                     api_token=api_token, max_body_size=max_body_size, role="kernel",
                     key=config_key)
    sidecar._serve_in_tab(host)
    with _registry_lock:
        _registry[actual] = sidecar
    _export_env(actual, api_token)
    return sidecar


def serve(api: StateAPI, *, host: str = "127.0.0.1", grpc: bool = True) -> Sidecar:
    """A private sidecar over an *api* you built, on free ports: for tests and exercise labs.

    Unlike :func:`start` it is never registered (``running_sidecars()``, an exercise's
    ``reset()`` and ``stop_all()`` leave it alone), never reused and exports no environment:
    a test's store must not become the one a learner's ``DaprClient()`` finds. Whoever serves
    it stops it (``with serve(api) as sidecar: ...``). In a browser tab it is served on the
    tab's network, on a port above the ones :func:`start` takes, and has no gRPC door."""
    if in_browser():
        port = tab_network().free_port(host, PRIVATE_TAB_PORTS)
        sidecar = Sidecar(url=f"http://{host}:{port}", port=port, app_id=api.app_id, api=api,
                          owned=True)
        sidecar._serve_in_tab(host)
        return sidecar
    sock = _bind(host, 0)
    if sock is None:
        raise SidecarError(f"cannot bind any port on {host}")
    port = sock.getsockname()[1]
    sidecar = Sidecar(url=f"http://{host}:{port}", port=port, app_id=api.app_id, api=api,
                      owned=True)
    sidecar._serve(sock)
    if grpc:
        sidecar._serve_grpc(0, quiet=True)
    return sidecar


# For each port statelab exported, the variables as they were just before that export.
_exported: dict[int, dict[str, str | None]] = {}


def _in_notebook() -> bool:
    """Inside a Jupyter kernel (where the repr carries notices instead of stderr)?"""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _export_env(port: int, api_token: str | None, grpc_port: int | None = None) -> None:
    """Point the Dapr SDKs at this sidecar; :func:`_unexport_env` puts things back."""
    values = {"DAPR_HTTP_PORT": str(port)}
    if grpc_port is not None:
        values["DAPR_GRPC_PORT"] = str(grpc_port)
    if api_token is not None:
        values["DAPR_API_TOKEN"] = api_token
    before = _exported.setdefault(port, {})
    for name, value in values.items():
        before.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def _unexport_env(port: int) -> None:
    """After the sidecar on *port* stops, restore what its export replaced."""
    before = _exported.pop(port, {})
    if os.environ.get("DAPR_HTTP_PORT") != str(port):
        return  # another sidecar (or the user) owns the environment now
    for name, previous in before.items():
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def running_sidecars() -> list[Sidecar]:
    with _registry_lock:
        return [s for s in _registry.values() if s.running]


def stop_all() -> None:
    for sidecar in running_sidecars():
        sidecar.stop()
