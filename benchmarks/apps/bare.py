"""The benchmark's "bare" server: the ceiling, a bare ASGI app with no framework at all.

Run: ``uvicorn benchmarks.apps.bare:app``. Every HTTP request, whatever its path, is answered 200
with its own body as JSON (the echo of ``apps/raw.py`` without FastAPI, Starlette's routing or
an actor runtime): what uvicorn, HTTP parsing and the event loop cost on their own.
"""

from __future__ import annotations

from benchmarks.apps.raw import EchoObject, Receive, Scope, Send

echo = EchoObject()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        # Answered, so that uvicorn's "auto" lifespan mode does not log a failed probe.
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await echo(scope, receive, send)
