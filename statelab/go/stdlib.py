"""Small pieces of Go's standard library whose exact behaviour Dapr's answers depend on.

daprd parses ETags and TTLs with ``strconv.Atoi`` and decodes URL path segments with
``url.QueryUnescape``; their error texts end up inside Dapr's error messages, and their
quirks (``+`` becomes a space in a key) are part of what learners trip over.
"""

from __future__ import annotations

import json
import re

__all__ = ["GoParseError", "atoi", "go_quote", "query_unescape"]


class GoParseError(ValueError):
    """A parse failure carrying Go's error text."""


_INT_PATTERN = re.compile(r"[+-]?[0-9]+")


def go_quote(text: str) -> str:
    """``strconv.Quote``: close enough for the ASCII and UTF-8 text that appears in errors."""
    return json.dumps(text, ensure_ascii=False)


def atoi(text: str) -> int:
    """``strconv.Atoi`` on a 64-bit platform: optional sign, decimal digits, nothing else."""
    if not _INT_PATTERN.fullmatch(text):
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise GoParseError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return value


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
