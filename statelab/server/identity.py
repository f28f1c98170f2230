"""Proof that a sidecar on a port is a ``statelab run`` of this user, before anything trusts it.

:func:`statelab.start` may reuse a ``statelab run`` process that holds the port it wants, and
then points the learner's client (and ``DAPR_API_TOKEN``) at it. Anything can answer on a
loopback port and imitate ``/v1.0/metadata``, so the metadata is no proof. Instead:

* ``statelab run`` writes a random secret to ``<runtime dir>/statelab/http-<port>.key``, a file
  only this user can read (mode 0600 in a 0700 directory that this user owns: the user's
  ``$XDG_RUNTIME_DIR``, else a ``statelab-<uid>`` folder of the temporary directory), and
  removes it when it stops.
* The prober reads that file (no file, a file another user could read or write: no reuse, and
  not a single byte is sent), sends a fresh random challenge to ``GET /v1.0/healthz`` (public,
  no token) in a ``Statelab-Challenge`` header, and accepts the holder only if it answers with
  ``Statelab-Proof: HMAC-SHA256(secret, challenge)``. The secret never travels, so an impostor
  learns nothing from a probe; only after the proof is the token sent, to read the metadata.
* Every exchange runs on a raw socket under one overall deadline (about a second), so a server
  that trickles its answer cannot hold :func:`statelab.start` up.

Choosing this over "never reuse": a learner who runs ``statelab run`` in a terminal and then a
notebook gets the one sidecar they started (notebook 08's story), and nobody else's.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CHALLENGE_HEADER", "PROOF_HEADER", "Identity", "HttpReply", "proof",
           "prove_holder", "runtime_dir"]

CHALLENGE_HEADER = "Statelab-Challenge"
PROOF_HEADER = "Statelab-Proof"
#: The whole probe of a port's holder, in seconds.
PROBE_DEADLINE = 1.0
_MAX_REPLY = 256 * 1024


def proof(secret: bytes, challenge: str) -> str:
    """The answer a sidecar holding *secret* gives to *challenge* (hex HMAC-SHA256)."""
    return hmac.new(secret, challenge.encode("latin-1"), hashlib.sha256).hexdigest()


def runtime_dir(create: bool = False) -> Path | None:
    """This user's private ``statelab`` folder (0700, owned by this user), or None when there
    is none that can be trusted (another owner, wider permissions, a symlink, no POSIX uids)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    uid = getuid()
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "statelab" if base and _private(Path(base), uid) \
        else Path(tempfile.gettempdir()) / f"statelab-{uid}"
    if create:
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    return folder if _private(folder, uid) else None


def _private(path: Path, uid: int) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and info.st_mode & 0o077 == 0


class Identity:
    """The secret of one ``statelab run`` on one port, published in the user's runtime dir."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.secret = secrets.token_bytes(32)
        self.path: Path | None = None

    def publish(self) -> bool:
        """Write the key file (0600, atomically); False when there is no private folder."""
        folder = runtime_dir(create=True)
        if folder is None:
            return False
        path = folder / f"http-{self.port}.key"
        temporary = folder / f".http-{self.port}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.secret.hex())
        os.replace(temporary, path)
        self.path = path
        return True

    def withdraw(self) -> None:
        """Remove the key file if it is still this sidecar's."""
        if self.path is not None and read_secret(self.port) == self.secret:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self.path = None


def read_secret(port: int) -> bytes | None:
    """The published secret of the sidecar on *port*, if a file only this user controls holds
    one."""
    folder = runtime_dir()
    if folder is None:
        return None
    path = folder / f"http-{port}.key"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd) as handle:
        info = os.fstat(handle.fileno())
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        try:
            return bytes.fromhex(handle.read(200).strip())
        except ValueError:
            return None


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def _request(host: str, port: int, path: str, headers: dict[str, str], deadline: float
             ) -> HttpReply | None:
    """One ``GET`` over HTTP/1.0 (the server closes after answering), every byte read before
    *deadline* (time.monotonic()); None on any failure or a late or oversized answer."""
    lines = [f"GET {path} HTTP/1.0", f"Host: {host}:{port}",
             *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    try:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        with socket.create_connection((host, port), timeout=remaining) as sock:
            sock.sendall("\r\n".join(lines).encode("latin-1"))
            data = b""
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or len(data) > _MAX_REPLY:
                    return None
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    found: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), value.strip())
    return HttpReply(int(parts[1]), found, body)


def prove_holder(host: str, port: int, api_token: str | None,
                 deadline_s: float = PROBE_DEADLINE) -> dict[str, Any] | None:
    """The ``/v1.0/metadata`` of the sidecar on *port* if it proves it is this user's
    ``statelab run`` and its token is exactly *api_token* (None: no token); else None."""
    secret = read_secret(port)
    if secret is None:
        return None  # nothing of ours was published for this port: send nothing
    deadline = time.monotonic() + deadline_s
    challenge = secrets.token_hex(16)
    reply = _request(host, port, "/v1.0/healthz", {CHALLENGE_HEADER: challenge}, deadline)
    if reply is None or not hmac.compare_digest(reply.headers.get(PROOF_HEADER.lower(), ""),
                                                proof(secret, challenge)):
        return None
    # Proven: the token may go there now. Its token must be the one asked for, no more, no less.
    open_reply = _request(host, port, "/v1.0/metadata", {}, deadline)
    if open_reply is None:
        return None
    if open_reply.status == 200:
        if api_token is not None:
            return None  # it has no token, but this caller asked for one
        reply = open_reply
    else:
        if api_token is None or open_reply.status != 401:
            return None
        reply = _request(host, port, "/v1.0/metadata", {"dapr-api-token": api_token}, deadline)
        if reply is None or reply.status != 200:
            return None
    try:
        payload = reply.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None
