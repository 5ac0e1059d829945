"""A misassembled app is told so before its first call, with the fix: callbacks that arrive
before the runtime's lifespan started (P19), and a router daprd cannot reach (mounted under a
prefix)."""

from __future__ import annotations

import logging

import httpx2 as httpx
import pytest
from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorConfigError, ActorRuntime, method

from ..helpers import error_body, lifespan_running, make_app


class Probe(Actor):
    @method
    async def ping(self) -> str:
        return "pong"


def probe_runtime() -> ActorRuntime:
    runtime = ActorRuntime()
    runtime.actor("probe")(Probe)
    return runtime


async def put(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.put(path)


async def test_a_callback_before_the_lifespan_started_is_refused_naming_the_fix() -> None:
    app = make_app(probe_runtime())  # served without running its lifespan
    refused = await put(app, "/actors/probe/1/method/ping")
    body = error_body(refused)
    assert (refused.status_code, body["errorCode"]) == (500, "ERR_ACTOR_RUNTIME_NOT_STARTED")
    assert "method 'ping' of actor probe/1 did not run" in body["message"]
    assert "FastAPI(lifespan=runtime.lifespan)" in body["message"]
    async with lifespan_running(app):
        assert (await put(app, "/actors/probe/1/method/ping")).json() == "pong"


async def test_a_sub_app_whose_lifespan_never_runs_is_told_about_mounts() -> None:
    # Starlette runs only the outer app's lifespan: the mounted app's runtime never starts.
    outer = FastAPI()
    outer.mount("/fleet", make_app(probe_runtime()))
    async with lifespan_running(outer):
        refused = await put(outer, "/fleet/actors/probe/1/method/ping")
    assert error_body(refused)["errorCode"] == "ERR_ACTOR_RUNTIME_NOT_STARTED"
    assert "mounted with app.mount() never runs its lifespan" in error_body(refused)["message"]


def prefixed_app(runtime: ActorRuntime) -> FastAPI:
    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router, prefix="/internal")
    return app


def sub_mounted_app(runtime: ActorRuntime) -> FastAPI:
    sub = FastAPI()
    sub.include_router(runtime.router)
    app = FastAPI(lifespan=runtime.lifespan)
    app.mount("/fleet", sub)
    return app


@pytest.mark.parametrize(
    ("assemble", "prefix"), [(prefixed_app, "/internal"), (sub_mounted_app, "/fleet")]
)
async def test_a_router_under_a_prefix_stops_the_app_from_starting(
    assemble: object, prefix: str
) -> None:
    runtime = probe_runtime()
    app = assemble(runtime)  # type: ignore[operator]
    expected = rf"served under the prefix '{prefix}'.*include_router\(runtime\.router\) without"
    with pytest.raises(ActorConfigError, match=expected):
        async with lifespan_running(app):
            pass
    # It did not start: its callbacks are refused, not half-served.
    refused = await put(app, f"{prefix}/actors/probe/1/method/ping")
    assert error_body(refused)["errorCode"] == "ERR_ACTOR_RUNTIME_NOT_STARTED"


async def test_a_router_at_the_root_starts_even_when_also_mounted_elsewhere() -> None:
    runtime = probe_runtime()
    app = make_app(runtime)
    app.include_router(runtime.router, prefix="/mirror")
    async with lifespan_running(app):
        assert (await put(app, "/actors/probe/1/method/ping")).json() == "pong"


async def test_an_app_without_the_router_starts_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = probe_runtime()
    app = FastAPI(lifespan=runtime.lifespan)
    with caplog.at_level(logging.WARNING, logger="dapr_actors_fastapi"):
        async with lifespan_running(app):
            pass
    assert "does not serve runtime.router" in caplog.text
