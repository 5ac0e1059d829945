"""Actors in a FastAPI app whose middleware would refuse daprd: a host check and a bearer
token on every request. The front door answers daprd's routes before the middleware runs;
``APP_API_TOKEN`` is what guards them.

    dapr-actors run samples.frameworks.fastapi_guarded:app --app-id fleet
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import PlainTextResponse

from samples.frameworks.fleet import fleet_runtime

runtime = fleet_runtime()
web = FastAPI()
web.add_middleware(TrustedHostMiddleware, allowed_hosts=["fleet.example.com"])


@web.middleware("http")
async def require_bearer(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    if request.headers.get("authorization") != "Bearer sample-token":
        return PlainTextResponse("unauthorized", status_code=401)
    return await call_next(request)


@web.get("/hello")
async def hello() -> str:
    return "hello from fastapi"


app = runtime.front_door(web)
