"""The Redis store's two Lua scripts, their SHAs, and their errors as Redis 7 words them.

The scripts are statelab's own text with the logic of components-contrib v1.18 (spec section
11): that is what makes every quirk of the ETag matrix (S1-S13, D1-D5) come out the same. The
save script reads both fields with one HMGET and writes with one HSET where Dapr's uses two of
each: the same decisions and the same stored hash, with fewer Lua-to-Redis calls (on fakeredis
each costs about 45 us). Because the text differs from Dapr's, a Redis script error names a
different line number and SHA than real Dapr's would; the rest of the wording matches Redis 7.

fakeredis words script errors differently from a real server; :func:`redis7_wording` rewrites
them into Redis 7's form, so a learner sees the same message on both backends. The stores that
decide a script's outcome without running it (the fakeredis fast path, the simulator's model)
word a refusal with :func:`save_refusal` and :func:`delete_refusal`, so their text is the one
a real server gives, SHA and line number included.
"""

from __future__ import annotations

import functools
import hashlib
import re

__all__ = [
    "DELETE_SCRIPT",
    "SAVE_SCRIPT",
    "delete_refusal",
    "redis7_script_error",
    "redis7_wording",
    "save_refusal",
    "script_sha",
]

# KEYS[1] state key; ARGV[1] expected version ("0" = none), ARGV[2] data,
# ARGV[3] "0" when the save asked for first-write (absent in transactions).
SAVE_SCRIPT = """\
local fields = redis.pcall("HMGET", KEYS[1], "version", "first-write")
local current, sticky = false, false
if fields["err"] then
  -- not a hash (a legacy plain value): drop it and start over
  redis.call("DEL", KEYS[1])
else
  current, sticky = fields[1], fields[2]
end
local expected = ARGV[1]
local allowed = (not current) or current == "" or current == expected
  or ((not sticky) and expected == "0")
if not allowed then
  return error("failed to set key " .. KEYS[1])
end
if ARGV[3] == "0" then
  redis.call("HSET", KEYS[1], "data", ARGV[2], "first-write", 0)
else
  redis.call("HSET", KEYS[1], "data", ARGV[2])
end
return redis.call("HINCRBY", KEYS[1], "version", 1)
"""

# KEYS[1] state key; ARGV[1] expected version ("0" = no If-Match).
DELETE_SCRIPT = """\
local current = redis.pcall("HGET", KEYS[1], "version")
local allowed = (not current) or type(current) == "table" or current == ""
  or current == ARGV[1] or ARGV[1] == "0"
if not allowed then
  return error("failed to delete " .. KEYS[1])
end
return redis.call("DEL", KEYS[1])
"""

_FAKEREDIS_SCRIPT_ERROR = re.compile(
    r"Error running script \(call to f_(?P<sha>[0-9a-f]+)\): @user_script:\?: "
    r"\[string \"<python>\"\]:(?P<line>\d+): (?P<message>.*?)(?:\nstack traceback:.*)?$",
    re.DOTALL)

# What a ``redis.call`` inside SAVE_SCRIPT can fail with: only its HINCRBY can fail (on a
# version that is not an integer, or at 2**63-1); its HSET always runs on a hash or a deleted key.
_HINCRBY_ERRORS = ("hash value is not an integer", "increment or decrement would overflow")


def script_sha(script: str) -> str:
    """The SHA1 that EVALSHA names *script* by."""
    return hashlib.sha1(script.encode()).hexdigest()


@functools.cache
def _script_site(script: str, fragment: str) -> tuple[str, int]:
    """The SHA of *script* and the number of its (first) line containing *fragment*."""
    line = next(i for i, text in enumerate(script.splitlines(), start=1) if fragment in text)
    return script_sha(script), line


def redis7_script_error(script: str, message_start: str, key: str) -> str:
    """The text a Redis 7 server returns when *script* raises at its ``error(...)`` line."""
    sha, line = _script_site(script, f'error("{message_start}')
    return (f"ERR user_script:{line}: {message_start}{key} script: {sha}, "
            f"on @user_script:{line}.")


def save_refusal(key: str) -> str:
    """SAVE_SCRIPT's ETag refusal for *key*, as Redis 7 words it."""
    return redis7_script_error(SAVE_SCRIPT, "failed to set key ", key)


def delete_refusal(key: str) -> str:
    """DELETE_SCRIPT's ETag refusal for *key*, as Redis 7 words it."""
    return redis7_script_error(DELETE_SCRIPT, "failed to delete ", key)


def redis7_wording(error: Exception) -> str:
    """The error text as go-redis shows a Redis 7 script error (with its ``ERR`` prefix).

    fakeredis words a script's own ``error(...)`` in its own way, and passes an error raised by
    a ``redis.call`` on without the ``script: <sha>, on @user_script:<line>.`` that Redis 7
    appends; both are rewritten to Redis 7's form.
    """
    text = str(error)
    match = _FAKEREDIS_SCRIPT_ERROR.match(text)
    bare = text.removeprefix("ERR ")
    if match:
        line = match["line"]
        message = match["message"]
        try:
            # fakeredis hands Lua error text over as UTF-8 bytes read as Latin-1 (a key "ü"
            # comes back as "Ã¼"); real Redis keeps the key's bytes, so undo that.
            message = message.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        text = (f"user_script:{line}: {message} script: {match['sha']}, "
                f"on @user_script:{line}.")
    elif " script: " not in text and bare.startswith(_HINCRBY_ERRORS):
        sha, line_number = _script_site(SAVE_SCRIPT, 'redis.call("HINCRBY"')
        text = f"{bare} script: {sha}, on @user_script:{line_number}."
    return text if text.startswith("ERR ") else "ERR " + text
