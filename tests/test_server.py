"""A real uvicorn server on a loopback port: the app as daprd sees it, and its shutdown."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

from .helpers import make_app, poll_until, serve, within


def counter_actor(log: list[str]) -> type[Actor]:
    class Counter(Actor):
        async def on_activate(self) -> None:
            self.count = 0
            log.append(f"activate {self.id}")

        async def on_deactivate(self) -> None:
            log.append(f"deactivate {self.id}")

        @method
        async def increment(self, by: int = 1) -> int:
            self.count += by
            return self.count

    return Counter


async def test_daprd_view_over_real_http() -> None:
    log: list[str] = []
    runtime = ActorRuntime(reentrancy=True)
    runtime.actor("counter", idle_timeout="5m")(counter_actor(log))
    async with serve(make_app(runtime)) as url, aiohttp.ClientSession(url) as http:
        async with http.get("/healthz") as health:
            assert health.status == 200
        async with http.get("/dapr/config") as config:
            assert (await config.json())["entitiesConfig"][0]["actorIdleTimeout"] == "5m0s"
        # daprd always PUTs; without a Content-Type when the caller used gRPC.
        for expected in (1, 2, 3):
            async with http.put("/actors/counter/c1/method/increment", data=b"") as call:
                assert call.status == 200
                assert await call.json() == expected
        async with http.put("/actors/counter/c1/method/increment", json={"by": 10}) as call:
            assert await call.json() == 13
        async with http.delete("/actors/counter/c1") as deactivate:
            assert deactivate.status == 200
        async with http.put("/actors/counter/c1/method/increment") as call:
            assert await call.json() == 1  # a fresh instance after deactivation
        concurrent = [http.put(f"/actors/counter/{n}/method/increment") for n in range(50)]
        statuses = []
        for response in await asyncio.gather(*concurrent):
            statuses.append(response.status)
            response.release()
        assert statuses == [200] * 50
    # Shutting the server down deactivated every live actor, hooks included.
    assert log.count("deactivate c1") == 2
    assert all(f"deactivate {n}" in log for n in range(50))


async def test_shutdown_gives_up_on_stuck_actors_after_the_drain_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stuck = asyncio.Event()

    class Stuck(Actor):
        async def on_deactivate(self) -> None:
            stuck.set()
            await asyncio.Event().wait()  # never returns

        @method
        async def touch(self) -> None:
            pass

    runtime = ActorRuntime(drain_timeout="100ms")
    runtime.actor(Stuck)
    app = make_app(runtime)
    caplog.set_level(logging.WARNING, logger="dapr_actors_fastapi")
    async with (
        serve(app) as url,
        aiohttp.ClientSession(url) as http,
        http.put("/actors/Stuck/1/method/touch") as response,
    ):
        assert response.status == 200
    assert stuck.is_set()
    assert "did not deactivate within drain_timeout=0.1s" in caplog.text


async def test_deactivate_all_can_be_called_while_serving() -> None:
    log: list[str] = []
    runtime = ActorRuntime()
    runtime.actor("counter")(counter_actor(log))
    app = make_app(runtime)
    async with serve(app) as url, aiohttp.ClientSession(url) as http:
        async with http.put("/actors/counter/x/method/increment") as response:
            assert response.status == 200
        await within(runtime.deactivate_all())
        await poll_until(lambda: "deactivate x" in log, what="deactivation")
        async with http.put("/actors/counter/x/method/increment") as response:
            assert await response.json() == 1


async def test_deactivate_all_drops_actors_without_a_deactivation_hook() -> None:
    activations: list[str] = []

    class NoHook(Actor):
        async def on_activate(self) -> None:
            activations.append(self.id)

        @method
        async def touch(self) -> None:
            pass

    runtime = ActorRuntime()
    runtime.actor(NoHook)
    async with serve(make_app(runtime)) as url, aiohttp.ClientSession(url) as http:
        for actor_id in ("a", "b", "a"):
            async with http.put(f"/actors/NoHook/{actor_id}/method/touch") as response:
                assert response.status == 200
        await within(runtime.deactivate_all())
        async with http.put("/actors/NoHook/a/method/touch") as response:
            assert response.status == 200
    assert activations == ["a", "b", "a"]


async def test_a_failed_turn_logs_one_concise_traceback(caplog: pytest.LogCaptureFixture) -> None:
    class Faulty(Actor):
        async def on_activate(self) -> None:
            if self.id == "broken":
                raise KeyError("no hyperdrive")

        @method
        async def jump(self) -> None:
            raise ValueError("hyperdrive offline")

        @reminder
        async def any_reminder(self) -> None:
            raise ValueError("reminder misfired")

    runtime = ActorRuntime()
    runtime.actor(Faulty)
    uvicorn_errors = logging.getLogger("uvicorn.error")  # does not propagate to the root
    uvicorn_errors.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        async with serve(make_app(runtime)) as url, aiohttp.ClientSession(url) as http:
            for target, raised, where in [
                ("Faulty/1/method/jump", "ValueError: hyperdrive offline", "in jump"),
                ("Faulty/broken/method/jump", "KeyError: 'no hyperdrive'", "in on_activate"),
                ("Faulty/1/method/remind/r", "ValueError: reminder misfired", "in any_reminder"),
            ]:
                caplog.clear()
                async with http.put(f"/actors/{target}") as response:
                    assert response.status == 500
                errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
                assert len(errors) == 1, [record.getMessage() for record in errors]
                (record,) = errors
                assert record.name == "dapr_actors_fastapi._hosting.endpoints"
                text = caplog.text
                assert text.count("Traceback (most recent call last)") == 1, text
                assert text.count(raised) == 1, text
                assert where in text
                assert "direct cause" not in text
                assert "During handling" not in text
    finally:
        uvicorn_errors.removeHandler(caplog.handler)
