"""The reminder-burst benchmark's app: a ``drone`` actor whose ``tick`` reminder records when
it arrived, and a ``probe`` actor whose ``ping`` is the unrelated call timed during the burst.

Run: ``uvicorn benchmarks.apps.burst:app`` behind the dev sidecar (``benchmarks/reminder_burst.py``
starts both). ``GET /bench/fires`` is harness-only: every drone's arrival times, Unix seconds.
"""

from __future__ import annotations

import time
from collections import defaultdict

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

runtime = ActorRuntime()
arrivals: defaultdict[str, list[float]] = defaultdict(list)


@runtime.actor("drone")
class Drone(Actor):
    @reminder("tick")
    async def tick(self) -> None:
        arrivals[self.id].append(time.time())


@runtime.actor("probe")
class Probe(Actor):
    @method
    async def ping(self) -> str:
        return "pong"


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)


@app.get("/bench/fires")
async def fires() -> dict[str, list[float]]:
    return arrivals
