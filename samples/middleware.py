"""An app with its own lifespan, its own auth and a Host check, in front of daprd's routes.

daprd calls ``/dapr/config``, ``/healthz`` and ``/actors/...`` at the root of the app, from its
app channel address (``127.0.0.1`` unless ``--app-channel-address`` says otherwise), so:

* your lifespan enters ``runtime.lifespan(app)`` around ``yield``;
* your auth lets daprd's routes through: the runtime guards them itself with the token daprd
  sends when ``APP_API_TOKEN`` is set (``/healthz`` excepted, as daprd's probes carry none);
* ``TrustedHostMiddleware`` allows the Host daprd sends, ``127.0.0.1``.

Serve it with the tokens in the environment, e.g.
``USERS_TOKEN=... APP_API_TOKEN=... uvicorn --factory samples.middleware:from_environment``.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dapr_actors_fastapi import Actor, ActorRuntime, method

# The paths daprd calls; the runtime checks daprd's dapr-api-token on them.
DAPRD_PATHS = ("/dapr/config", "/healthz", "/actors/")


class Visitors(Actor):
    @method
    async def visit(self) -> int:
        visits = await self.state.get("visits", int, default=0) + 1
        await self.state.set("visits", visits)
        return visits


class BearerAuth:
    """Require ``Authorization: Bearer <token>`` on the app's own routes, not daprd's."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("BearerAuth needs a non-empty token")
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(DAPRD_PATHS):
            presented = Headers(scope=scope).get("authorization", "").encode()
            if not hmac.compare_digest(presented, self.expected):
                response = JSONResponse({"detail": "not authenticated"}, status_code=401)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(users_token: str, *, app_api_token: str | None = None) -> FastAPI:
    """The app; ``app_api_token`` defaults to ``APP_API_TOKEN`` in the environment."""
    runtime = ActorRuntime(app_api_token=app_api_token)
    runtime.actor("visitors")(Visitors)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.motd = "welcome"  # your own start-up, then the runtime's
        async with runtime.lifespan(app):
            yield
        # your own shutdown here runs after every actor deactivated

    app = FastAPI(lifespan=lifespan)
    app.include_router(runtime.router)  # at the root: daprd calls fixed paths
    app.add_middleware(BearerAuth, token=users_token)
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "fleet.example.com"]
    )

    @app.get("/motd")
    async def motd(request: Request) -> str:
        return str(request.app.state.motd)

    return app


def from_environment() -> FastAPI:
    """``uvicorn --factory samples.middleware:from_environment``."""
    return create_app(os.environ["USERS_TOKEN"])
