"""The benchmark's "front door" server: the x-wing actor of ``apps/ours.py`` served by
``runtime.front_door(app)`` in front of a FastAPI app, instead of ``include_router``.

Run: ``uvicorn benchmarks.apps.front_door:app``. The FastAPI app inside knows nothing of actors;
the front door answers ``/actors/...`` before FastAPI's routing runs, and passes
``GET /bench/live-actors`` (harness-only) through to it.
"""

from __future__ import annotations

from fastapi import FastAPI

from benchmarks.apps.ours import XWing
from dapr_actors_fastapi import ActorRuntime

runtime = ActorRuntime()
runtime.actor("x-wing")(XWing)

api = FastAPI()


@api.get("/bench/live-actors")
async def live_actors() -> dict[str, int]:
    return {"live": len(runtime.active_actors("x-wing"))}


app = runtime.front_door(api)
