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

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quickstart_is_the_sample_file() -> None:
    (quickstart,) = code_blocks("python")
    assert quickstart == (ROOT / "samples" / "quickstart.py").read_text()


def test_setup_commands_install_and_run_what_ci_runs() -> None:
    run_sample, run_tests = code_blocks("sh")[:2]
    assert "uvicorn samples.quickstart:app --port 3000" in run_sample
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
def quickstart_port() -> Iterator[int]:
    """The README's first command's last step: uvicorn serving the sample on its own port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "samples.quickstart:app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"quickstart app did not start on {port}:\n{output}")
                time.sleep(0.05)  # a connect poll with a deadline; nothing to wait on instead
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def curl_examples() -> list[tuple[str, str]]:
    """(command, shown output) pairs from the README's curl block."""
    (block,) = [b for b in code_blocks("sh") if b.lstrip().startswith("curl")]
    lines = block.strip().splitlines()
    return [(lines[i], lines[i + 1].removeprefix("# ")) for i in range(0, len(lines), 2)]


@pytest.mark.parametrize(("command", "shown"), curl_examples())
def test_curl_examples_answer_as_shown(quickstart_port: int, command: str, shown: str) -> None:
    argv = shlex.split(command.replace("localhost:3000", f"127.0.0.1:{quickstart_port}"))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
    if shown.endswith("...}"):
        # An abbreviated document: the keys shown appear with the values shown.
        shown_items = json.loads(shown.removesuffix(", ...}") + "}")
        answer = json.loads(result.stdout)
        assert {key: answer[key] for key in shown_items} == shown_items
    else:
        assert json.loads(result.stdout) == json.loads(shown)
