"""Small pieces of Go's standard library whose exact behaviour Dapr's answers depend on.

daprd parses ETags and TTLs with ``strconv.Atoi`` (the Redis store's TTL with ``ParseInt``),
decodes URL path segments with ``url.QueryUnescape`` and routes on ``path.Clean``; their error
texts end up inside Dapr's error messages, and their quirks (``+`` becomes a space in a key)
are part of what learners trip over.
"""

from __future__ import annotations

import json
import re

__all__ = ["GoParseError", "atoi", "go_quote", "parse_int", "path_clean", "query_unescape"]


class GoParseError(ValueError):
    """A parse failure carrying Go's error text."""


_INT_PATTERN = re.compile(r"[+-]?[0-9]+")


def go_quote(text: str) -> str:
    """``strconv.Quote``: close enough for the ASCII and UTF-8 text that appears in errors."""
    return json.dumps(text, ensure_ascii=False)


def _parse_int64(func: str, text: str) -> int:
    """``strconv.ParseInt(text, 10, 64)``'s rules, its error named after *func*.

    The range is decided on the digits before Python's ``int()`` sees them: a literal of more
    than 19 significant digits is out of range for Go, and ``int()`` refuses one of over 4300
    digits (``sys.set_int_max_str_digits``), which must not turn a bad TTL into a crash.
    """
    if not _INT_PATTERN.fullmatch(text):
        raise GoParseError(f"strconv.{func}: parsing {go_quote(text)}: invalid syntax")
    digits = text.lstrip("+-").lstrip("0")
    sign = "-" if text.startswith("-") else ""
    if len(digits) > 19 or not -(2**63) <= (value := int(sign + (digits or "0"))) < 2**63:
        raise GoParseError(f"strconv.{func}: parsing {go_quote(text)}: value out of range")
    return value


def atoi(text: str) -> int:
    """``strconv.Atoi`` on a 64-bit platform: optional sign, decimal digits, nothing else."""
    return _parse_int64("Atoi", text)


def parse_int(text: str) -> int:
    """``strconv.ParseInt(text, 10, 0)`` on a 64-bit platform: Atoi's rules and range, with
    ``strconv.ParseInt`` in its errors (components-contrib's Redis ``parseTTL`` calls it)."""
    return _parse_int64("ParseInt", text)


_HEX = "0123456789abcdefABCDEF"


def query_unescape(text: str) -> str:
    """``url.QueryUnescape``: ``%XX`` decoded, ``+`` becomes a space, a bad escape is an error."""
    if text.isascii() and "%" not in text and "+" not in text:
        return text  # hot path (every routed key): nothing to decode, the loop is the identity
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c == ord("%"):
            chunk = raw[i:i + 3]
            if len(chunk) < 3 or chr(chunk[1]) not in _HEX or chr(chunk[2]) not in _HEX:
                bad = chunk.decode("utf-8", errors="replace")
                raise GoParseError(f"invalid URL escape {go_quote(bad)}")
            out.append(int(chunk[1:3], 16))
            i += 3
        elif c == ord("+"):
            out.append(ord(" "))
            i += 1
        else:
            out.append(c)
            i += 1
    return out.decode("utf-8", errors="replace")


def path_clean(path: str) -> str:
    """Go's ``path.Clean``: one slash between segments, no ``.`` segment, each ``..`` removes
    the segment before it (and at the root, itself); no trailing slash; ``""`` becomes ``"."``.

    daprd routes on ``path.Clean`` of the escaped path (``CleanPathMiddleware`` in
    pkg/api/http/middlewares.go), so ``/v1.0/./state/s/../s/k`` reaches the key ``k``.
    """
    rooted = path.startswith("/")
    if rooted and "//" not in path and "/." not in path and not path.endswith("/"):
        return path  # hot path (every request): already clean, the loop is the identity
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept and kept[-1] != "..":
                kept.pop()
            elif not rooted:
                kept.append("..")
            continue
        kept.append(segment)
    cleaned = ("/" if rooted else "") + "/".join(kept)
    return cleaned or "."
