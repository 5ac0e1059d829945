"""Idle deactivation in the dev sidecar (docs/protocol.md P9), through a real sidecar in front of
a recording app on loopback: an actor goes once its idle timeout has passed since its last
call, not before, and every actor that goes is told so exactly once.

The sidecar keeps each type's actors in idle-deadline order and sleeps until the earliest
deadline; these tests hold it to what a fixed scan of the whole table did: an actor in use
outlives the actors activated with it, a type with a short idle timeout is not held up behind
one with a long timeout, and a table that emptied still deactivates the next actor.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
from fastapi import FastAPI, Response

from ..helpers import poll_until
from .test_scheduler import sidecar_for

QUICK_IDLE = 1.0  # seconds: long enough that a test's calls every 0.1 s keep an actor in use
# The app sees a call a little after the sidecar restarted the actor's idle timeout, and the
# deactivation a little after the sidecar sent it: idle times are compared with this slack.
SLACK = 0.05


class IdleRecorder:
    """An actor app with a ``quick`` type (1 s idle timeout) and a ``slow`` one (an hour):
    records when each actor was last called and when it was deactivated."""

    def __init__(self) -> None:
        self.last_called: dict[str, float] = {}
        self.deactivated_at: dict[str, float] = {}
        self.deactivations: Counter[str] = Counter()
        self.release = asyncio.Event()  # a call to quick/long answers once it is set
        self.app = FastAPI()
        self.app.add_api_route("/dapr/config", self.config, methods=["GET"])
        self.app.add_api_route(
            "/actors/{actor_type}/{actor_id}/method/{name}", self.method, methods=["PUT"]
        )
        self.app.add_api_route(
            "/actors/{actor_type}/{actor_id}", self.deactivate, methods=["DELETE"]
        )

    async def config(self) -> dict[str, Any]:
        return {
            "entities": ["quick", "slow"],
            "actorScanInterval": "50ms",
            "entitiesConfig": [
                {"entities": ["quick"], "actorIdleTimeout": f"{QUICK_IDLE * 1000:.0f}ms"},
                {"entities": ["slow"], "actorIdleTimeout": "1h"},
            ],
        }

    async def method(self, actor_type: str, actor_id: str) -> Response:
        self.last_called[f"{actor_type}/{actor_id}"] = asyncio.get_running_loop().time()
        if actor_id == "long":
            await asyncio.wait_for(self.release.wait(), 10)
        return Response(status_code=200)

    async def deactivate(self, actor_type: str, actor_id: str) -> Response:
        key = f"{actor_type}/{actor_id}"
        self.deactivated_at[key] = asyncio.get_running_loop().time()
        self.deactivations[key] += 1
        return Response(status_code=200)

    def gone(self, *keys: str) -> bool:
        return all(key in self.deactivated_at for key in keys)

    def idle_for(self, key: str) -> float:
        """Seconds between the actor's last call and its deactivation."""
        return self.deactivated_at[key] - self.last_called[key]


async def call(http: aiohttp.ClientSession, key: str) -> None:
    async with http.put(f"/v1.0/actors/{key}/method/ping") as response:
        assert response.status == 200, await response.text()


async def test_an_actor_in_use_outlives_the_actors_activated_with_it() -> None:
    recorder = IdleRecorder()
    others = [f"quick/{n}" for n in range(1, 20)]
    async with sidecar_for(recorder.app) as http:
        await call(http, "quick/0")
        for key in others:
            await call(http, key)
        # Calls every 0.1 s keep quick/0 in use (its idle timeout is 1 s) while the others,
        # activated with it, reach their deadlines.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not recorder.gone(*others):
            assert loop.time() < deadline, "the others were not deactivated within 10 s"
            assert not recorder.gone("quick/0"), "quick/0 was deactivated while in use"
            await call(http, "quick/0")
            await asyncio.sleep(0.1)  # the pace of quick/0's use, not a wait for the others
        await poll_until(lambda: recorder.gone("quick/0"), what="quick/0 to be deactivated")
    assert recorder.deactivations == Counter({key: 1 for key in ["quick/0", *others]})
    assert all(recorder.idle_for(key) >= QUICK_IDLE - SLACK for key in recorder.deactivated_at)


async def test_an_actor_in_a_turn_at_its_deadline_is_deactivated_once_the_turn_ends() -> None:
    recorder = IdleRecorder()
    async with sidecar_for(recorder.app) as http:
        turn = asyncio.create_task(call(http, "quick/long"))
        await poll_until(lambda: "quick/long" in recorder.last_called, what="the long turn")
        await call(http, "quick/marker")  # its deadline comes after quick/long's
        await poll_until(lambda: recorder.gone("quick/marker"), what="quick/marker to go")
        assert not recorder.gone("quick/long"), "deactivated in the middle of its turn"
        recorder.release.set()
        await turn
        await poll_until(lambda: recorder.gone("quick/long"), what="quick/long to go")
    assert recorder.deactivations == Counter({"quick/long": 1, "quick/marker": 1})


async def test_a_short_idle_timeout_is_not_held_up_behind_a_long_one() -> None:
    recorder = IdleRecorder()
    async with sidecar_for(recorder.app) as http:
        await call(http, "slow/1")  # due in an hour: the next scan is planned for then
        await call(http, "quick/1")
        await poll_until(lambda: recorder.gone("quick/1"), what="quick/1 to be deactivated")
    assert recorder.idle_for("quick/1") >= QUICK_IDLE - SLACK
    assert not recorder.gone("slow/1")


async def test_an_actor_activated_after_the_table_emptied_is_deactivated() -> None:
    recorder = IdleRecorder()
    async with sidecar_for(recorder.app) as http:
        await call(http, "quick/first")
        await poll_until(lambda: recorder.gone("quick/first"), what="the first to go")
        # Nothing is active now, and the sidecar sleeps until an activation wakes it.
        await call(http, "quick/second")
        await poll_until(lambda: recorder.gone("quick/second"), what="the second to go")
    assert recorder.deactivations == Counter({"quick/first": 1, "quick/second": 1})
    assert recorder.idle_for("quick/second") >= QUICK_IDLE - SLACK
