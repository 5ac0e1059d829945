"""Actors in a Litestar app.

dapr-actors run samples.frameworks.litestar_app:app --app-id fleet
"""

from __future__ import annotations

from litestar import Litestar, get

from samples.frameworks.fleet import fleet_runtime

runtime = fleet_runtime()


@get("/hello", sync_to_thread=False)
def hello() -> str:
    return "hello from litestar"


app = runtime.front_door(Litestar([hello]))
