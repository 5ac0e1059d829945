from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

runtime = ActorRuntime(idle_timeout="1h", reentrancy=True)


class Flight(BaseModel):
    destination: str


@runtime.actor("x-wing", idle_timeout="10m")
class XWing(Actor):
    @method  # PUT /actors/x-wing/{id}/method/fly  body {"destination": "Hoth"}
    async def fly(self, flight: Flight) -> dict[str, str]:
        departed = await self.state.get("location", str, default="Yavin 4")
        await self.state.set("location", flight.destination)  # saved when the turn ends
        return {"from": departed, "to": flight.destination}

    @reminder("checkRebels")
    async def check_rebels(self, data: dict[str, str] | None = None) -> None:
        location = await self.state.get("location", str, default="Yavin 4")
        print(f"x-wing {self.id} at {location} checks for rebels: {data}")


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)
