"""Go's limit on the size of a request's head, for uvicorn's httptools protocol.

daprd serves HTTP with Go's ``net/http``, whose ``Server`` reads at most ``MaxHeaderBytes``
(``http.DefaultMaxHeaderBytes``, 1 MiB) plus 4096 bytes of slack (``initialReadLimitSize`` in
net/http/server.go) for the request line and headers, and answers anything longer with
``431 Request Header Fields Too Large`` in plain text, then closes the connection. uvicorn's
httptools protocol has no such limit: it would read a 64 MiB header into memory. This protocol
feeds the parser no more than the limit while a head is incomplete, and answers as Go does.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["MAX_HEAD_BYTES", "TOO_LARGE_ANSWER", "HeaderLimitedProtocol"]

#: ``http.DefaultMaxHeaderBytes`` plus the 4096 bytes of ``initialReadLimitSize``'s slack.
MAX_HEAD_BYTES = (1 << 20) + 4096

#: What Go's ``conn.serve`` writes for ``errTooLarge``, byte for byte.
TOO_LARGE_ANSWER = (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                    b"Content-Type: text/plain; charset=utf-8\r\n"
                    b"Connection: close\r\n\r\n"
                    b"431 Request Header Fields Too Large")


class HeaderLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with Go's limit on a request's head."""

    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._refused = False

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def _still_in_head(self) -> bool:
        """Re-read after feeding the parser (its callbacks change it)."""
        return self._in_head

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head and self._head_bytes + len(data) > self.max_head_bytes:
            allowed = max(self.max_head_bytes - self._head_bytes, 0)
            self._head_bytes = self.max_head_bytes
            if allowed:
                super().data_received(data[:allowed])
            if self._still_in_head():  # the head did not end within the limit
                self._refused = True
                self.transport.write(TOO_LARGE_ANSWER)
                self.transport.close()
                return
            data = data[allowed:]
        elif self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
