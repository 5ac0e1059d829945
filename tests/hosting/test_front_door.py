"""``runtime.front_door(app)``: daprd's routes answered before the app, everything else
passed through, and the runtime's lifespan nested inside the app's (or alone, for an app that
has none). ``tests/test_frameworks.py`` runs it with real frameworks and the dev sidecar."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from dapr_actors_fastapi import Actor, ActorFrontDoor, ActorRuntime, method


class LifespanDriver:
    """Drives an ASGI app's lifespan as a server does, keeping every message it answers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.answers: list[dict[str, Any]] = []
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answered = asyncio.Event()

    async def _send(self, message: dict[str, Any]) -> None:
        self.answers.append(message)
        self._answered.set()

    async def exchange(self, message_type: str) -> str:
        self._answered.clear()
        await self._to_app.put({"type": message_type})
        await asyncio.wait_for(self._answered.wait(), timeout=10)
        return str(self.answers[-1]["type"])

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LifespanDriver]:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        task = asyncio.create_task(self.app(scope, self._to_app.get, self._send))
        try:
            yield self
        finally:
            await asyncio.wait_for(task, timeout=10)


def fleet(events: list[str]) -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self) -> str:
            return "flying"

        async def on_deactivate(self) -> None:
            events.append(f"deactivated {self.id}")

    return runtime


def starlette_app(events: list[str]) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("app up")
        yield
        events.append("app down")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/hello", hello)], lifespan=lifespan)


@contextlib.asynccontextmanager
async def started(door: ActorFrontDoor) -> AsyncIterator[None]:
    """The front door's lifespan started and, after the block, shut down, as a server does."""
    async with LifespanDriver(door).running() as server:
        assert await server.exchange("lifespan.startup") == "lifespan.startup.complete"
        yield
        assert await server.exchange("lifespan.shutdown") == "lifespan.shutdown.complete"


def client(app: ActorFrontDoor, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://app", headers=headers
    )


async def test_daprds_routes_are_answered_and_the_rest_reaches_the_app() -> None:
    door = fleet([]).front_door(starlette_app([]))
    async with started(door), client(door) as http:
        assert (await http.get("/dapr/config")).json()["entities"] == ["x-wing"]
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.put("/actors/x-wing/1/method/fly")).json() == "flying"
        assert (await http.delete("/actors/x-wing/1")).status_code == 200
        assert (await http.get("/hello")).text == "hello"
        # Not daprd's verb, or not daprd's path: the app answers (here, with 404 and 405).
        assert (await http.get("/actors/x-wing/1/method/fly")).status_code == 404
        assert (await http.get("/actors")).status_code == 404
        assert (await http.post("/healthz")).status_code == 404


async def test_the_runtime_lifespan_runs_inside_the_apps() -> None:
    events: list[str] = []
    door = fleet(events).front_door(starlette_app(events))
    async with LifespanDriver(door).running() as server:
        assert await server.exchange("lifespan.startup") == "lifespan.startup.complete"
        async with client(door) as http:
            assert (await http.put("/actors/x-wing/7/method/fly")).status_code == 200
        assert await server.exchange("lifespan.shutdown") == "lifespan.shutdown.complete"
    # The actors leave while what the app's lifespan opened is still there.
    assert events == ["app up", "deactivated 7", "app down"]


async def test_an_app_without_a_lifespan_is_served_with_the_runtimes_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def no_lifespan(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # as Django answers a lifespan scope
            raise ValueError(f"this app can only handle HTTP, not {scope['type']}")
        await PlainTextResponse("plain")(scope, receive, send)

    caplog.set_level(logging.INFO, logger="dapr_actors_fastapi")
    events: list[str] = []
    door = fleet(events).front_door(no_lifespan)
    async with LifespanDriver(door).running() as server:
        assert await server.exchange("lifespan.startup") == "lifespan.startup.complete"
        async with client(door) as http:
            assert (await http.put("/actors/x-wing/1/method/fly")).status_code == 200
            assert (await http.get("/anything")).text == "plain"
        assert await server.exchange("lifespan.shutdown") == "lifespan.shutdown.complete"
    assert events == ["deactivated 1"]
    assert "does not speak the ASGI lifespan protocol (this app can only handle HTTP" in caplog.text


async def test_an_app_whose_startup_fails_fails_the_startup_and_starts_no_runtime() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("the database is down")
        yield

    door = fleet([]).front_door(Starlette(lifespan=broken))
    async with LifespanDriver(door).running() as server:
        assert await server.exchange("lifespan.startup") == "lifespan.startup.failed"
    assert "the database is down" in server.answers[-1]["message"]


async def test_a_runtime_that_refuses_to_start_stops_the_app_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")  # several workers: the runtime refuses
    events: list[str] = []
    door = fleet(events).front_door(starlette_app(events))
    async with LifespanDriver(door).running() as server:
        assert await server.exchange("lifespan.startup") == "lifespan.startup.failed"
    assert "WEB_CONCURRENCY" in server.answers[-1]["message"]
    assert events == ["app up", "app down"]


async def test_the_app_token_guards_daprds_routes_at_the_front_door(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_API_TOKEN", "s3cret")
    door = fleet([]).front_door(starlette_app([]))
    async with (
        started(door),
        client(door) as anonymous,
        client(door, **{"dapr-api-token": "s3cret"}) as daprd,
    ):
        assert (await anonymous.get("/dapr/config")).status_code == 401
        assert (await anonymous.put("/actors/x-wing/1/method/fly")).status_code == 401
        assert (await daprd.put("/actors/x-wing/1/method/fly")).status_code == 200
        assert (
            await anonymous.get("/hello")
        ).text == "hello"  # the app's own routes: its own rules


async def test_an_app_that_also_includes_the_router_documents_the_methods_behind_the_door() -> None:
    runtime = fleet([])
    app = FastAPI()
    app.include_router(runtime.router)  # for /docs only: the front door answers the calls
    door = runtime.front_door(app)
    async with started(door), client(door) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
        assert "/v1.0/actors/x-wing/{actor_id}/method/fly" in paths
        assert (await http.put("/actors/x-wing/1/method/fly")).json() == "flying"


async def test_daprds_routes_are_found_under_the_servers_root_path() -> None:
    # uvicorn --root-path /api puts the root path in front of the path daprd called, and
    # Starlette's router takes it off again: the front door matches the same way.
    door = fleet([]).front_door(starlette_app([]))
    transport = httpx.ASGITransport(app=door, root_path="/api")
    async with (
        started(door),
        httpx.AsyncClient(transport=transport, base_url="http://app") as http,
    ):
        assert (await http.get("/api/dapr/config")).json()["entities"] == ["x-wing"]
        assert (await http.put("/api/actors/x-wing/1/method/fly")).json() == "flying"
        assert (await http.delete("/api/actors/x-wing/1")).status_code == 200
        assert (await http.head("/api/healthz")).status_code == 200  # HEAD wherever GET
        assert (await http.get("/api/hello")).text == "hello"
