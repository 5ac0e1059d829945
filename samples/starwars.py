"""The actors of Dapr's Actors API reference page, so its curl examples run as written.

    dapr-actors run samples.starwars:app --app-id starwars

Then, for example: ``curl -X POST http://localhost:3500/v1.0/actors/x-wing/33/method/fly
-H "Content-Type: application/json" -d '{"destination": "Hoth"}'``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

logger = logging.getLogger("samples.starwars")

runtime = ActorRuntime(idle_timeout="1h", scan_interval="30s", drain_timeout="30s")


@runtime.actor("stormtrooper")
class Stormtrooper(Actor):
    """Shoots, performs actions, and keeps checking for rebels on reminders and timers."""

    async def on_activate(self) -> None:
        self.shots = 0
        self.rebel_checks = 0

    @method
    async def shoot(self) -> dict[str, int]:
        self.shots += 1
        return {"shots": self.shots}

    @method("performAction")
    async def perform_action(self) -> dict[str, str]:
        return {"action": "stand guard"}

    @reminder("checkRebels")
    async def check_rebels(self, data: Any = None) -> None:
        self.rebel_checks += 1
        logger.info("stormtrooper %s checks for rebels (%s)", self.id, data)

    @timer("checkRebels")
    async def check_rebels_now(self, data: Any = None) -> None:
        # The reference page calls the timer route with no body, i.e. no callback name; the
        # runtime then dispatches on the timer's own name.
        self.rebel_checks += 1

    @timer("myEventHandler")
    async def my_event_handler(self, data: Any = None) -> None:
        logger.info("stormtrooper %s handles its timer event (%s)", self.id, data)


@runtime.actor("x-wing")
class XWing(Actor):
    """Flies wherever it is sent."""

    async def on_activate(self) -> None:
        self.location = "Yavin 4"

    @method
    async def fly(self, destination: str) -> dict[str, str]:
        departed, self.location = self.location, destination
        return {"from": departed, "location": destination}


app = FastAPI(title="Star Wars actors", lifespan=runtime.lifespan)
app.include_router(runtime.router)
