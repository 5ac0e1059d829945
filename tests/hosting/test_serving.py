"""Shutdown over the app's routes, the lifespan driven by hand (P17): once the drain begins,
new callbacks get 503 ``ERR_ACTOR_RUNTIME_CLOSED`` and ``/healthz`` 503, while the turns in
flight, and their reentrant calls, finish and every active actor deactivates."""

from __future__ import annotations

import asyncio

import httpx2 as httpx

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

from ..helpers import Mount, error_body, poll_until, within

CHAIN = {"Dapr-Reentrancy-Id": "chain-1"}


async def test_a_draining_app_refuses_new_turns_and_finishes_the_ones_in_flight(
    mount: Mount,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    journal: list[str] = []

    class Freighter(Actor):
        async def on_deactivate(self) -> None:
            journal.append(f"deactivate {self.id}")

        @method
        async def load(self) -> str:
            started.set()
            await release.wait()
            journal.append(f"loaded {self.id}")
            return "loaded"

        @method
        async def manifest(self) -> str:
            return "cargo"

        @reminder
        async def any_reminder(self) -> None:
            journal.append("reminder ran")

    runtime = ActorRuntime(reentrancy=True, drain_timeout="10s")
    runtime.actor(Freighter)
    app = mount(runtime)
    lifespan = runtime.lifespan(app)
    await lifespan.__aenter__()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert (await client.put("/actors/Freighter/idle/method/manifest")).status_code == 200
        in_flight = asyncio.create_task(
            client.put("/actors/Freighter/busy/method/load", headers=CHAIN)
        )
        await within(started.wait())
        shutdown = asyncio.create_task(lifespan.__aexit__(None, None, None))
        await poll_until(lambda: "deactivate idle" in journal, what="the drain to begin")

        health = await client.get("/healthz")
        assert health.status_code == 503
        for target in ("Freighter/new/method/manifest", "Freighter/busy/method/manifest"):
            refused = await client.put(f"/actors/{target}")
            assert refused.status_code == 503
            body = error_body(refused)
            assert body["errorCode"] == "ERR_ACTOR_RUNTIME_CLOSED"
            assert "shutting down" in body["message"]
            assert "retry" in body["message"]
        reminder_fire = await client.put("/actors/Freighter/busy/method/remind/r", json={})
        assert reminder_fire.status_code == 503  # daprd delivers it again (§4.2)
        # A reentrant call of the chain holding the turn is part of a turn in flight.
        nested = await client.put("/actors/Freighter/busy/method/manifest", headers=CHAIN)
        assert (nested.status_code, nested.json()) == (200, "cargo")

        assert not shutdown.done()
        release.set()
        answer = await within(in_flight)
        assert (answer.status_code, answer.json()) == (200, "loaded")
        await within(shutdown)
    assert journal == ["deactivate idle", "loaded busy", "deactivate busy"]
    assert runtime.active_actors("Freighter") == []


async def test_the_runtime_serves_again_after_a_shutdown(mount: Mount) -> None:
    class Droid(Actor):
        @method
        async def beep(self) -> str:
            return "beep"

    runtime = ActorRuntime()
    runtime.actor(Droid)
    app = mount(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        for _ in range(2):
            async with runtime.lifespan(app):
                assert (await client.get("/healthz")).status_code == 200
                assert (await client.put("/actors/Droid/1/method/beep")).json() == "beep"
