"""The samples' docstrings run as written: ``dapr-actors run`` starts each sample with the dev
sidecar, and each curl command answers what the line after it (``# ...``) shows."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx2 as httpx
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.testing import ActorTestEnv

from .helpers import asgi_client, dapr_actors_run, free_port, lifespan_running, serve

ROOT = Path(__file__).resolve().parents[1]


def readme_blocks(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", readme, flags=re.DOTALL)


@dataclass(frozen=True)
class Example:
    command: str
    shown: str | None  # the JSON the docstring shows, if any


def docstring_lines(module: str) -> list[str]:
    doc = importlib.import_module(module).__doc__ or ""
    return [line[4:] for line in doc.splitlines() if line.startswith("    ")]


def run_line(module: str) -> list[str]:
    (line,) = [line for line in docstring_lines(module) if line.startswith("dapr-actors run")]
    return line.split()[2:]


def examples(module: str) -> list[Example]:
    found: list[Example] = []
    command: list[str] = []
    for line in docstring_lines(module):
        if command:
            command.append(line.strip())
        elif line.startswith("curl"):
            command = [line]
        elif line.startswith("# ") and found:
            found[-1] = Example(found[-1].command, line.removeprefix("# "))
            continue
        else:
            continue
        if not line.endswith("\\"):
            found.append(Example(" ".join(part.rstrip("\\") for part in command), None))
            command = []
    return found


def running(module: str) -> AbstractContextManager[tuple[int, int]]:
    """The sample's ``dapr-actors run`` line, on free ports; yields (app port, sidecar port)."""
    return dapr_actors_run(*run_line(module))


def curl(command: str, sidecar_port: int) -> str:
    script = command.replace("localhost:3500", f"127.0.0.1:{sidecar_port}")
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=20, check=True
    )
    return result.stdout


def poll(probe: Callable[[], object], expected: object, *, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while (value := probe()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: last {value!r}")
        time.sleep(0.05)


@pytest.mark.parametrize("module", ["samples.reentrancy", "samples.countdown"])
def test_every_sample_documents_a_run_line_and_curl_examples(module: str) -> None:
    assert run_line(module)[0] == f"{module}:app"
    assert examples(module)


def test_reentrancy_sample_runs_a_to_b_to_a_and_saves_the_chains_state() -> None:
    module = "samples.reentrancy"
    with running(module) as (_, sidecar_port):
        for example in examples(module):
            assert example.shown is not None, example.command
            assert json.loads(curl(example.command, sidecar_port)) == json.loads(example.shown)


def test_countdown_sample_ticks_down_and_cancels_its_reminder() -> None:
    module = "samples.countdown"
    start, remaining = examples(module)
    with running(module) as (_, sidecar_port):
        assert curl(start.command, sidecar_port) == ""
        poll(
            lambda: json.loads(curl(remaining.command, sidecar_port)),
            0,
            what="three ticks of the countdown",
        )
        reminder = (
            "curl -s -o /dev/null -w '%{http_code}' "
            "http://localhost:3500/v1.0/actors/countdown/launch/reminders/tick"
        )
        poll(lambda: curl(reminder, sidecar_port), "404", what="the reminder to be deleted")
        assert json.loads(curl(remaining.command, sidecar_port)) == 0


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_json_logs_sample_writes_one_object_per_record_with_the_turn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from samples.json_logs import use_json_lines

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    package = logging.getLogger("dapr_actors_fastapi")
    try:
        use_json_lines()
        package.setLevel(logging.DEBUG)
        runtime = ActorRuntime()

        @runtime.actor("probe")
        class Probe(Actor):
            @method
            async def ping(self) -> None:
                logging.getLogger("my.app").warning("pinged")

        async with asgi_client(runtime) as client:
            assert (await client.put("/actors/probe/7/method/ping")).status_code == 200
    finally:
        package.setLevel(logging.NOTSET)
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = {line["message"]: line for line in json_lines(capsys.readouterr().err)}
    assert lines["pinged"] == {
        "time": lines["pinged"]["time"],
        "level": "WARNING",
        "logger": "my.app",
        "message": "pinged",
        "actor_type": "probe",
        "actor_id": "7",
        "turn": "method",
        "turn_name": "ping",
    }
    assert lines["activated probe/7"]["logger"] == "dapr_actors_fastapi._hosting.type_host"


def uvicorn_line() -> list[str]:
    """The ``uvicorn ... --log-config`` line of ``samples/json_logs.py``, as the README has it."""
    (line,) = [line for line in docstring_lines("samples.json_logs") if "--log-config" in line]
    assert any(line in block for block in readme_blocks("sh"))
    return line.split()


async def test_uvicorn_with_the_sample_log_config_shows_the_packages_lines_as_json() -> None:
    app_port = free_port()
    command = [arg if arg != "3000" else str(app_port) for arg in uvicorn_line()]
    settings = SidecarSettings(app_url=f"http://127.0.0.1:{app_port}", state_db=":memory:")
    async with serve(create_app(settings)) as sidecar_url:
        sidecar_port = urlsplit(sidecar_url).port
        app = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *command,
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "DAPR_HTTP_PORT": str(sidecar_port)},
        )
        try:
            async with aiohttp.ClientSession(sidecar_url) as http:
                flight = {"destination": "Hoth"}
                fly = "/v1.0/actors/x-wing/33/method/fly"
                async with http.post(fly, json=flight) as response:
                    assert response.status == 200, await response.text()
        finally:
            app.terminate()
            _, errors = await asyncio.wait_for(app.communicate(), timeout=20)
    lines = json_lines(errors.decode())
    activated = [line for line in lines if line["message"] == "activated x-wing/33"]
    assert activated == [
        {
            "time": activated[0]["time"],
            "level": "DEBUG",
            "logger": "dapr_actors_fastapi._hosting.type_host",
            "message": "activated x-wing/33",
            "actor_type": "x-wing",
            "actor_id": "33",
            "turn": "method",
            "turn_name": "fly",
        }
    ]
    assert any(line["logger"] == "uvicorn.access" for line in lines)  # uvicorn's lines too


def test_observability_sample_serves_every_instrument_to_prometheus() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    module = "samples.observability"
    fly, scrape = examples(module)
    with running(module) as (app_port, sidecar_port):
        for _ in range(2):
            assert json.loads(curl(fly.command, sidecar_port))["to"] == "Hoth"
        text = curl(scrape.command.replace("localhost:3000", f"127.0.0.1:{app_port}"), 0)

    def value(metric: str, /, **labels: str) -> float:
        found = [
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == metric and labels.items() <= sample.labels.items()
        ]
        assert len(found) == 1, (metric, labels, found)
        return found[0]

    assert value("dapr_actors_active", actor_type="x-wing") == 1
    assert value("dapr_actors_activations_total", outcome="ok") == 1
    assert value("dapr_actors_turn_duration_seconds_count", name="fly", outcome="ok") == 2
    assert value("dapr_actors_turn_queue_wait_seconds_count", turn="method") == 2
    # The first turn reads the location from the sidecar and saves Hoth; the second finds it
    # cached, and flying to Hoth again changes nothing, so it saves nothing.
    assert value("dapr_actors_sidecar_request_duration_seconds_count", operation="state.get") == 1
    assert value("dapr_actors_sidecar_request_duration_seconds_count", operation="state.save") == 1
    # Seconds, in buckets made for seconds: a fast turn is counted below 10 ms.
    fast = value("dapr_actors_turn_duration_seconds_bucket", name="fly", le="0.01")
    assert fast >= 1


async def test_middleware_sample_lets_the_dev_sidecar_through_its_host_check_and_auth() -> None:
    from samples.middleware import create_app

    app = create_app("users-secret", app_api_token="daprd-secret")
    async with ActorTestEnv(app, app_id="gate", app_api_token="daprd-secret") as env:
        # The sidecar read /dapr/config and called /actors/... with Host 127.0.0.1 and its token.
        visits = [await env.invoke_actor("visitors", "1", "visit", None) for _ in range(2)]
    assert [(answer.status, answer.json()) for answer in visits] == [(200, 1), (200, 2)]


async def test_middleware_sample_guards_each_route_with_its_own_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from samples.middleware import create_app, from_environment

    app = create_app("users-secret", app_api_token="daprd-secret")
    transport = httpx.ASGITransport(app=app)
    async with (
        lifespan_running(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client,
    ):
        # daprd's routes skip the users' auth; the runtime checks daprd's token on them.
        config = await client.get("/dapr/config", headers={"dapr-api-token": "daprd-secret"})
        assert config.json()["entities"] == ["visitors"]
        unsigned = await client.put("/actors/visitors/1/method/visit")
        assert (unsigned.status_code, unsigned.json()["errorCode"]) == (401, "ERR_API_TOKEN")
        users_token = await client.put(
            "/actors/visitors/1/method/visit", headers={"authorization": "Bearer users-secret"}
        )
        assert users_token.status_code == 401
        assert (await client.get("/healthz")).status_code == 200  # daprd's probes carry no token
        # The app's own routes need the users' token, and see what the app's lifespan set.
        assert (await client.get("/motd")).status_code == 401
        signed = await client.get("/motd", headers={"authorization": "Bearer users-secret"})
        assert (signed.status_code, signed.json()) == (200, "welcome")
        # Only the allowed hosts get in, daprd's routes included.
        foreign = await client.get("/healthz", headers={"host": "evil.example"})
        assert foreign.status_code == 400
    monkeypatch.delenv("USERS_TOKEN", raising=False)
    with pytest.raises(KeyError, match="USERS_TOKEN"):
        from_environment()
    monkeypatch.setenv("USERS_TOKEN", "from-env")
    monkeypatch.setenv("APP_API_TOKEN", "daprd-env")
    transport = httpx.ASGITransport(app=(served := from_environment()))
    async with (
        lifespan_running(served),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        motd = await client.get("/motd", headers={"authorization": "Bearer from-env"})
        config = await client.get("/dapr/config", headers={"dapr-api-token": "daprd-env"})
    assert (motd.status_code, config.status_code) == (200, 200)
