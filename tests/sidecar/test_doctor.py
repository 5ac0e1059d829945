"""``dapr-actors doctor``: a healthy app and sidecar pass every check; each mistake that
leaves actors unhosted fails its own check, with the fix, and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from fastapi import Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import PlainTextResponse

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.sidecar.doctor import Finding, diagnose

from ..helpers import answer_lifespan, free_port, make_app, serve


def fleet(**settings: Any) -> ActorRuntime:
    runtime = ActorRuntime(**settings)

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self) -> str:
            return "flying"

    return runtime


@contextlib.asynccontextmanager
async def app_and_sidecar(app: Any, app_token: str | None = None) -> AsyncIterator[tuple[str, str]]:
    """``app`` on a loopback port with the dev sidecar in front of it, once the sidecar has
    read the app's config; yields both URLs."""
    port = free_port()
    settings = SidecarSettings(
        app_url=f"http://127.0.0.1:{port}", state_db=":memory:", app_api_token=app_token
    )
    async with (
        serve(create_app(settings)) as sidecar_url,
        serve(app, port=port) as app_url,
        aiohttp.ClientSession(sidecar_url) as http,
    ):
        deadline = time.monotonic() + 10
        while True:  # a poll with a deadline: the sidecar reads the config when the app is up
            async with http.get("/v1.0/healthz") as response:
                if response.status == 204:
                    break
            assert time.monotonic() < deadline, "the sidecar never read the app's config"
            await asyncio.sleep(0.02)
        yield app_url, sidecar_url


async def run_doctor(app_url: str, sidecar_url: str, **tokens: str) -> dict[str, Finding]:
    findings = await asyncio.to_thread(diagnose, app_url, sidecar_url, **tokens)
    for finding in findings:
        print(finding.line())
    return {finding.check: finding for finding in findings}


def failed(findings: dict[str, Finding]) -> list[str]:
    return [check for check, finding in findings.items() if not finding.ok]


async def test_a_healthy_app_and_sidecar_pass_every_check() -> None:
    async with app_and_sidecar(make_app(fleet())) as (app_url, sidecar_url):
        findings = await run_doctor(app_url, sidecar_url)
    assert failed(findings) == []
    assert list(findings) == [
        "app healthy",
        "/dapr/config not compressed",
        "/dapr/config valid",
        "one process behind the port",
        "sidecar reachable",
        "actor state store",
        "types hosted by the sidecar",
    ]
    assert findings["types hosted by the sidecar"].detail == "x-wing"


async def test_middleware_that_refuses_daprd_is_named_with_the_front_door_as_fix() -> None:
    app = make_app(fleet())

    @app.middleware("http")
    async def require_login(request: Request, call_next: Any) -> Response:
        return PlainTextResponse("log in first", status_code=403)

    async with app_and_sidecar(app) as (app_url, sidecar_url):
        findings = await run_doctor(app_url, sidecar_url)
    assert "/dapr/config" in failed(findings)
    assert "403" in findings["/dapr/config"].detail
    assert "runtime.front_door(app)" in findings["/dapr/config"].fix


async def test_compression_of_daprds_answers_is_named() -> None:
    app = make_app(fleet())
    app.add_middleware(GZipMiddleware, minimum_size=1)
    async with app_and_sidecar(app) as (app_url, sidecar_url):
        findings = await run_doctor(app_url, sidecar_url)
    assert failed(findings) == ["/dapr/config not compressed"]


async def test_an_app_token_is_asked_for_and_then_checked() -> None:
    app = make_app(fleet(app_api_token="s3cret"))
    async with app_and_sidecar(app, app_token="s3cret") as urls:
        without = await run_doctor(*urls)
        with_token = await run_doctor(*urls, app_token="s3cret")
    assert "APP_API_TOKEN" in without["/dapr/config"].fix
    assert failed(with_token) == []
    assert with_token["app token enforced"].ok


async def test_a_config_daprd_cannot_parse_is_named_field_by_field() -> None:
    async def broken_config(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        document = {"entities": ["x-wing"], "actorIdleTimeout": "1 hour"}
        body = b"" if scope["path"] == "/healthz" else json.dumps(document).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async with app_and_sidecar(broken_config) as (app_url, sidecar_url):
        findings = await run_doctor(app_url, sidecar_url)
    assert failed(findings) == ["/dapr/config valid"]
    assert "actorIdleTimeout is '1 hour'" in findings["/dapr/config valid"].detail


async def test_nothing_listening_is_named_with_how_to_start_it() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    findings = await run_doctor(nowhere, nowhere)
    assert failed(findings) == ["app reachable", "sidecar reachable"]
    assert "--sidecar-url" in findings["sidecar reachable"].fix


async def test_a_sidecar_without_an_actor_state_store_is_named() -> None:
    async def bare_sidecar(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        body = json.dumps({"components": [], "actorRuntime": {"runtimeStatus": "RUNNING"}})
        status = 204 if scope["path"].endswith("/healthz/outbound") else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"" if status == 204 else body.encode()})

    async with serve(make_app(fleet())) as app_url, serve(bare_sidecar) as sidecar_url:
        findings = await run_doctor(app_url, sidecar_url)
    assert failed(findings) == ["actor state store", "types hosted by the sidecar"]
    assert 'actorStateStore: "true"' in findings["actor state store"].fix


async def test_the_command_prints_a_line_per_check_and_exits_1_on_a_problem() -> None:
    async with app_and_sidecar(make_app(fleet())) as (app_url, sidecar_url):
        nowhere = f"http://127.0.0.1:{free_port()}"
        healthy, broken = await asyncio.gather(
            asyncio.to_thread(doctor_command, app_url, sidecar_url),
            asyncio.to_thread(doctor_command, nowhere, sidecar_url),
        )
    assert healthy.returncode == 0, healthy.stdout
    assert all(line.startswith("ok ") for line in healthy.stdout.splitlines())
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[0].startswith("FAIL app reachable: nothing answers at")
    assert urlsplit(app_url).port is not None


def doctor_command(app_url: str, sidecar_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dapr_actors_fastapi", "doctor", "--app-url", app_url,
         "--sidecar-url", sidecar_url],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
