from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

runtime = ActorRuntime(idle_timeout="1h", reentrancy=True)


class Flight(BaseModel):
    destination: str


@runtime.actor("x-wing", idle_timeout="10m")
class XWing(Actor):
    async def on_activate(self) -> None:
        self.location = "Yavin 4"

    @method  # PUT /actors/x-wing/{id}/method/fly  body {"destination": "Hoth"}
    async def fly(self, flight: Flight) -> dict[str, str]:
        departed, self.location = self.location, flight.destination
        return {"from": departed, "to": self.location}

    @reminder("checkRebels")
    async def check_rebels(self, data: dict[str, str] | None = None) -> None:
        print(f"x-wing {self.id} at {self.location} checks for rebels: {data}")


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)
