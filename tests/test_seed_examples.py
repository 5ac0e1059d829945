"""Every curl example of the Actors API reference page, run unchanged against the star wars sample.

The sample app and the dev sidecar run on ephemeral ports; each shell block of
``shared/spec/actors-api.md`` runs through bash in document order with only ``localhost:3000``
and ``localhost:3500`` pointed at them. curl reads a ``.curlrc`` from ``CURL_HOME`` that adds
the status code to its output, so the commands themselves stay as written.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.testing import ActorTestEnv

from .conftest import serve

# The reference pages live in the steering repository's shared/ folder, beside this clone.
SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "actors-api.md"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"no reference page at {SPEC}")

# (method and path the example calls, status, body or None when the body is not checked)
EXPECTED: list[tuple[str, int, Any]] = [
    (
        "POST /v1.0/actors/stormtrooper/50/method/shoot",
        200,
        {"shots": 1, "target": "x-wing/33", "at": "Yavin 4"},
    ),
    ("POST /v1.0/actors/x-wing/33/method/fly", 200, {"from": "Yavin 4", "location": "Hoth"}),
    ("POST /v1.0/actors/x-wing/33/method/fly", 200, {"from": "Hoth", "location": "Hoth"}),
    ("POST /v1.0/actors/stormtrooper/50/state", 204, None),
    # The stormtrooper saved its post when it was activated by the first call.
    ("GET /v1.0/actors/stormtrooper/50/state/location", 200, {"location": "Alderaan"}),
    ("POST /v1.0/actors/stormtrooper/50/reminders/checkRebels", 204, None),
    (
        "GET /v1.0/actors/stormtrooper/50/reminders/checkRebels",
        200,
        {
            "actorID": "50",
            "actorType": "stormtrooper",
            "data": "someData",
            "dueTime": "1m",
            "period": "20s",
        },
    ),
    ("DELETE /v1.0/actors/stormtrooper/50/reminders/checkRebels", 204, None),
    ("POST /v1.0/actors/stormtrooper/50/timers/checkRebels", 204, None),
    ("DELETE /v1.0/actors/stormtrooper/50/timers/checkRebels", 204, None),
    ("GET /dapr/config", 200, None),
    ("DELETE /actors/stormtrooper/50", 200, None),
    ("POST /actors/stormtrooper/50/method/performAction", 200, {"action": "stand guard"}),
    ("POST /actors/stormtrooper/50/method/remind/checkRebels", 200, None),
    ("POST /actors/stormtrooper/50/method/timer/checkRebels", 200, None),
    ("GET /healthz", 200, None),
]


def shell_blocks() -> list[str]:
    if not SPEC.exists():
        return []
    return re.findall(r"```shell\n(.*?)```", SPEC.read_text(), flags=re.DOTALL)


def run_block(block: str, app_url: str, sidecar_url: str, curl_home: Path) -> tuple[int, str]:
    script = block.replace("http://localhost:3000", app_url).replace(
        "http://localhost:3500", sidecar_url
    )
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=20,
        env={"CURL_HOME": str(curl_home), "PATH": "/usr/bin:/bin"},
    )
    # The GET-reminder example passes a header without -H, so curl also tries to fetch
    # "Content-Type: application/json" as a URL and fails on it: read the first answer.
    body, found, rest = result.stdout.partition("\nSTATUS=")
    assert found, f"no status in {result.stdout!r} / {result.stderr!r}"
    return int(rest[:3]), body


def test_the_spec_has_the_examples_this_test_expects() -> None:
    blocks = shell_blocks()
    assert len(blocks) == len(EXPECTED)
    for block, (call, _, _) in zip(blocks, EXPECTED, strict=True):
        path = call.split(" ")[1]
        assert path in block, (call, block)


async def test_every_curl_example_answers_as_documented(tmp_path: Path) -> None:
    from samples.starwars import app

    (tmp_path / ".curlrc").write_text('silent\nwrite-out = "\\nSTATUS=%{http_code}"\n')
    # The kit points the app's sidecar client at the dev sidecar, as `dapr-actors run` does.
    async with ActorTestEnv(app, app_id="starwars") as env:
        for block, (call, status, body) in zip(shell_blocks(), EXPECTED, strict=True):
            answer = await asyncio.to_thread(
                run_block, block, env.app_url, env.sidecar_url, tmp_path
            )
            assert answer[0] == status, (call, answer)
            if body is not None:
                assert json.loads(answer[1]) == body, call


@pytest.mark.parametrize("block", shell_blocks())
def test_examples_are_plain_curl(block: str) -> None:
    assert block.lstrip().startswith("curl")


# -- the Service invocation API reference page ------------------------------------------------

INVOCATION_SPEC = SPEC.with_name("service-invocation-api.md")
EXTERNAL_URL = "http://mathServiceURL.com"  # the page's FQDN example; replaced by a local URL


def invocation_commands() -> list[str]:
    """The page's curl commands, one string each.

    The page leaves out the backslash before each ``-d`` line, so run as a shell script its
    commands would go out without their body; they are joined here as the page means them.
    """
    if not INVOCATION_SPEC.exists():
        return []
    blocks = re.findall(r"```shell\n(.*?)```", INVOCATION_SPEC.read_text(), flags=re.DOTALL)
    commands = []
    for block in blocks:
        for command in block.strip().split("\n\n"):
            commands.append(" ".join(line.strip().rstrip("\\") for line in command.splitlines()))
    return commands


def test_the_invocation_page_has_three_curl_examples() -> None:
    commands = invocation_commands()
    assert [
        command.split()[1].split("/invoke/")[1].split("/method/")[0] for command in commands
    ] == [
        "mathService",
        "mathHTTPEndpoint",
        EXTERNAL_URL,
    ]


async def test_every_invocation_example_answers_33(tmp_path: Path) -> None:
    from samples.math_service import app as math_service

    async with serve(math_service) as math_url:
        resources = tmp_path / "resources"
        resources.mkdir()
        (resources / "math.yaml").write_text(
            "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: mathHTTPEndpoint\n"
            f"spec:\n  baseUrl: {math_url}\n"
        )
        settings = SidecarSettings(
            app_url=math_url,
            app_id="caller",
            state_db=":memory:",
            apps={"mathService": math_url},
            resources_path=str(resources),
        )
        async with serve(create_app(settings)) as sidecar_url:
            for command in invocation_commands():
                local = command.replace("http://localhost:3500", sidecar_url)
                local = local.replace(EXTERNAL_URL, math_url)
                result = await asyncio.to_thread(
                    subprocess.run,
                    [*shlex.split(local), "-s", "-w", "\nSTATUS=%{http_code}"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                )
                assert result.stdout == "33\nSTATUS=200", (command, result.stdout)
