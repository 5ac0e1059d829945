"""``ActorFrontDoor``: daprd's routes in front of any ASGI app.

The generated router needs FastAPI, and reaches daprd only through the app's middleware and
mounts: a router mounted under a prefix is never called, auth or host-checking middleware can
refuse ``/dapr/config``, and an app without FastAPI cannot include it at all. The front door
wraps the whole ASGI app instead. It answers daprd's fixed paths itself, with the same routes
and endpoints as the router (``router.callback_routes``), before the framework sees them, and
hands every other request to the app unchanged. ``APP_API_TOKEN`` is what guards those routes
then, as daprd intends.

It also runs the runtime's lifespan, nested inside the app's own: the app starts first, then
the runtime; at shutdown the runtime drains and deactivates its actors first, so that an
``on_deactivate`` can still use what the app's lifespan opened, and the app stops last. An app
that does not speak the lifespan protocol (Django) is served without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

from starlette.routing import Match, Route

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]

_ACTOR_PREFIX = "/actors/"
_FIXED_PATHS = frozenset({"/dapr/config", "/healthz"})


class ActorFrontDoor:
    """An ASGI app that serves daprd's routes for a runtime and passes the rest to ``app``.

    Make one with ``runtime.front_door(app)`` and serve it in place of ``app``.
    """

    def __init__(self, app: ASGIApp, routes: Sequence[Route], lifespan: Lifespan) -> None:
        self.app = app
        self._routes = tuple(routes)
        self._lifespan = lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            # One prefix test keeps the app's own requests to a single dispatch.
            if path.startswith(_ACTOR_PREFIX) or path in _FIXED_PATHS:
                for route in self._routes:
                    match, child = route.matches(scope)
                    if match is Match.FULL:
                        scope.update(child)
                        await route.handle(scope, receive, send)
                        return
        elif kind == "lifespan":
            await self._serve_lifespan(scope, receive, send)
            return
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
