"""The samples' docstrings run as written: ``dapr-actors run`` starts each sample with the dev
sidecar, and each curl command answers what the line after it (``# ...``) shows."""

from __future__ import annotations

import importlib
import json
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .helpers import dapr_actors_run

ROOT = Path(__file__).resolve().parents[1]


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
