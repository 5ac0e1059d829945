"""Request bodies under the sidecar's ``--max-body-size`` (docs/protocol.md §7.0)."""

from __future__ import annotations

from starlette.requests import Request

from .errors import DaprError


def too_large() -> DaprError:
    # daprd's limit error reads "stream too large"; 413 says what it is.
    return DaprError(413, "ERR_BODY_TOO_LARGE", "stream too large")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 once it grows past ``limit`` bytes, whether or not a
    Content-Length announced it (a chunked body is counted as it streams in)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)
