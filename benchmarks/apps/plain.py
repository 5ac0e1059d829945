"""The pass-through scenario's app: a plain FastAPI route, no actor in its path.

Run: ``uvicorn benchmarks.apps.plain:app`` (alone) or ``uvicorn benchmarks.apps.plain:front_door``
(the same app behind ``runtime.front_door``, with the x-wing actor of ``apps/ours.py``
registered). ``GET /ships/{ship}`` answers 200 ``{"ship": ship}`` either way; behind the front
door it costs one path test more, which is what the scenario measures.
"""

from __future__ import annotations

from fastapi import FastAPI

from benchmarks.apps.ours import XWing
from dapr_actors_fastapi import ActorRuntime

app = FastAPI()


@app.get("/ships/{ship}")
async def ship(ship: str) -> dict[str, str]:
    return {"ship": ship}


runtime = ActorRuntime()
runtime.actor("x-wing")(XWing)
front_door = runtime.front_door(app)
