"""Every snippet of the README runs: the quickstart is the sample, and its curl lines answer as shown."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quickstart_is_the_sample_file() -> None:
    quickstart = code_blocks("python")[0]
    assert quickstart == (ROOT / "samples" / "quickstart.py").read_text()


async def test_the_testing_snippet_passes() -> None:
    snippet = code_blocks("python")[1]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    await namespace["test_fly"]()


def test_setup_commands_install_and_run_what_ci_runs() -> None:
    run_sample, run_tests = code_blocks("sh")[:2]
    assert "dapr-actors run samples.starwars:app" in run_sample
    assert "pip install -e '.[test]'" in run_tests
    assert "python -m pytest" in run_tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-e '.[test]'" in ci
    assert "-m pytest" in ci


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def quickstart_ports() -> Iterator[tuple[int, int]]:
    """``dapr-actors run samples.quickstart:app`` as the README says, on free ports."""
    app_port, sidecar_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "dapr_actors_fastapi.sidecar.cli",
        "run",
        "samples.quickstart:app",
        f"--app-port={app_port}",
        f"--dapr-http-port={sidecar_port}",
        "--state-db=:memory:",
    ]
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while not all(listening(port) for port in (app_port, sidecar_port)):
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read().decode() if server.stdout else ""
                pytest.fail(f"dapr-actors run did not start:\n{output}")
            time.sleep(0.05)  # a connect poll with a deadline; nothing to wait on instead
        yield app_port, sidecar_port
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def curl_examples() -> list[tuple[str, str]]:
    """(command, shown output) pairs from the README's curl block."""
    (block,) = [b for b in code_blocks("sh") if b.lstrip().startswith("curl")]
    lines = block.strip().splitlines()
    return [(lines[i], lines[i + 1].removeprefix("# ")) for i in range(0, len(lines), 2)]


@pytest.mark.parametrize(("command", "shown"), curl_examples())
def test_curl_examples_answer_as_shown(
    quickstart_ports: tuple[int, int], command: str, shown: str
) -> None:
    app_port, sidecar_port = quickstart_ports
    command = command.replace("localhost:3000", f"127.0.0.1:{app_port}")
    argv = shlex.split(command.replace("localhost:3500", f"127.0.0.1:{sidecar_port}"))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
    if shown.endswith("...}"):
        # An abbreviated document: the keys shown appear with the values shown.
        shown_items = json.loads(shown.removesuffix(", ...}") + "}")
        answer = json.loads(result.stdout)
        assert {key: answer[key] for key in shown_items} == shown_items
    else:
        assert json.loads(result.stdout) == json.loads(shown)
