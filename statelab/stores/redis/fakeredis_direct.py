"""The Redis store's hot commands, run directly on an in-process fakeredis server.

Why this exists: on the embedded server, a redis-py command costs about 45 us, most of it
redis-py packing the request and fakeredis parsing it back; and one EVALSHA of the save script
costs about 300 us, because fakeredis runs Lua through lupa (compiling the text, a full Lua
garbage collection and a globals check on every call). That set the embedded sidecar's HTTP
throughput, far below what the HTTP layer allows (``bench/bench_sidecar.py``).

When the server lives in this process, statelab can skip the protocol and hand the very same
Redis commands the scripts issue (``HMGET``, ``HSET``, ``HINCRBY``, ``HGET``, ``DEL``) and the
read's ``HGETALL`` to fakeredis's own command implementations, for about 6 us each. A script's
commands run under the server lock that also makes a Lua script atomic on fakeredis, so no
other client (a learner's redis-py client on the same server, say) sees half a save. Because
fakeredis's command layer does the work, expiry, keyspace notifications and ``WATCH``
invalidation behave exactly as they do for the Lua path.

The rules are those of :data:`~statelab.stores.redis.scripts.SAVE_SCRIPT` and
:data:`~statelab.stores.redis.scripts.DELETE_SCRIPT`, decided in Python. The fast path takes only
the states where the script cannot fail half way: a missing key, or a hash whose ``version`` is
absent or a plain integer that ``HINCRBY`` can increment. Anything else (a legacy plain value, a
version like ``"abc"``) is handed back before anything is written, and the caller runs the Lua
script, whose error text is then the real one. ``tests/test_fakeredis_direct.py`` runs the same
operations on ordinary and odd states through both paths and requires identical answers and
identical stored data; the contract tests run the embedded profile on this path.

Where Lua cannot run at all (Pyodide in a browser has no lupa, and fakeredis then answers
``unknown command 'evalsha'``), :meth:`DirectFakeredis.attach` with ``without_lua=True`` takes
the odd states too: it sends exactly the commands the script would send, in the script's
order, through fakeredis's command layer (``DEL`` of a value that is not a hash, ``HSET`` then
a failing ``HINCRBY`` that leaves the data written), and raises the failing command's error as
:class:`ScriptCommandFailed`, so the caller words it as Redis 7 words the script's error.
``tests/test_fakeredis_direct.py`` runs every state and operation this way too, against Lua.

It relies on fakeredis internals (``FakeSocket._run_command``, ``FakeServer.lock``, the
database's ``_dict`` and the ``Hash`` model's ``_expiry_heap``), which moved within 2.x before.
So :meth:`DirectFakeredis.attach` connects only on the fakeredis versions the tests cover
(:data:`TESTED_FAKEREDIS`) and only if those internals are there; otherwise it returns a
one-line note and the store keeps using redis-py and Lua everywhere.
"""

from __future__ import annotations

import importlib.metadata
import re
import time
from typing import Any

__all__ = [
    "TESTED_FAKEREDIS",
    "DirectFakeredis",
    "HandBack",
    "ScriptCommandFailed",
    "ScriptRefused",
    "fakeredis_version",
    "is_tested",
]

#: The fakeredis minor versions whose internals the tests exercise (``tests/
#: test_fakeredis_direct.py``, last run on 2.40.0 and 2.41.0). pyproject.toml pins the same
#: range; on any other version the store keeps Lua and says so in ``RedisStore.note``.
TESTED_FAKEREDIS = ("2.40", "2.41")

# The integers Redis's HINCRBY parses (string2ll) and can add 1 to without overflow.
_PLAIN_INTEGER = re.compile(rb"-?[1-9][0-9]{0,18}|0")
_INT64_MAX = 2**63 - 1


class HandBack(Exception):  # noqa: N818 - a signal to take the Lua path, not an error
    """The state is unusual: run the Lua script instead (nothing was written)."""


class ScriptRefused(Exception):  # noqa: N818 - the script's verdict, worded by the caller
    """The script's own ``error(...)``: the ETag check failed (same rule as the Lua text)."""


class ScriptCommandFailed(Exception):  # noqa: N818 - a command's error inside the script
    """A ``redis.call`` inside the script failed (only without Lua); the text is fakeredis's."""


def fakeredis_version() -> str:
    """The installed fakeredis version (a function, so tests can pretend another one)."""
    return importlib.metadata.version("fakeredis")


def is_tested(version: str) -> bool:
    """Whether *version* is in one of the :data:`TESTED_FAKEREDIS` minor series."""
    return ".".join(version.split(".")[:2]) in TESTED_FAKEREDIS


def _incrementable(version: bytes | None) -> bool:
    if version is None:
        return True
    if version.isdigit() and len(version) <= 18 and (version[0] != 0x30 or version == b"0"):
        return True  # the common case, without a regex: at most 18 digits is below 2**63-1
    return _PLAIN_INTEGER.fullmatch(version) is not None and int(version) < _INT64_MAX


class DirectFakeredis:
    """A private connection to one database of an in-process fakeredis server."""

    def __init__(self, server: Any, db: int, *, without_lua: bool = False) -> None:
        import redis
        from fakeredis._core import Item
        from fakeredis._helpers import SimpleError
        from fakeredis._socket._fakesocket import FakeSocket
        from fakeredis.model import Hash

        self._server = server
        #: True where Lua cannot run: odd states are played command by command, not handed back.
        self.without_lua = without_lua
        self._lock = server.lock
        self._socket = FakeSocket(server, db, client_class=redis.Redis)
        self._db = self._socket._db
        self._simple_error: type[Any] = SimpleError
        self._hash_type: type[Any] = Hash
        self._item_type: type[Any] = Item
        self._commands = {name: self._socket._name_to_func(name)
                          for name in ("hgetall", "hmget", "hset", "hincrby", "hget", "del")}

    @classmethod
    def attach(cls, client: Any, *, without_lua: bool = False
               ) -> tuple[DirectFakeredis | None, str | None]:
        """A direct connection beside *client*, if it is a fakeredis client of this process.

        Returns the connection (or None) and, when a fakeredis client cannot have one, a
        one-line note for people saying why and what happens instead. *without_lua*: there
        is no Lua to hand odd states back to, so play them here (see the module's docstring).
        """
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
        server = kwargs.get("server")
        if server is None or type(server).__module__.split(".")[0] != "fakeredis":
            return None, None
        version = fakeredis_version()
        if not is_tested(version):
            return None, (f"fakeredis {version} is not in the tested list "
                          f"({', '.join(TESTED_FAKEREDIS)}); using Lua scripts "
                          "(slower, same answers)")
        try:
            direct = cls(server, int(kwargs.get("db", 0) or 0), without_lua=without_lua)
            # The internals relied on, checked once: a different layout keeps Lua.
            direct._socket._run_command  # noqa: B018 - an attribute check, not a statement
            direct._db._dict  # noqa: B018 - an attribute check, not a statement
            direct._hash_type()._expiry_heap  # noqa: B018 - an attribute check
            direct._db.notify_watch  # noqa: B018 - an attribute check, not a statement
            server.subscribers, server.psubscribers  # noqa: B018 - an attribute check
        except Exception as exc:  # noqa: BLE001 - another fakeredis layout: stay on Lua
            return None, (f"fakeredis {version} lacks the internals of the fast path "
                          f"({type(exc).__name__}: {exc}); using Lua scripts "
                          "(slower, same answers)")
        return direct, None

    # -- one command ---------------------------------------------------------------------

    def _call(self, name: str, *args: bytes) -> Any:
        """One command as a script's ``redis.pcall`` sees it (errors are returned); lock held."""
        func, sig = self._commands[name]
        return self._socket._run_command(func, sig, list(args), True)

    def _enter(self) -> None:
        """What fakeredis does before every command: stop if down, fix the clock for expiry."""
        if not self._server.connected:
            raise HandBack("the server is disconnected")
        self._db.time = time.time()

    # -- the store's operations ----------------------------------------------------------

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        """``HGETALL key``, read straight from the hash (a copy, taken under the server lock).

        The read is the one operation short enough to skip fakeredis's command layer too (it
        writes nothing, so there is nothing to notify); a key that is past its TTL, a hash
        with per-field TTLs (whose expiry fakeredis reports as a side effect of commands) and
        a key of another type go through ``HGETALL`` as a command instead.
        """
        raw_key = key.encode()
        with self._lock:
            self._enter()
            item = self._db._dict.get(raw_key)
            if item is None:
                return {}
            if self._plain(item):
                copy: dict[bytes, bytes] = item.value.getall()
                return copy
            fields = self._call("hgetall", raw_key)
        if isinstance(fields, self._simple_error):
            raise HandBack(str(fields))  # WRONGTYPE: the store reads it as a plain string
        if isinstance(fields, list):  # a flat RESP2 array on some fakeredis versions
            return dict(zip(fields[::2], fields[1::2], strict=False))
        return dict(fields)

    def _plain(self, item: Any) -> bool:
        """No key, or a live hash without per-field TTLs: reads and writes have no side effect."""
        return item is None or (type(item.value) is self._hash_type
                                and not item.value._expiry_heap
                                and (item.expireat is None or item.expireat >= self._db.time))

    def save(self, key: str, expected: str, data: bytes, first_write: bool) -> int:
        """SAVE_SCRIPT: the new version, or :class:`ScriptRefused` when the ETag check fails.

        On a plain state (no key, or a live hash without per-field TTLs) and with nobody
        subscribed to keyspace events, the hash is read and written in place, which is what
        the script's HMGET, HSET and HINCRBY do to it, and WATCHers are told, as fakeredis's
        command layer would tell them. Otherwise the same three commands run through that
        layer, so every side effect (lazy expiry, notifications) is fakeredis's own.
        """
        raw_key = key.encode()
        with self._lock:
            self._enter()
            item = self._db._dict.get(raw_key)
            in_place = self._plain(item) and not (self._server.subscribers
                                                   or self._server.psubscribers)
            if in_place:
                fields = item.value if item is not None else None
                current = fields.get(b"version") if fields is not None else None
                sticky = fields.get(b"first-write") if fields is not None else None
            else:
                reply = self._call("hmget", raw_key, b"version", b"first-write")
                if not isinstance(reply, self._simple_error):
                    current, sticky = reply
                elif self.without_lua:  # as the script: drop the value and start over
                    self._call("del", raw_key)
                    current = sticky = None
                else:
                    raise HandBack("not a hash")  # the script deletes it and starts over
            wanted = expected.encode()
            allowed = (current is None or current == b"" or current == wanted
                       or (sticky is None and wanted == b"0"))
            if not allowed:
                raise ScriptRefused()
            if not _incrementable(current) and not self.without_lua:
                raise HandBack("HINCRBY would fail")  # the script's error text comes from Redis
            if not in_place or not _incrementable(current):
                if first_write:
                    self._call("hset", raw_key, b"data", data, b"first-write", b"0")
                else:
                    self._call("hset", raw_key, b"data", data)
                version = self._call("hincrby", raw_key, b"version", b"1")
                if isinstance(version, self._simple_error):  # the data stays written
                    raise ScriptCommandFailed(str(version))
                return int(version)
            version = 1 if current is None else int(current) + 1
            if fields is None:
                fields = self._hash_type()
                self._db[raw_key] = self._item_type(fields)
            # Field order as HSET then HINCRBY leave it: existing fields keep their place.
            fields[b"data"] = data
            if first_write:
                fields[b"first-write"] = b"0"
            fields[b"version"] = str(version).encode()
            self._db.notify_watch(raw_key)
        return version

    def delete(self, key: str, expected: str) -> None:
        """DELETE_SCRIPT: removes the key, or :class:`ScriptRefused` on an ETag mismatch."""
        raw_key = key.encode()
        with self._lock:
            self._enter()
            current = self._call("hget", raw_key, b"version")
            wanted = expected.encode()
            allowed = (current is None or isinstance(current, self._simple_error)
                       or current == b"" or current == wanted or wanted == b"0")
            if not allowed:
                raise ScriptRefused()
            self._call("del", raw_key)

