"""The actor-table benchmark's app: the x-wing of ``apps/ours.py`` under a runtime that asks the
sidecar to scan for idle actors every second (daprd's default is 30 s), so that a measured run
of a few seconds sees the sidecar's idle scans at work; the hour's idle timeout keeps every
actor active.

Run: ``uvicorn benchmarks.apps.table:app`` behind the dev sidecar
(``benchmarks/actor_table_scale.py`` starts both).
"""

from __future__ import annotations

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method

runtime = ActorRuntime(idle_timeout="1h", scan_interval="1s")


@runtime.actor("x-wing")
class XWing(Actor):
    @method
    async def fly(self, destination: str) -> dict[str, str]:
        return {"destination": destination}


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)
