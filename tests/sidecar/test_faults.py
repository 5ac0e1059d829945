"""The dev sidecar when its app fails: errors in daprd's shape, nothing lost, service resumes."""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.sidecar.store import ReminderRecord, StateStore

from ..helpers import make_app, serve


def ledger_app() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("ledger")
    class Ledger(Actor):
        @method
        async def ping(self) -> str:
            return "pong"

    return runtime


async def test_an_app_that_goes_away_gets_errors_and_comes_back() -> None:
    app = make_app(ledger_app())
    async with contextlib.AsyncExitStack() as stack:
        app_url = await stack.enter_async_context(serve(app))
        port = urlsplit(app_url).port
        assert port is not None
        settings = SidecarSettings(app_url=app_url, state_db=":memory:")
        async with serve(create_app(settings)) as url, aiohttp.ClientSession(url) as http:
            async with http.put("/v1.0/actors/ledger/1/method/ping") as r:
                assert r.status == 200
            entry = [{"operation": "upsert", "request": {"key": "balance", "value": 10}}]
            async with http.post("/v1.0/actors/ledger/1/state", json=entry) as r:
                assert r.status == 204

            await stack.aclose()  # the app stops
            async with http.put("/v1.0/actors/ledger/1/method/ping") as r:
                error = await r.json()
                assert r.status == 500
                assert error["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
                assert app_url in error["message"]
            async with http.get("/v1.0/healthz") as r:
                assert r.status == 204  # the sidecar keeps serving
            async with http.get("/v1.0/actors/ledger/1/state/balance") as r:
                assert await r.json() == 10  # nothing stored was lost

            async with (
                serve(app, port=port),  # the app is back on its port
                http.put("/v1.0/actors/ledger/1/method/ping") as r,
            ):
                assert (r.status, await r.json()) == (200, "pong")


async def test_a_failed_start_answers_actor_calls_at_once_with_the_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A state file whose stored reminder cannot be resumed: the sidecar's start-up fails
    # after the app's config is read. Before, actor calls then waited for ever.
    state_db = tmp_path / "state.db"
    store = StateStore(state_db)
    try:
        store.save_reminder(
            "app", ReminderRecord("ledger", "1", "r", None, "0s", "soon", "", 0, None, None)
        )
    finally:
        store.close()
    async with serve(make_app(ledger_app())) as app_url:
        settings = SidecarSettings(app_url=app_url, app_id="app", state_db=str(state_db))
        promptly = aiohttp.ClientTimeout(total=5)  # before the fix, the call never returned
        async with (
            serve(create_app(settings)) as url,
            aiohttp.ClientSession(url, timeout=promptly) as http,
        ):
            async with http.put("/v1.0/actors/ledger/1/method/ping") as r:
                error = await r.json()
                assert r.status == 500
            async with http.get("/v1.0/healthz") as r:
                assert r.status == 500  # not ready, and never will be
            async with http.get("/v1.0/actors/ledger/1/state/balance") as r:
                assert (r.status, await r.json()) == (500, error)
    assert error["errorCode"] == "ERR_ACTOR_RUNTIME_NOT_FOUND"
    assert "did not start" in error["message"]
    assert "'soon'" in error["message"], error  # the cause, as parse_period names it
    logged = [r for r in caplog.records if "could not start its actor runtime" in r.getMessage()]
    assert len(logged) == 1
