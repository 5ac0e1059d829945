"""A reminder that cancels itself: the countdown ticks a given number of times, then stops.

    dapr-actors run samples.countdown:app --app-id countdown
    curl -s -X POST http://localhost:3500/v1.0/actors/countdown/launch/method/start \
      -H "Content-Type: application/json" -d '{"ticks": 3, "period_seconds": 0.2}'
    curl -s http://localhost:3500/v1.0/actors/countdown/launch/method/remaining

Reminders are persisted by the sidecar, so the countdown survives restarts of the app. The
handler calls ``self.cancel_recurrence()`` on its last tick: the runtime then deletes the
reminder through the sidecar (which works on every daprd) and answers with
``X-DaprReminderCancel: true``.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

runtime = ActorRuntime()


@runtime.actor("countdown")
class Countdown(Actor):
    @method
    async def start(self, ticks: int = 3, period_seconds: float = 1.0) -> None:
        await self.state.set("remaining", ticks)
        period = timedelta(seconds=period_seconds)
        await self.reminders.register("tick", due_time=period, period=period)

    @method
    async def remaining(self) -> int:
        return await self.state.get("remaining", int, default=0)

    @reminder("tick")
    async def tick(self) -> None:
        remaining = await self.state.get("remaining", int, default=0) - 1
        await self.state.set("remaining", remaining)
        if remaining <= 0:
            self.cancel_recurrence()


app = FastAPI(title="Countdown", lifespan=runtime.lifespan)
app.include_router(runtime.router)
