"""The benchmark's "ours" server behind the front door: the same x-wing actor as ``ours.py``,
served by ``runtime.front_door(FastAPI())`` instead of ``app.include_router(runtime.router)``.

Run: ``uvicorn benchmarks.apps.front_door:app``. The front door answers daprd's routes before
FastAPI sees them and runs the runtime's lifespan; ``GET /bench/live-actors`` is the plain
FastAPI route the harness reads, passed through to the app.
"""

from __future__ import annotations

from fastapi import FastAPI

from .ours import runtime

plain = FastAPI()


@plain.get("/bench/live-actors")
async def live_actors() -> dict[str, int]:
    # A harness-only count of live actors, through the runtime's public active_actors().
    return {"live": len(runtime.active_actors("x-wing"))}


app = runtime.front_door(plain)
