"""The shipped test kit, end to end: an actor app and the dev sidecar in the test's own loop."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.testing import ActorTestEnv, SidecarResponse, actor_env_fixture

deactivated: list[str] = []


class Flight(BaseModel):
    destination: str


def make_fleet() -> FastAPI:
    """The app a user writes: an actor runtime with one actor type."""
    runtime = ActorRuntime()

    @runtime.actor("x-wing")
    class XWing(Actor):
        async def on_activate(self) -> None:
            self.location = "Yavin 4"

        async def on_deactivate(self) -> None:
            deactivated.append(self.id)

        @method
        async def fly(self, flight: Flight) -> dict[str, str]:
            departed, self.location = self.location, flight.destination
            return {"from": departed, "to": self.location}

        @method
        async def sidecar_port(self) -> str | None:
            return os.environ.get("DAPR_HTTP_PORT")

    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router)
    return app


fleet = make_fleet()
# The kit's pytest fixture, as a user's conftest.py would declare it.
fleet_env = actor_env_fixture(fleet, app_id="fleet")


async def test_actor_methods_and_state_through_the_sidecar() -> None:
    async with ActorTestEnv(make_fleet(), app_id="fleet") as env:
        answer = await env.invoke_actor("x-wing", "33", "fly", {"destination": "Hoth"})
        assert (answer.status, answer.json()) == (200, {"from": "Yavin 4", "to": "Hoth"})
        answer = await env.invoke_actor("x-wing", "33", "fly", {"destination": "Dagobah"})
        assert answer.json() == {"from": "Hoth", "to": "Dagobah"}  # same activation

        assert (await env.set_state("x-wing", "33", {"fuel": 80, "crew": ["Luke"]})).status == 204
        fuel = await env.get_state("x-wing", "33", "fuel")
        assert (fuel.status, fuel.json()) == (200, 80)
        assert fuel.headers["Content-Type"] == "application/json"
        assert (await env.get_state("x-wing", "33", "crew")).json() == ["Luke"]
        assert (await env.delete_state("x-wing", "33", "fuel")).status == 204
        missing = await env.get_state("x-wing", "33", "fuel")
        assert (missing.status, missing.json()) == (204, None)

        metadata = await env.get_metadata()
        assert metadata.json()["id"] == "fleet"
        assert await env.active_actors() == {"x-wing": 1}


async def test_errors_come_back_as_the_sidecar_answers_them() -> None:
    async with ActorTestEnv(make_fleet()) as env:
        answer = await env.invoke_actor("x-wing", "1", "dance")
        assert answer.status == 500
        assert answer.json()["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
        # State writes need an active actor, as with daprd.
        refused = await env.set_state("x-wing", "never-called", {"k": 1})
        assert (refused.status, refused.json()["errorCode"]) == (400, "ERR_ACTOR_INSTANCE_MISSING")
        # Ids are quoted into the path, so a '#' reaches the sidecar (which rejects it).
        assert (await env.invoke_actor("x-wing", "a#b", "fly", {})).status == 400


async def test_the_fixture_factory_yields_a_running_env(fleet_env: ActorTestEnv) -> None:
    answer = await fleet_env.invoke_actor("x-wing", "7", "fly", {"destination": "Endor"})
    assert (answer.status, answer.json()) == (200, {"from": "Yavin 4", "to": "Endor"})
    assert (await fleet_env.get_metadata()).json()["id"] == "fleet"


async def test_each_fixture_use_starts_from_fresh_actors(fleet_env: ActorTestEnv) -> None:
    # The previous test moved x-wing 7; its lifespan shutdown deactivated it.
    assert "7" in deactivated
    answer = await fleet_env.invoke_actor("x-wing", "7", "fly", {"destination": "Hoth"})
    assert answer.json() == {"from": "Yavin 4", "to": "Hoth"}


async def test_exit_runs_the_app_lifespan_shutdown_and_frees_the_ports() -> None:
    deactivated.clear()
    async with ActorTestEnv(make_fleet()) as env:
        await env.invoke_actor("x-wing", "leaving", "fly", {"destination": "Hoth"})
        urls = [env.app_url, env.sidecar_url]
    assert deactivated == ["leaving"]
    for url in urls:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass


async def test_app_and_sidecar_urls_answer_directly() -> None:
    async with ActorTestEnv(make_fleet()) as env, aiohttp.ClientSession() as http:
        async with http.get(f"{env.app_url}/dapr/config") as r:
            assert (await r.json())["entities"] == ["x-wing"]
        async with http.get(f"{env.sidecar_url}/v1.0/healthz") as r:
            assert r.status == 204


async def test_state_in_a_file_survives_the_env(tmp_path: Path) -> None:
    state_db = str(tmp_path / "state.db")
    async with ActorTestEnv(make_fleet(), state_db=state_db) as env:
        await env.invoke_actor("x-wing", "33", "fly", {"destination": "Hoth"})
        assert (await env.set_state("x-wing", "33", {"fuel": 55})).status == 204
    async with ActorTestEnv(make_fleet(), state_db=state_db) as env:
        assert (await env.get_state("x-wing", "33", "fuel")).json() == 55


async def test_the_app_finds_its_sidecar_in_the_environment() -> None:
    before = os.environ.get("DAPR_HTTP_PORT")
    async with ActorTestEnv(make_fleet()) as env:
        answer = await env.invoke_actor("x-wing", "1", "sidecar_port")
        assert answer.json() == env.sidecar_url.rsplit(":", 1)[1]
    assert os.environ.get("DAPR_HTTP_PORT") == before  # restored


async def test_the_api_token_is_sent_for_you() -> None:
    async with ActorTestEnv(make_fleet(), api_token="secret") as env:
        assert (await env.invoke_actor("x-wing", "1", "fly", {"destination": "Hoth"})).status == 200
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{env.sidecar_url}/v1.0/metadata") as r,
        ):
            assert r.status == 401  # without the token


async def test_a_failing_app_startup_is_reported_and_nothing_keeps_running() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise RuntimeError("database is down")
        yield

    env = ActorTestEnv(FastAPI(lifespan=broken))
    with pytest.raises(RuntimeError, match="the app failed to start"):
        async with env:
            pass
    with pytest.raises(RuntimeError, match="not running"):
        _ = env.sidecar_url


async def test_using_an_env_that_is_not_running_says_how() -> None:
    env = ActorTestEnv(make_fleet())
    with pytest.raises(RuntimeError, match="async with ActorTestEnv"):
        await env.invoke_actor("x-wing", "1", "fly")


def test_responses_decode_json_and_empty_bodies() -> None:
    assert SidecarResponse(status=200, headers={}, body=b'{"a": 1}').json() == {"a": 1}
    assert SidecarResponse(status=204, headers={}, body=b"").json() is None
    assert SidecarResponse(status=200, headers={}, body=b"hi").text == "hi"


def test_the_kit_imports_without_pytest() -> None:
    code = "import sys; sys.modules['pytest'] = None; import dapr_actors_fastapi.testing"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
