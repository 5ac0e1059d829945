"""Actors in a Quart app.

dapr-actors run samples.frameworks.quart_app:app --app-id fleet
"""

from __future__ import annotations

from quart import Quart

from samples.frameworks.fleet import fleet_runtime

runtime = fleet_runtime()
web = Quart(__name__)


@web.get("/hello")
async def hello() -> str:
    return "hello from quart"


app = runtime.front_door(web)
