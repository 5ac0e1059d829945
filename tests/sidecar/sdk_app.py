"""An app written with the official ``dapr-ext-fastapi``, as its docs write one, for the CLI tests.

Its startup (``register_actor``) blocks until the sidecar's ``/v1.0/healthz/outbound`` answers,
reading the sidecar's port from ``DAPR_HTTP_PORT`` as under ``dapr run``: served with
``dapr-actors run tests.sidecar.sdk_app:app``, or with uvicorn behind ``dapr-actors sidecar``.
"""

import contextlib
import warnings
from collections.abc import AsyncIterator

from fastapi import FastAPI

with warnings.catch_warnings():
    # dapr 1.19 warns that dapr-ext-fastapi now ships inside the core wheel (see test_interop).
    warnings.filterwarnings("ignore", "Legacy Dapr extension", FutureWarning)
    from dapr.actor import Actor, ActorInterface, actormethod
    from dapr.ext.fastapi import DaprActor


class CounterInterface(ActorInterface):
    @actormethod(name="Add")
    async def add(self, amount: int) -> int: ...


class SdkCounter(Actor, CounterInterface):
    async def add(self, amount: int) -> int:
        total: int = await self._state_manager.get_or_add_state("total", 0) + amount
        await self._state_manager.set_state("total", total)
        await self._state_manager.save_state()
        return total


@contextlib.asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await actors.register_actor(SdkCounter)  # blocks until the sidecar's healthz/outbound answers
    yield


app = FastAPI(lifespan=lifespan)
actors = DaprActor(app)
