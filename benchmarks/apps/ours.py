"""The benchmark's "ours" server: the x-wing actor on dapr_actors_fastapi.

Run: ``uvicorn benchmarks.apps.ours:app`` (``count`` and ``hold``, the stateful methods, need a
sidecar at ``DAPR_HTTP_PORT``: the harness runs ``benchmarks/stub_sidecar.py``). ``GET /bench/live-actors`` is harness-only (the
memory scenario checks that exactly the expected actors are alive); it is registered after
the runtime's routes, so the measured ``PUT`` never reaches it.
"""

from __future__ import annotations

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method

PAYLOAD_CHARS = 100
runtime = ActorRuntime()


@runtime.actor("x-wing")
class XWing(Actor):
    @method
    async def fly(self, destination: str) -> dict[str, str]:
        return {"destination": destination}

    @method
    async def count(self) -> int:
        # The stateful scenario: one read (cached after the actor's first turn), one write,
        # saved through the sidecar as one transaction when the turn ends.
        count = await self.state.get("count", int, default=0)
        await self.state.set("count", count + 1)
        return count + 1

    @method
    async def hold(self) -> None:
        # Memory per live actor with state: one key holding 100 characters, distinct per actor
        # (one shared constant would be counted once), saved through the sidecar.
        await self.state.set("payload", self.id.rjust(PAYLOAD_CHARS, "."))


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)


@app.get("/bench/live-actors")
async def live_actors() -> dict[str, int]:
    # A harness-only count of live actors, through the runtime's public active_actors().
    return {"live": len(runtime.active_actors("x-wing"))}
