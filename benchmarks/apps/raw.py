"""The benchmark's "raw" server: the floor any FastAPI-hosted actor runtime stands on.

A raw ASGI callable object mounted as a Starlette ``Route`` in an ``APIRouter`` included into
a FastAPI app, like the library's callback route, but with no actor logic: it echoes the
request body back as JSON with 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import Route

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class EchoObject:
    """Answers 200 with the request body as ``application/json``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


router = APIRouter()
router.routes.append(
    Route(
        "/actors/{actor_type}/{actor_id}/method/{target:path}",
        endpoint=EchoObject(),
        methods=["PUT", "POST"],
    )
)
app = FastAPI()
app.include_router(router)
