"""Actors in a Starlette app.

dapr-actors run samples.frameworks.starlette_app:app --app-id fleet
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from samples.frameworks.fleet import fleet_runtime

runtime = fleet_runtime()


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello from starlette")


app = runtime.front_door(Starlette(routes=[Route("/hello", hello)]))
