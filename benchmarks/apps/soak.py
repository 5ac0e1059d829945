"""The soak benchmark's app: a ``counter`` actor that increments a stored count, registers and
deletes a short reminder, starts a short timer, and is deactivated 2 s after its last turn, so
that over a long run actors keep activating and deactivating.

Run: ``dapr-actors run benchmarks.apps.soak:app`` (``benchmarks/soak.py`` starts it, with a
file state DB). ``GET /bench/soak`` is harness-only: live actors, the events counted so far, and
the objects the garbage collector tracks in this process (the app's and, under ``dapr-actors
run``, the sidecar's): a count that keeps growing is a leak of Python objects, whatever RSS does.
"""

from __future__ import annotations

import gc
from collections import Counter as Tally

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

# Idle actors go after 2 s, scanned every second: with calls spread over 10,000 ids most calls
# activate an actor and most actors are deactivated between two of their calls.
runtime = ActorRuntime(idle_timeout="2s", scan_interval="1s")
events: Tally[str] = Tally()  # activations, deactivations, reminder and timer fires


@runtime.actor("counter")
class Counter(Actor):
    async def on_activate(self) -> None:
        events["activations"] += 1

    async def on_deactivate(self) -> None:
        events["deactivations"] += 1

    @method
    async def increment(self) -> int:
        count = await self.state.get("count", int, default=0)
        await self.state.set("count", count + 1)
        return count + 1

    @method
    async def remind(self) -> None:
        # Three fires a second apart, then the sidecar drops it: reminders come and go without
        # the harness having to delete every one (it deletes some, see ``forget``).
        await self.reminders.register("nudge", due_time="1s", period="1s", repetitions=3)

    @method
    async def forget(self) -> None:
        await self.reminders.delete("nudge")

    @method
    async def start_timer(self) -> None:
        await self.timers.register("tick", due_time="1s", period="1s", repetitions=2)

    @reminder("nudge")
    async def nudge(self) -> None:
        events["reminder fires"] += 1

    @timer("tick")
    async def tick(self) -> None:
        events["timer fires"] += 1


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)


@app.get("/bench/soak")
async def soak_counts() -> dict[str, int]:
    return {
        "live": len(runtime.active_actors("counter")),
        "objects": len(gc.get_objects()),
        **events,
    }
