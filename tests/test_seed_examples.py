"""Every curl example of Dapr's Actors and Service invocation API reference pages, run unchanged.

The examples are test data, ``tests/data/seed_examples.json``: each curl command as the page
has it, the page and section it came from, and the answer this project gives to it. The Actors
examples run against the star wars sample; the sample app and the dev sidecar run on ephemeral
ports and each command runs through bash in document order with only ``localhost:3000`` and
``localhost:3500`` pointed at them. curl reads a ``.curlrc`` from ``CURL_HOME`` that adds the
status code to its output, so the commands themselves stay as written.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.testing import ActorTestEnv

from .helpers import serve

SEED = json.loads((Path(__file__).parent / "data" / "seed_examples.json").read_text())
ACTORS: list[dict[str, Any]] = SEED["pages"]["actors"]["examples"]
INVOCATION: list[dict[str, Any]] = SEED["pages"]["invocation"]["examples"]


def test_every_example_says_where_it_came_from() -> None:
    for page in SEED["pages"].values():
        assert page["title"].endswith("API reference"), page["url"]
        assert page["url"].startswith("https://docs.dapr.io/reference/api/"), page["url"]
        for example in page["examples"]:
            assert example["section"], example["shell"]


def test_the_spec_has_the_examples_this_test_expects() -> None:
    # Every shell block of the Actors page, each naming the call whose answer it checks.
    assert len(ACTORS) == 16
    for example in ACTORS:
        path = example["call"].split(" ")[1]
        assert path in example["shell"], example


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


async def test_every_curl_example_answers_as_documented(tmp_path: Path) -> None:
    from samples.starwars import app

    (tmp_path / ".curlrc").write_text('silent\nwrite-out = "\\nSTATUS=%{http_code}"\n')
    # The kit points the app's sidecar client at the dev sidecar, as `dapr-actors run` does.
    async with ActorTestEnv(app, app_id="starwars") as env:
        for example in ACTORS:
            call = example["call"]
            answer = await asyncio.to_thread(
                run_block, example["shell"], env.app_url, env.sidecar_url, tmp_path
            )
            assert answer[0] == example["status"], (call, answer)
            if example["body"] is not None:
                assert json.loads(answer[1]) == example["body"], call


@pytest.mark.parametrize(
    "block",
    [example["shell"] for example in ACTORS + INVOCATION],
    ids=[example["call"] for example in ACTORS + INVOCATION],
)
def test_examples_are_plain_curl(block: str) -> None:
    assert block.lstrip().startswith("curl")


# -- the Service invocation API reference page ------------------------------------------------

EXTERNAL_URL = "http://mathServiceURL.com"  # the page's FQDN example; replaced by a local URL


def invocation_command(example: dict[str, Any]) -> str:
    """The example's curl command as one line.

    The page leaves out the backslash before each ``-d`` line, so run as a shell script its
    commands would go out without their body; they are joined here as the page means them.
    """
    return " ".join(line.strip().rstrip("\\") for line in example["shell"].splitlines())


def test_the_invocation_page_has_three_curl_examples() -> None:
    commands = [invocation_command(example) for example in INVOCATION]
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
            for example in INVOCATION:
                assert (example["status"], example["body"]) == (200, "33"), example
                command = invocation_command(example)
                local = command.replace("http://localhost:3500", sidecar_url)
                local = local.replace(EXTERNAL_URL, math_url)
                result = await asyncio.to_thread(
                    subprocess.run,
                    [*shlex.split(local), "-s", "-w", "\nSTATUS=%{http_code}"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                )
                expected = f"{example['body']}\nSTATUS={example['status']}"
                assert result.stdout == expected, (command, result.stdout)
