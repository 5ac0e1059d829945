"""The official Dapr JS SDK (``@dapr/dapr``, pinned in tests/js/package.json) calling the samples'
actors through the dev sidecar over HTTP, as a Node service would.

Its ``ActorProxyBuilder`` sends a call's arguments as a JSON array and JSON-parses the answer
(docs/protocol.md §11.2). tests/js/proxy_calls.mjs makes the calls and prints their outcomes
as one JSON line; these tests start the sample under ``dapr-actors run`` and check that line.
CI installs the package with ``npm ci`` in tests/js (.ci/run); without Node.js or that install
these tests fail, saying what is missing, rather than skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any

import httpx
import pytest

from .helpers import ROOT, dapr_actors_run

JS_DIR = ROOT / "tests" / "js"
SECONDS = 15.0  # for node's start and every call together; a few seconds on a loaded machine


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("Node.js 20+ is needed for the JS SDK interop tests; install it")
    if not (JS_DIR / "node_modules" / "@dapr" / "dapr").is_dir():
        pytest.fail("the JS SDK is not installed: run `npm ci` in tests/js (.ci/run does)")
    return found


def wait_until_hosting(sidecar_port: int) -> None:
    """``/v1.0/healthz`` answers 204 once the sidecar has read the app's actor types."""
    deadline = time.monotonic() + SECONDS
    with httpx.Client(base_url=f"http://127.0.0.1:{sidecar_port}") as http:
        while http.get("/v1.0/healthz").status_code != 204:
            assert time.monotonic() < deadline, "the dev sidecar never loaded the app's config"
            time.sleep(0.02)  # a poll with a deadline; nothing to wait on instead


def js_calls(sample: str) -> dict[str, Any]:
    """Run ``samples.<sample>`` under ``dapr-actors run`` and the JS script against it."""
    command = node()
    with dapr_actors_run(f"samples.{sample}:app", "--log-level=warning") as (_, sidecar_port):
        wait_until_hosting(sidecar_port)
        result = subprocess.run(
            [command, "proxy_calls.mjs", str(sidecar_port), sample],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=SECONDS,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    outcomes: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcomes


def error_inside(outcome: dict[str, Any]) -> dict[str, Any]:
    """The app's error, as the sidecar quotes it inside ``ERR_ACTOR_INVOKE_METHOD``."""
    assert outcome["status"] == 500, outcome
    sidecar_error = json.loads(outcome["message"])
    assert sidecar_error["errorCode"] == "ERR_ACTOR_INVOKE_METHOD", sidecar_error
    quoted = sidecar_error["message"].split(": (400) ", 1)[1]
    app_error: dict[str, Any] = json.loads(quoted)
    return app_error


@pytest.fixture(scope="module")
def starwars() -> dict[str, Any]:
    """One run of the starwars calls, read by the tests below."""
    return js_calls("starwars")


def test_js_proxy_calls_starwars_methods_with_and_without_arguments(
    starwars: dict[str, Any],
) -> None:
    outcomes = starwars
    # No arguments: no body. Scalar arguments: [arg], bound by position; results JSON-parsed.
    assert outcomes["whereFirst"] == "Yavin 4"
    assert outcomes["fly"] == {"from": "Yavin 4", "location": "Hoth"}
    assert outcomes["whereAfter"] == "Hoth"
    # A method that calls another actor; and its parameter's default when none is passed.
    assert outcomes["shoot"] == {"shots": 1, "target": "x-wing/js-33", "at": "Hoth"}
    assert outcomes["shootDefault"] == {"shots": 2, "target": "x-wing/33", "at": "Yavin 4"}
    assert outcomes["performAction"] == {"action": "stand guard"}
    # Too many arguments: the app's 400 names the parameters.
    app_error = error_inside(outcomes["flyTooMany"])
    assert app_error["errorCode"] == "ERR_MALFORMED_REQUEST"
    assert "binds by position to (destination): expected 1 item, got 3" in app_error["message"]


def test_js_proxy_sends_a_model_argument_to_the_quickstart() -> None:
    outcomes = js_calls("quickstart")
    assert outcomes["fly"] == {"from": "Yavin 4", "to": "Hoth"}
    assert outcomes["flyAgain"] == {"from": "Hoth", "to": "Dagobah"}
    app_error = error_inside(outcomes["flyWithoutDestination"])
    assert [entry["loc"] for entry in app_error["errors"]] == [["body", "flight", "destination"]]


def test_js_client_state_api_gets_501_naming_what_the_dev_sidecar_serves(
    starwars: dict[str, Any],
) -> None:
    # The JS DaprClient speaks HTTP, so its state API reaches the dev sidecar, which says what
    # it serves instead of failing obscurely (the Python SDK's DaprClient uses gRPC instead).
    assert starwars["stateGet"]["status"] == 501
    error = json.loads(starwars["stateGet"]["message"])
    assert error["errorCode"] == "ERR_NOT_IMPLEMENTED"
    assert "GET /v1.0/state/statestore/key" in error["message"]
    assert "/v1.0/actors" in error["message"]
