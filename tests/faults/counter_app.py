"""Counter actors for the concurrency and shutdown fault tests, served by ``dapr-actors run``
in a subprocess: ``tests.faults.counter_app:app`` (reentrancy off) and
``tests.faults.counter_app:reentrant_app`` (reentrancy on).

Every method that counts reads ``count``, adds one and writes it back: a lost update, a turn
run twice or a save that never reached the sidecar shows as a stored count that differs from
the number of calls acknowledged with 200.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method

# Long enough that a stream of calls always has some of these in flight when SIGTERM comes.
SLOW_SECONDS = 0.2


def counter_app(*, reentrancy: bool) -> FastAPI:
    """An app hosting ``counter`` and ``relay``; classes of its own, so the two apps of this
    module share nothing."""
    runtime = ActorRuntime(reentrancy=reentrancy)

    async def add_one(actor: Actor) -> int:
        count = await actor.state.get("count", int, default=0) + 1
        await actor.state.set("count", count)
        return count

    @runtime.actor("counter")
    class Counter(Actor):
        @method
        async def increment(self) -> int:
            return await add_one(self)

        @method
        async def slow_increment(self) -> int:
            await asyncio.sleep(SLOW_SECONDS)
            return await add_one(self)

        @method
        async def pause(self) -> str:
            """A slow turn that needs no sidecar, for the app served alone."""
            await asyncio.sleep(SLOW_SECONDS)
            return "done"

        @method
        async def chain(self, relay: str) -> int:
            """counter -> relay -> back into this counter, one reentrant chain: +2 here, +1
            on the relay, all saved when this turn returns."""
            count = await add_one(self)
            await Relay.proxy(relay).bounce(counter=self.id)
            return count

    @runtime.actor("relay")
    class Relay(Actor):
        @method
        async def bounce(self, counter: str) -> int:
            await add_one(self)
            return await Counter.proxy(counter).increment()

    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router)
    return app


app = counter_app(reentrancy=False)
reentrant_app = counter_app(reentrancy=True)
