"""The benchmark's "peer" server: the same x-wing actor on the official dapr-ext-fastapi.

Run: ``uvicorn benchmarks.apps.peer:app`` with ``DAPR_HTTP_PORT`` pointing at a stub sidecar:
``register_actor`` builds the SDK's HTTP client, whose constructor blocks until
``GET /v1.0/healthz/outbound`` on the sidecar answers 2xx (``DaprHealth.wait_for_sidecar``).
Serving ``fly`` itself makes no sidecar call: the actor writes no state, so the SDK's
``save_state`` after each method returns before any request. ``count`` (the stateful scenario)
reads and writes state through that sidecar (the harness runs ``benchmarks/stub_sidecar.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dapr.actor import Actor, ActorInterface, actormethod
from dapr.actor.runtime.runtime import ActorRuntime
from dapr.ext.fastapi import DaprActor
from fastapi import FastAPI


class XWingInterface(ActorInterface):
    # The SDK's documented interface style: an untyped decorator on a body-less method.
    @actormethod(name="fly")  # type: ignore[untyped-decorator]
    async def fly(self, data: dict[str, Any]) -> dict[str, str]: ...  # type: ignore[empty-body]

    @actormethod(name="count")  # type: ignore[untyped-decorator]
    async def count(self) -> int: ...  # type: ignore[empty-body]


class XWing(Actor, XWingInterface):
    # The SDK passes the whole JSON-decoded body as the one argument and JSON-encodes the
    # returned object itself.
    async def fly(self, data: dict[str, Any]) -> dict[str, str]:
        return {"destination": data["destination"]}

    async def count(self) -> int:
        # The stateful scenario, as the SDK documents it: the state manager caches what it
        # read, and the runtime saves the changes as one transaction after the method returns.
        # (typed Optional by the SDK; an absent key takes the default, so never None here)
        count: int = await self._state_manager.get_or_add_state("count", 0)  # type: ignore[assignment]
        await self._state_manager.set_state("count", count + 1)
        return count + 1


# The SDK names an actor type after its class (ActorTypeInformation.create uses __name__) and
# has no option to choose the name, so the class is renamed to serve the same URL as "ours".
XWing.__name__ = "x-wing"


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await actor.register_actor(XWing)
    yield


app = FastAPI(lifespan=lifespan)
actor = DaprActor(app)


@app.get("/bench/live-actors")
async def live_actors() -> dict[str, int]:
    # The SDK's runtime is process-global; its per-type manager keeps active actors in a dict.
    managers = ActorRuntime._actor_managers
    return {"live": len(managers["x-wing"]._active_actors)}
