"""``ActorFrontDoor``: daprd's routes in front of any ASGI app.

The generated router needs FastAPI, and reaches daprd only through the app's middleware and
mounts: a router mounted under a prefix is never called, auth or host-checking middleware can
refuse ``/dapr/config``, and an app without FastAPI cannot include it at all. The front door
wraps the whole ASGI app instead. It answers daprd's fixed paths itself, with the same
endpoints as the router (``router.DaprdEndpoints``), before the framework sees them, and hands
every other request to the app unchanged. ``APP_API_TOKEN`` is what guards those routes then,
as daprd intends.

It is also the fast path: it splits the path itself instead of trying Starlette's routes (a
regular expression each, and FastAPI tries an included router's routes twice), and hands the
parts to the endpoint: an actor call costs the server about 1.3 times a bare ASGI app's
request, against about 2.8 times through the router (README, "Any ASGI framework"). A request
for the app costs about a microsecond: one prefix test and one set lookup.

It also runs the runtime's lifespan, nested inside the app's own: the app starts first, then
the runtime; at shutdown the runtime drains and deactivates its actors first, so that an
``on_deactivate`` can still use what the app's lifespan opened, and the app stops last. An app
that does not speak the lifespan protocol (Django) is served without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from .router import CONFIG_PATH, HEALTH_PATH, DaprdEndpoints

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]

_ACTOR_PREFIX = "/actors/"
_ACTOR_PREFIX_LENGTH = len(_ACTOR_PREFIX)
_FIXED_PATHS = frozenset({CONFIG_PATH, HEALTH_PATH})
_CALLBACK_VERBS = frozenset({"PUT", "POST"})
_READ_VERBS = frozenset({"GET", "HEAD"})  # Starlette serves HEAD wherever it serves GET


class ActorFrontDoor:
    """An ASGI app that serves daprd's routes for a runtime and passes the rest to ``app``.

    Make one with ``runtime.front_door(app)`` and serve it in place of ``app``.
    """

    def __init__(self, app: ASGIApp, endpoints: DaprdEndpoints, lifespan: Lifespan) -> None:
        self.app = app
        self._endpoints = endpoints
        self._lifespan = lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if scope.get("root_path"):
                path = _route_path(path, scope["root_path"])
            # daprd's routes, matched as the router's Starlette routes match them
            # (router.callback_routes) but by splitting the path, not by regular expressions.
            # The app's own requests pay one prefix test and one set lookup.
            if path.startswith(_ACTOR_PREFIX):
                # /actors/{type}/{id}/method/{target...} or /actors/{type}/{id}
                parts = path[_ACTOR_PREFIX_LENGTH:].split("/", 3)
                if parts[0] and len(parts) == 4 and parts[1] and parts[2] == "method":
                    if scope["method"] in _CALLBACK_VERBS:
                        callbacks = self._endpoints.callbacks
                        await callbacks.serve(scope, receive, send, parts[0], parts[1], parts[3])
                        return
                elif parts[0] and len(parts) == 2 and parts[1] and scope["method"] == "DELETE":
                    await self._endpoints.deactivate.serve(scope, send, parts[0], parts[1])
                    return
            elif path in _FIXED_PATHS and scope["method"] in _READ_VERBS:
                endpoint = self._endpoints.config if path == CONFIG_PATH else self._endpoints.health
                await endpoint(scope, receive, send)
                return
        elif kind == "lifespan":
            await self._serve_lifespan(scope, receive, send)
            return
        # Anything else, other verbs on daprd's paths included, is the app's.
        await self.app(scope, receive, send)

    async def _serve_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(AppLifespan(self.app, scope))
                await stack.enter_async_context(self._lifespan(self))
            except Exception as error:
                logger.error("the app did not start: %s", error, exc_info=error)
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            try:
                await stack.aclose()  # the runtime first, then the app (last in, first out)
            except Exception as error:
                logger.error("the app did not shut down cleanly: %s", error, exc_info=error)
                await send({"type": "lifespan.shutdown.failed", "message": str(error)})
                return
        await send({"type": "lifespan.shutdown.complete"})


class LifespanFailed(RuntimeError):
    """The wrapped app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``."""


class AppLifespan:
    """The wrapped app's own lifespan, driven as a server drives it: entering sends it
    ``lifespan.startup`` and waits for its answer; leaving sends ``lifespan.shutdown``.

    An app that ends (or raises) before answering the startup does not speak the protocol, as
    servers judge in their "auto" mode: it is served without a lifespan, and the reason is logged.
    """

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self._app = app
        self._scope = scope
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()  # None: it returned
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def __aenter__(self) -> AppLifespan:
        self._task = asyncio.create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        answer = await self._from_app.get()
        if answer is None:
            logger.info(
                "the app does not speak the ASGI lifespan protocol (%s); serving it without one",
                self._error or "it returned without answering",
            )
            return self
        if answer["type"] == "lifespan.startup.failed":
            await self._task
            raise LifespanFailed(answer.get("message") or "the app's lifespan startup failed")
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task = self._task
        if task is None or task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        answer = await self._from_app.get()
        await task
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            raise LifespanFailed(answer.get("message") or "the app's lifespan shutdown failed")

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._to_app.get, self._from_app.put)
        except Exception as error:
            self._error = error
        finally:
            await self._from_app.put(None)


def _route_path(path: str, root_path: str) -> str:
    """The path relative to the server's ``root_path``, as Starlette's router reads it: a
    server started with ``--root-path /api`` puts it in front of daprd's ``/dapr/config``."""
    if path == root_path:
        return ""
    if path.startswith(root_path) and path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path
