"""A small keep-alive HTTP/1.1 client for the one host an app talks to: its sidecar.

Why not aiohttp's ``ClientSession``: a stateful actor turn makes one sidecar request, and the
session's general machinery (cookie jars, tracing hooks, redirects, proxies, per-request URL
and header objects) cost 110–160 µs of CPU per request here, against about 30 µs for this
client; it decided whether a stateful turn ran 2.5x or 3.5x as fast as the official SDK's
(``benchmarks/README.md``). What the sidecar API needs is small: one host, keep-alive
connections, bodies with a known length, no redirects, no cookies, no compression.

* Connections are kept in a LIFO pool and reused; a connection is used by one request at a
  time (no pipelining).
* A connection idle for more than ``MAX_IDLE_SECONDS`` is not reused: servers close idle
  connections (uvicorn after 5 s), and a request sent just as that happens is lost. If a
  reused connection still turns out closed before any byte of the answer arrived, the request
  is sent again on a fresh one only when its method is idempotent (RFC 9110 §9.2.2); a POST
  fails with ``ConnectionClosed`` rather than risk running twice.
* Responses are parsed by httptools (llhttp, the parser of Node.js, already installed with
  uvicorn's standard extra): Content-Length, chunked, and close-delimited bodies.
* Timeouts, cancellation and protocol errors close the connection instead of returning it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

MAX_IDLE_CONNECTIONS = 64
MAX_IDLE_SECONDS = 4.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


Headers = Mapping[str, str] | Sequence[tuple[str, str]]


class HttpAnswer(NamedTuple):
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class ConnectionClosed(ConnectionError):
    """The server closed the connection before the answer was complete."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered  # whether any byte of the answer had arrived


class InvalidAnswer(ConnectionError):
    """The server's bytes are not an HTTP/1.1 response."""


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and the parser of the answer in flight."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, forget: Callable[[_Connection], None]
    ) -> None:
        self._loop = loop
        self._forget = forget
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._pending: asyncio.Future[HttpAnswer] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._answered = False
        self._headers_done = False
        self._head_only = False
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports do not subclass asyncio's.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(InvalidAnswer(f"the server sent an invalid HTTP response: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._forget(self)
        if self._pending is None or self._pending.done():
            return
        if self._headers_done and not self._declares_length():
            # A body delimited by the end of the connection (HTTP/1.0 style) is complete now.
            self._complete()
            return
        reason = f": {exc}" if exc else ""
        self._fail(
            ConnectionClosed(
                f"the server closed the connection before answering{reason}",
                answered=self._answered,
            )
        )

    # -- httptools callbacks ------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        if self._head_only:
            # An answer to HEAD announces a length but has no body: it ends with its headers.
            self.reusable = False
            self._complete()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._parser.should_keep_alive():
            self.reusable = False
        self._complete()

    # -- used by the pool ---------------------------------------------------------------------

    def send(self, request: bytes, *, head_only: bool) -> asyncio.Future[HttpAnswer]:
        assert self._transport is not None
        self._pending = self._loop.create_future()
        self._headers, self._body = [], []
        self._answered = self._headers_done = False
        self._head_only = head_only
        self._transport.write(request)
        return self._pending

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None and not self.closed:
            self._transport.close()

    def _declares_length(self) -> bool:
        return any(
            name.lower() in ("content-length", "transfer-encoding") for name, _ in self._headers
        )

    def _complete(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None or pending.done():
            return
        headers = CIMultiDictProxy(CIMultiDict(self._headers))
        pending.set_result(
            HttpAnswer(self._parser.get_status_code(), headers, b"".join(self._body))
        )

    def _fail(self, error: Exception) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.set_exception(error)


class HttpPool:
    """Keep-alive connections to one ``http://`` or ``https://`` origin.

    ``default_headers`` go with every request (for example the API token). Open lazily: the
    first request connects. ``close()`` closes every connection. At most ``max_idle``
    connections wait for the next request; those beyond are closed when their answer is in.
    """

    def __init__(
        self,
        base_url: str,
        default_headers: Mapping[str, str],
        *,
        max_idle: int = MAX_IDLE_CONNECTIONS,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"sidecar endpoint {base_url!r} is not an http:// or https:// URL with a host"
            )
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/")
        fixed = {"Host": parts.netloc.rpartition("@")[2], **default_headers}
        self._fixed_headers = _header_lines(fixed.items())
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._max_idle = max_idle

    async def request(
        self, method: str, target: str, headers: Headers, body: bytes | None
    ) -> HttpAnswer:
        """Send one request; ``target`` is the already percent-encoded path and query.
        ``headers`` as a mapping, or as (name, value) pairs when a name may repeat.

        Raises ``OSError`` subclasses when the server cannot be reached or hangs up
        (``ConnectionClosed``, ``InvalidAnswer``); bound it with ``asyncio.timeout``.
        """
        request = self._serialize(method, target, headers, body)
        head_only = method == "HEAD"
        connection, reused = await self._acquire()
        try:
            try:
                answer = await connection.send(request, head_only=head_only)
            except ConnectionClosed as error:
                if not reused or error.answered or method not in IDEMPOTENT_METHODS:
                    raise
                # A stale keep-alive connection: the request never reached the server.
                connection.close()
                connection = await self._connect()
                answer = await connection.send(request, head_only=head_only)
        except BaseException:
            connection.close()
            raise
        self._release(connection)
        return answer

    async def close(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()
        self._open.clear()

    def _serialize(self, method: str, target: str, headers: Headers, body: bytes | None) -> bytes:
        start = f"{method} {self._prefix}{target} HTTP/1.1\r\n".encode()
        if body is None and method in ("GET", "HEAD", "DELETE"):
            length = b""
        else:
            length = b"Content-Length: %d\r\n" % (len(body) if body else 0)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        extra = _header_lines(pairs) if headers else b""
        return b"".join((start, self._fixed_headers, extra, length, b"\r\n", body or b""))

    async def _acquire(self) -> tuple[_Connection, bool]:
        oldest = asyncio.get_running_loop().time() - MAX_IDLE_SECONDS
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and connection.idle_since > oldest:
                return connection, True
            connection.close()
        return await self._connect(), False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            lambda: _Connection(loop, self._open.discard),
            self._host,
            self._port,
            ssl=self._ssl,
            server_hostname=self._host if self._ssl else None,
        )
        self._open.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        if connection.reusable and not connection.closed and len(self._idle) < self._max_idle:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()


def _header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    lines = []
    for name, value in headers:
        if "\n" in name or "\n" in value or "\r" in name or "\r" in value:
            raise ValueError(f"header {name!r} contains a line break; remove it")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode()
