"""Every snippet of the README runs: the quickstart is the sample, its curl lines answer as shown,
the state and calling snippets run in the quickstart app, and the other fragments are verbatim
parts of samples that ``test_samples.py`` runs."""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dapr_actors_fastapi.testing import ActorTestEnv

from .helpers import dapr_actors_run, serve

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


QUICKSTART = (ROOT / "samples" / "quickstart.py").read_text()

# Every python block but the quickstart, by a line that only it has; each is exercised below.
TESTING_SNIPPET = "async def test_fly() -> None:"
STATE_SNIPPET = '@runtime.actor("cart")'
CALLING_SNIPPET = "from dapr_actors_fastapi import ActorInvokeError"
SAMPLE_FRAGMENTS = {
    '@runtime.actor("countdown")': "countdown.py",
    "class Teacher(Actor):": "reentrancy.py",
    "class JsonLines(logging.Formatter):": "json_logs.py",
    "app = runtime.front_door(Starlette(": "frameworks/starlette_app.py",
    "def create_app(users_token: str": "middleware.py",
}


def python_block(marker: str) -> str:
    (block,) = [block for block in code_blocks("python") if marker in block]
    return block


def test_every_python_block_is_exercised() -> None:
    others = code_blocks("python")[1:]  # [0] is the quickstart, checked below
    markers = [TESTING_SNIPPET, STATE_SNIPPET, CALLING_SNIPPET, *SAMPLE_FRAGMENTS]
    # Each block has exactly one marker, and each marker is in exactly one block.
    claimed = [[marker for marker in markers if marker in block] for block in others]
    assert sorted(claimed) == sorted([marker] for marker in markers)


def test_quickstart_is_the_sample_file() -> None:
    assert code_blocks("python")[0] == QUICKSTART


@pytest.mark.parametrize(("marker", "sample"), SAMPLE_FRAGMENTS.items())
def test_fragments_are_verbatim_from_the_samples(marker: str, sample: str) -> None:
    # test_samples.py runs these samples through the dev sidecar.
    assert python_block(marker) in (ROOT / "samples" / sample).read_text()


async def test_the_testing_snippet_passes() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(python_block(TESTING_SNIPPET), "README.md", "exec"), namespace)
    await namespace["test_fly"]()


def printed_comments(snippet: str) -> list[str]:
    """What each ``print(...)  # shown`` line of ``snippet`` says it prints."""
    return [
        line.partition("  # ")[2]
        for line in snippet.splitlines()
        if line.lstrip().startswith("print(")
    ]


async def test_state_and_calling_snippets_run_in_the_quickstart_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The state snippet added to the quickstart saves a turn's changes and nothing of a turn
    that raised; the calling snippet, run in that app, prints what its comments show."""
    from samples.math_service import app as math_service

    namespace: dict[str, Any] = {}
    source = QUICKSTART + "\n\n" + python_block(STATE_SNIPPET)
    exec(compile(source, "README.md", "exec"), namespace)
    async with (
        serve(math_service) as math_url,
        ActorTestEnv(namespace["app"], apps={"mathService": math_url}) as env,
    ):
        added = await env.invoke_actor("cart", "c1", "add", {"item": "apple"})
        assert (added.status, added.json()) == (200, ["apple"])
        failed = await env.invoke_actor("cart", "c1", "add", {"item": "bomb"})
        assert failed.status == 500
        saved = await env.get_state("cart", "c1", "cart")
        assert (saved.status, saved.json()) == (200, {"items": ["apple"]})

        calling = python_block(CALLING_SNIPPET)
        code = compile(calling, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        shown = printed_comments(calling)
        assert len(shown) == 4
        assert all(shown), "every print(...) line shows its output"
        capsys.readouterr()
        await eval(code, namespace)
        assert capsys.readouterr().out.splitlines() == shown
        saved = await env.get_state("cart", "c1", "cart")
        assert (saved.status, saved.json()) == (200, {"items": ["apple"]})
        location = await env.get_state("x-wing", "33", "location")
        assert (location.status, location.json()) == (200, "Endor")


def test_setup_commands_install_and_run_what_ci_runs() -> None:
    run_sample, run_tests = code_blocks("sh")[:2]
    assert "pip install -e '.[dev]'" in run_sample  # the dev sidecar and its command
    assert "dapr-actors run samples.starwars:app" in run_sample
    assert "pip install -e '.[test]'" in run_tests
    assert "npm ci --prefix tests/js" in run_tests
    assert "python -m pytest" in run_tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-e '.[test]'" in ci
    assert "npm ci --prefix tests/js" in ci
    assert "-m pytest" in ci
    assert ".ci/wheel" in ci  # and the quickstart from the built wheel, outside the clone


@pytest.fixture(scope="module")
def quickstart_ports() -> Iterator[tuple[int, int]]:
    """``dapr-actors run samples.quickstart:app`` as the README says, on free ports."""
    with dapr_actors_run("samples.quickstart:app") as ports:
        yield ports


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
