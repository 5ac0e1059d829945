"""The actors every framework sample hosts: a counter with state, a reminder and a timer.

Each framework module builds its own runtime with ``fleet_runtime()`` and wraps its app with
``runtime.front_door(app)``; ``tests/test_frameworks.py`` runs the same checks against each.
"""

from __future__ import annotations

import logging

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

logger = logging.getLogger("samples.frameworks")


def fleet_runtime() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("counter")
    class Counter(Actor):
        @method
        async def increment(self) -> int:
            count = await self.state.get("count", int, default=0) + 1
            await self.state.set("count", count)
            return count

        @reminder("tick")
        async def tick(self) -> None:
            await self.state.set("ticks", await self.state.get("ticks", int, default=0) + 1)

        @timer("beat")
        async def beat(self) -> None:
            await self.state.set("beats", await self.state.get("beats", int, default=0) + 1)

        async def on_deactivate(self) -> None:
            logger.warning("counter %s deactivated", self.id)

    return runtime
