"""Requests and answers of the sidecar's hot routes, straight on ASGI.

Every relayed actor call, state read and write and reminder or timer registration crosses these
routes, so they skip Starlette's per-request objects (``Request``, ``Headers``, ``Response``):
the headers are read once from the scope, the body from ``receive``, and the answer goes out
as two ASGI messages. What a client sees is what Starlette's ``Response`` sent: a
``content-length`` on every answer but 204, ``content-type`` where one was set.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import Receive, Scope, Send

from .bodies import too_large
from .errors import DaprError

JSON_TYPE = (b"content-type", b"application/json")
# Go's http.Error, as daprd answers a missing or wrong API token (docs/protocol.md §7.0).
BAD_TOKEN_BODY = b"invalid api token\n"
TEXT_TYPE = (b"content-type", b"text/plain; charset=utf-8")


class Answer(NamedTuple):
    """One HTTP answer: status, headers (lower-case names, as bytes) and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


NO_CONTENT = Answer(204, [])
BAD_TOKEN = Answer(401, [TEXT_TYPE], BAD_TOKEN_BODY)


def json_answer(body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> Answer:
    return Answer(200, [JSON_TYPE, *(headers or ())], body)


def error_answer(error: DaprError) -> Answer:
    """``error`` in daprd's shape, byte for byte as ``DaprError.response()`` writes it."""
    return Answer(error.status, [JSON_TYPE], error.body())


async def send_answer(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    if status != 204 and status != 304 and status >= 200:
        headers = [*headers, (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RawRequest:
    """One request of a hot route: its verb, raw path, query and headers, read once."""

    __slots__ = ("_receive", "headers", "method", "query")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self._receive = receive
        self.method: str = scope["method"]
        self.query: bytes = scope["query_string"]
        self.headers: list[tuple[bytes, bytes]] = scope["headers"]

    def header(self, name: bytes) -> bytes | None:
        """The first value of the header ``name`` (lower case), or ``None``."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def body(self, limit: int) -> bytes:
        """The whole body, or 413 once it grows past ``limit`` bytes, whether or not a
        Content-Length announced it (a chunked body is counted as it streams in)."""
        length = self.header(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                # The caller left: nothing will read the answer, so stop here.
                raise ClientDisconnected
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class ClientDisconnected(ConnectionError):
    """The caller closed the connection before its request body was complete."""
