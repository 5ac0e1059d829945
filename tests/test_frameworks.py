"""The front door (``runtime.front_door(app)``) hosts actors in any ASGI framework: each sample
of ``samples/frameworks/`` runs under ``dapr-actors run`` and answers the same checks: daprd's
config, a method with state through the dev sidecar, a reminder and a timer, deactivation,
shutdown, and the framework's own route, untouched."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from .helpers import DaprActorsRun, dapr_actors_process

FRAMEWORKS = {
    "starlette_app": {},
    "litestar_app": {},
    "quart_app": {},
    "django_app": {},
    # Its middleware refuses requests without this host and token; daprd sends neither.
    "fastapi_guarded": {"Host": "fleet.example.com", "Authorization": "Bearer sample-token"},
}


def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {}
    )
    if data is not None:
        call.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(call, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def poll(probe: Callable[[], object], expected: object, what: str) -> None:
    deadline = time.monotonic() + 15
    while (value := probe()) != expected:
        assert time.monotonic() < deadline, f"no {what} after 15 s: {value!r}"
        time.sleep(0.05)  # a poll with a deadline: the fire happens in another process


def stored(run: DaprActorsRun, actor_id: str, key: str) -> object:
    status, body = request(run.sidecar_port, "GET", f"/v1.0/actors/counter/{actor_id}/state/{key}")
    return json.loads(body) if status == 200 and body else None


@pytest.mark.parametrize("module", FRAMEWORKS)
def test_the_framework_hosts_actors_behind_the_front_door(module: str) -> None:
    with dapr_actors_process(f"samples.frameworks.{module}:app", "--app-id", "fleet") as run:
        status, config = request(run.app_port, "GET", "/dapr/config")
        assert (status, json.loads(config)["entities"]) == (200, ["counter"])
        assert request(run.app_port, "GET", "/healthz")[0] == 200
        # The framework's own route, through its own routing and middleware.
        hello = request(run.app_port, "GET", "/hello", headers=FRAMEWORKS[module])
        assert hello[0] == 200
        assert "hello from" in hello[1]

        method = "/v1.0/actors/counter/1/method/increment"
        assert request(run.sidecar_port, "POST", method) == (200, "1")
        assert request(run.sidecar_port, "POST", method) == (200, "2")
        assert stored(run, "1", "count") == 2

        tick = {"dueTime": "0s"}
        assert (
            request(run.sidecar_port, "PUT", "/v1.0/actors/counter/1/reminders/tick", tick)[0]
            == 204
        )
        poll(lambda: stored(run, "1", "ticks"), 1, "reminder fire")
        beat = {"dueTime": "0s", "callback": "beat"}
        assert (
            request(run.sidecar_port, "PUT", "/v1.0/actors/counter/1/timers/beat", beat)[0] == 204
        )
        poll(lambda: stored(run, "1", "beats"), 1, "timer fire")

        # daprd deactivates an actor by calling the app directly.
        assert request(run.app_port, "DELETE", "/actors/counter/1")[0] == 200
        assert (
            request(run.sidecar_port, "POST", "/v1.0/actors/counter/2/method/increment")[0] == 200
        )
        run.process.terminate()  # SIGTERM: the runtime's lifespan deactivates what is left
        assert run.process.wait(timeout=20) == 0
        log = run.log()
    assert "counter 1 deactivated" in log
    assert "counter 2 deactivated" in log  # at shutdown, through the runtime's lifespan
    assert "Traceback" not in log
