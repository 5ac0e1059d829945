"""The actors of Dapr's Actors API reference page, so its curl examples run as written.

    dapr-actors run samples.starwars:app --app-id starwars

Then, for example: ``curl -X POST http://localhost:3500/v1.0/actors/x-wing/33/method/fly
-H "Content-Type: application/json" -d '{"destination": "Hoth"}'``.

Both actors keep their state in ``self.state`` (saved by the sidecar when each turn ends), and
a stormtrooper calls an x-wing through a typed proxy.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

logger = logging.getLogger("samples.starwars")

runtime = ActorRuntime(idle_timeout="1h", scan_interval="30s", drain_timeout="30s")


class Post(BaseModel):
    """Where a stormtrooper is posted (the reference page reads it as state key "location")."""

    location: str


@runtime.actor("stormtrooper")
class Stormtrooper(Actor):
    """Shoots at x-wings, performs actions, and checks for rebels on reminders and timers."""

    async def on_activate(self) -> None:
        await self.state.get_or_set("location", Post(location="Alderaan"))

    @method
    async def shoot(self, target: str = "33") -> dict[str, Any]:
        shots = await self.state.get("shots", int, default=0) + 1
        await self.state.set("shots", shots)
        # A call to another actor, typed by XWing's own signature, through the sidecar.
        target_location = await XWing.proxy(target).where()
        return {"shots": shots, "target": f"x-wing/{target}", "at": target_location}

    @method("performAction")
    async def perform_action(self) -> dict[str, str]:
        return {"action": "stand guard"}

    @method
    async def checks(self) -> dict[str, int]:
        """How often this stormtrooper checked for rebels, by reminder and by timer."""
        return {
            "reminder": await self.state.get("reminder_checks", int, default=0),
            "timer": await self.state.get("timer_checks", int, default=0),
        }

    @reminder("checkRebels")
    async def check_rebels(self, data: Any = None) -> None:
        checks = await self.state.get("reminder_checks", int, default=0) + 1
        await self.state.set("reminder_checks", checks)
        logger.info("stormtrooper %s checks for rebels (%s), check %d", self.id, data, checks)

    @timer("checkRebels")
    async def check_rebels_now(self, data: Any = None) -> None:
        # The reference page calls the timer route with no body, i.e. no callback name; the
        # runtime then dispatches on the timer's own name.
        checks = await self.state.get("timer_checks", int, default=0) + 1
        await self.state.set("timer_checks", checks)

    @timer("myEventHandler")
    async def my_event_handler(self, data: Any = None) -> None:
        logger.info("stormtrooper %s handles its timer event (%s)", self.id, data)


@runtime.actor("x-wing")
class XWing(Actor):
    """Flies wherever it is sent, and remembers where it is."""

    @method
    async def fly(self, destination: str) -> dict[str, str]:
        departed = await self.where()
        await self.state.set("location", destination)
        return {"from": departed, "location": destination}

    @method
    async def where(self) -> str:
        return await self.state.get("location", str, default="Yavin 4")


app = FastAPI(title="Star Wars actors", lifespan=runtime.lifespan)
app.include_router(runtime.router)
