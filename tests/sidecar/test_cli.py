"""The ``dapr-actors`` console script, run for real as a subprocess on free loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from dapr_actors_fastapi.sidecar.cli import main

from ..helpers import ROOT, free_port, make_app, poll_until, serve

# Seconds; a deadline, not a sleep. A cold interpreter imports fastapi, uvicorn and aiohttp
# first: 1.5 s of CPU, which took over 15 s on a loaded 2-core machine.
DEADLINE = 60.0


def console_script() -> list[str]:
    """The installed ``dapr-actors`` next to this interpreter, else the module itself."""
    script = Path(sys.executable).with_name("dapr-actors")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without tokens, with this checkout first on the import path: the
    installed ``dapr-actors`` may come from another checkout (an editable install)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DAPR_API_TOKEN", "APP_API_TOKEN")}
    return env | {"PYTHONPATH": str(ROOT)} | extra


class Cli:
    """A running ``dapr-actors`` (or, given ``program``, another command) with its output in
    files named after ``name`` (a pipe could fill up and block)."""

    def __init__(
        self,
        args: list[str],
        tmp_path: Path,
        cwd: Path = ROOT,
        *,
        program: list[str] | None = None,
        name: str = "",
        **env: str,
    ) -> None:
        self.out, self.err = tmp_path / f"{name}stdout.txt", tmp_path / f"{name}stderr.txt"
        command = [*(program or console_script()), *args]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=out, stderr=err, env=clean_env(**env)
            )

    def output(self) -> tuple[str, str]:
        return self.out.read_text(), self.err.read_text()

    def wait_for_ports(self, *ports: int) -> None:
        deadline = time.monotonic() + DEADLINE
        for port in ports:
            while not port_open(port):
                if self.process.poll() is not None:
                    pytest.fail(
                        f"dapr-actors exited with {self.process.returncode}: {self.output()}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"port {port} not open after {DEADLINE}s: {self.output()}")
                time.sleep(0.02)

    def wait_for_output(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self.output()[0]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no {text!r} from dapr-actors: {self.output()}")
            time.sleep(0.02)

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)
        return self.wait()

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"dapr-actors did not exit within {DEADLINE}s: {self.output()}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def put_json(url: str, body: object) -> tuple[int, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[list[Cli]]:
    """Started CLIs, killed at the end if a test failed before stopping them."""
    started: list[Cli] = []
    yield started
    for each in started:
        if each.process.poll() is None:
            each.process.kill()
            each.process.wait()


def test_run_serves_the_app_behind_the_sidecar_and_stops_on_ctrl_c(
    cli: list[Cli], tmp_path: Path
) -> None:
    app_port, sidecar_port = free_port(), free_port()
    state_db = tmp_path / "state.db"
    run = Cli(
        [
            "run",
            "samples.quickstart:app",
            f"--app-port={app_port}",
            f"--dapr-http-port={sidecar_port}",
            f"--state-db={state_db}",
        ],
        tmp_path,
    )
    cli.append(run)
    run.wait_for_ports(app_port, sidecar_port)

    url = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/x-wing/33/method/fly"
    assert put_json(url, {"destination": "Hoth"}) == (200, {"from": "Yavin 4", "to": "Hoth"})
    # The banner follows the sidecar's start, which requests can overtake: wait for it.
    run.wait_for_output(f"dev sidecar on http://127.0.0.1:{sidecar_port}")

    assert run.stop(signal.SIGINT) == 0
    out, err = run.output()
    assert f"app 'quickstart' on http://127.0.0.1:{app_port}" in out
    assert f"dev sidecar on http://127.0.0.1:{sidecar_port}" in out
    assert "hosted actor types: x-wing" in err
    # The sidecar deactivated the actor before the app stopped, as daprd does before it exits;
    # then the app's lifespan shutdown ran, with nothing left to deactivate.
    assert "deactivated 1 actors before exit" in err
    assert "Application shutdown complete" in err
    assert "Traceback" not in err
    assert state_db.exists()


def test_run_with_debug_logs_shows_activations_and_deactivations(
    cli: list[Cli], tmp_path: Path
) -> None:
    app_port, sidecar_port = free_port(), free_port()
    run = Cli(
        [
            "run",
            "samples.quickstart:app",
            f"--app-port={app_port}",
            f"--dapr-http-port={sidecar_port}",
            "--state-db=:memory:",
            "--log-level=debug",
        ],
        tmp_path,
    )
    cli.append(run)
    run.wait_for_ports(app_port, sidecar_port)
    url = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/x-wing/33/method/fly"
    assert put_json(url, {"destination": "Hoth"})[0] == 200
    assert run.stop(signal.SIGTERM) == 0
    _, err = run.output()
    assert "activated x-wing/33" in err
    assert "deactivated x-wing/33" in err  # at shutdown, by the sidecar's DELETE
    assert "deactivating 1 active actors before exit" in err


STARWARS = """
import os
import pathlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dapr_actors_fastapi import Actor, ActorRuntime, method

runtime = ActorRuntime()


@runtime.actor("droid")
class Droid(Actor):
    @method
    async def environment(self) -> dict[str, str]:
        return {name: os.environ[name] for name in ("DAPR_HTTP_PORT", "APP_ID", "APP_PORT")}


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with runtime.lifespan(app):
        yield
    pathlib.Path("stopped.txt").write_text("lifespan shutdown ran")


app = FastAPI(lifespan=lifespan)
app.include_router(runtime.router)
"""


def test_run_imports_from_the_current_directory_and_stops_on_sigterm(
    cli: list[Cli], tmp_path: Path
) -> None:
    (tmp_path / "starwars.py").write_text(STARWARS)
    app_port, sidecar_port = free_port(), free_port()
    run = Cli(
        ["run", "starwars:app", f"--app-port={app_port}", f"--dapr-http-port={sidecar_port}"],
        tmp_path,
        cwd=tmp_path,
        PYTHONPATH=str(ROOT),  # for dapr_actors_fastapi only if it is not installed
    )
    cli.append(run)
    run.wait_for_ports(app_port, sidecar_port)

    url = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/droid/r2/method/environment"
    assert put_json(url, {}) == (
        200,
        {"DAPR_HTTP_PORT": str(sidecar_port), "APP_ID": "starwars", "APP_PORT": str(app_port)},
    )

    assert run.stop(signal.SIGTERM) == 0
    assert f"app 'starwars' on http://127.0.0.1:{app_port}" in run.output()[0]
    assert (tmp_path / "stopped.txt").read_text() == "lifespan shutdown ran"
    assert (tmp_path / "dapr-actors.db").exists()  # the default state file, in the cwd


@pytest.mark.parametrize("flag", ["--app-port", "--dapr-http-port"])
def test_a_taken_port_is_a_one_line_error(cli: list[Cli], tmp_path: Path, flag: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = "--dapr-http-port" if flag == "--app-port" else "--app-port"
        run = Cli(["run", "samples.quickstart:app", f"{flag}={port}", f"{other}=0"], tmp_path)
        cli.append(run)
        assert run.wait() == 1
    out, err = run.output()
    assert f"port {port} ({flag}) is already in use" in err
    assert "Traceback" not in err
    assert out == ""  # nothing claimed to listen


BROKEN = "import os\n\nvalue = 1 / 0\n"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("samples.nowhere:app", "cannot import module 'samples.nowhere': No module named"),
        ("samples.quickstart:ap", "module 'samples.quickstart' has no attribute 'ap'"),
        ("samples.quickstart:runtime", "not an ASGI app (it is of type ActorRuntime)"),
        ("broken:app", "importing module 'broken' failed: ZeroDivisionError: division by zero"),
    ],
)
def test_an_app_that_cannot_be_loaded_is_a_one_line_error(
    cli: list[Cli], tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "broken.py").write_text(BROKEN)
    run = Cli(
        ["run", target, "--app-port=0", "--dapr-http-port=0"],
        tmp_path,
        PYTHONPATH=str(tmp_path),
    )
    cli.append(run)
    assert run.wait() == 1
    err = run.output()[1]
    assert message in err
    assert "MODULE:APP" in err or "broken.py:3" in err  # the fix, or where it broke
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


FAILING_STARTUP = """
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app):
    raise RuntimeError("database is down")
    yield


app = FastAPI(lifespan=lifespan)
"""


def test_an_app_whose_startup_fails_stops_everything(cli: list[Cli], tmp_path: Path) -> None:
    (tmp_path / "failing.py").write_text(FAILING_STARTUP)
    run = Cli(["run", "failing:app", "--app-port=0", "--dapr-http-port=0"], tmp_path, cwd=tmp_path)
    cli.append(run)
    assert run.wait() == 1
    out, err = run.output()
    assert "RuntimeError: database is down" in err  # the app's own error, as uvicorn logs it
    assert (
        err.strip().splitlines()[-1].startswith("dapr-actors: error: app 'failing' failed to start")
    )
    # The sidecar starts first (the app's startup may wait for it); the app never listened.
    assert out.startswith("dev sidecar on http://127.0.0.1:")
    assert "app 'failing' on" not in out


def test_help_describes_the_commands_and_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for flag in ("MODULE:APP", "--app-id", "--app-port", "--dapr-http-port", "--resources-path"):
        assert flag in text
    for flag in ("--state-db", "--app NAME=URL", "--log-level", ":memory:"):
        assert flag in text
    with pytest.raises(SystemExit):
        main(["sidecar", "--help"])
    assert "--app-url" in capsys.readouterr().out


def test_the_console_script_answers_help() -> None:
    result = subprocess.run(
        [*console_script(), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert "sidecar" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "samples.quickstart"], "expected MODULE:APP, e.g. samples.quickstart:app"),
        (["run", "a:app", "--app-port=http"], "expected a port number 0-65535, got 'http'"),
        (["run", "a:app", "--app", "inventory"], "expected NAME=URL"),
        (["run", "a:app", "--app", "a.b.c=http://h"], "<app-id>.<namespace>, e.g. inventory.prod"),
        (["run", "a:app", "--invoke-timeout", "-1"], "expected seconds, e.g. 60"),
        (["run", "a:app", "--invoke-timeout", "nan"], "expected seconds, e.g. 60"),
        (["sidecar", "--app-url", "localhost:3000"], "expected an http:// URL"),
        (["sidecar"], "--app-url"),
        (["run", "a:app", "--allowed-origins", "localhost:3000"], "not '*' or an http(s)://"),
    ],
)
def test_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--app-port=3999", "--dapr-http-port=3999"], "both 3999"),
        (["--app", "quickstart=http://127.0.0.1:1"], "this app's own --app-id"),
        (["--app", "quickstart.default=http://127.0.0.1:1"], "this app's own --app-id"),
        (
            ["--resources-path=/no/such/folder"],
            "--resources-path /no/such/folder: no such folder or file",
        ),
        (["--state-db=/no/such/folder/x.db"], "folder /no/such/folder does not exist"),
    ],
)
def test_bad_settings_are_named_before_anything_starts(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["run", "samples.quickstart:app", *argv]) == 1
    assert message in capsys.readouterr().err


def test_a_bad_resource_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "endpoint.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata: {}\n"
        "spec:\n  baseUrl: http://127.0.0.1:1\n"
    )
    argv = ["sidecar", "--app-url=http://127.0.0.1:1", "--dapr-http-port=0"]
    assert main([*argv, f"--resources-path={tmp_path}", "--state-db=:memory:"]) == 1
    err = capsys.readouterr().err
    assert f"--resources-path {tmp_path}: " in err
    assert "endpoint.yaml" in err


async def test_sidecar_command_fronts_an_app_running_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from samples.quickstart import runtime

    sidecar_port = free_port()
    # As `dapr run` does for the app it launches: tell its sidecar client where to call.
    monkeypatch.setenv("DAPR_HTTP_PORT", str(sidecar_port))
    async with serve(make_app(runtime)) as app_url:
        with (tmp_path / "out.txt").open("w") as out:
            process = await asyncio.create_subprocess_exec(
                *console_script(),
                "sidecar",
                f"--app-url={app_url}",
                "--app-id=fleet",
                f"--dapr-http-port={sidecar_port}",
                "--state-db=:memory:",
                cwd=tmp_path,
                stdout=out,
                stderr=out,
                env=clean_env(),
            )
        try:
            base = f"http://127.0.0.1:{sidecar_port}"
            await wait_until_healthy(base, process)
            async with (
                aiohttp.ClientSession(base) as http,
                http.put("/v1.0/actors/x-wing/1/method/fly", json={"destination": "Hoth"}) as r,
            ):
                assert (r.status, await r.json()) == (200, {"from": "Yavin 4", "to": "Hoth"})
            # The banner follows the server's start, which requests can overtake: wait for it.
            banner = f"dev sidecar on {base} for app 'fleet'"
            await poll_until(
                lambda: banner in (tmp_path / "out.txt").read_text(), what="the banner"
            )
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), DEADLINE) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def test_ctrl_c_while_the_sidecar_waits_for_its_app(cli: list[Cli], tmp_path: Path) -> None:
    nothing_there = free_port()
    run = Cli(
        ["sidecar", f"--app-url=http://127.0.0.1:{nothing_there}", "--dapr-http-port=0"],
        tmp_path,
        cwd=tmp_path,
    )
    cli.append(run)
    run.wait_for_output(f"for app 'app' at http://127.0.0.1:{nothing_there}")
    assert run.stop(signal.SIGINT) == 0
    assert "Traceback" not in run.output()[1]


async def wait_until_healthy(base: str, process: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    async with aiohttp.ClientSession(base) as http:
        while True:
            assert process.returncode is None, "the sidecar exited early"
            try:
                async with http.get("/v1.0/healthz") as r:
                    if r.status == 204:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert loop.time() < deadline, f"sidecar not healthy within {DEADLINE}s"
            await asyncio.sleep(0.02)


# -- start order: an app whose startup waits for its sidecar (the official SDK's) ---------------

# The SDK app's health check gives up after this many seconds (DAPR_HEALTH_TIMEOUT), so a
# deadlock fails the test within the deadline instead of at the SDK's default 60 s.
SDK_HEALTH_SECONDS = "30"


def sdk_app_process(app_port: int, sidecar_port: int, tmp_path: Path) -> Cli:
    """``tests.sidecar.sdk_app`` under uvicorn, pointed at a sidecar as ``dapr run`` would."""
    return Cli(
        ["-m", "uvicorn", "tests.sidecar.sdk_app:app", f"--port={app_port}"],
        tmp_path,
        program=[sys.executable],
        name="app-",
        DAPR_HTTP_PORT=str(sidecar_port),
        DAPR_HEALTH_TIMEOUT=SDK_HEALTH_SECONDS,
        PYTHONUNBUFFERED="1",  # the SDK prints its failed health checks
    )


def sidecar_process(app_port: int, sidecar_port: int, tmp_path: Path) -> Cli:
    return Cli(
        [
            "sidecar",
            f"--app-url=http://127.0.0.1:{app_port}",
            f"--dapr-http-port={sidecar_port}",
            "--state-db=:memory:",
        ],
        tmp_path,
    )


def assert_sdk_actor_hosted(sidecar_port: int) -> None:
    """The SDK app's actor answers through the sidecar and keeps its state there."""
    url = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/SdkCounter/1/method/Add"
    assert put_json(url, 5) == (200, 5)
    assert put_json(url, 2) == (200, 7)


def test_run_starts_an_app_that_waits_for_its_sidecar(cli: list[Cli], tmp_path: Path) -> None:
    app_port, sidecar_port = free_port(), free_port()
    run = Cli(
        [
            "run",
            "tests.sidecar.sdk_app:app",
            f"--app-port={app_port}",
            f"--dapr-http-port={sidecar_port}",
            "--state-db=:memory:",
        ],
        tmp_path,
        DAPR_HEALTH_TIMEOUT=SDK_HEALTH_SECONDS,
    )
    cli.append(run)
    run.wait_for_ports(sidecar_port, app_port)
    assert_sdk_actor_hosted(sidecar_port)
    assert run.stop(signal.SIGTERM) == 0
    assert "Traceback" not in run.output()[1]


@pytest.mark.parametrize("first", ["sidecar", "app"])
def test_sidecar_fronts_an_app_that_waits_for_it_in_either_start_order(
    cli: list[Cli], tmp_path: Path, first: str
) -> None:
    app_port, sidecar_port = free_port(), free_port()
    if first == "sidecar":
        sidecar = sidecar_process(app_port, sidecar_port, tmp_path)
        cli.append(sidecar)
        sidecar.wait_for_ports(sidecar_port)  # serving before any app is there
        app = sdk_app_process(app_port, sidecar_port, tmp_path)
        cli.append(app)
    else:
        app = sdk_app_process(app_port, sidecar_port, tmp_path)
        cli.append(app)
        # The app's startup is already probing the sidecar's port: wait until it has tried.
        app.wait_for_output(f"Health check on http://127.0.0.1:{sidecar_port}")
        sidecar = sidecar_process(app_port, sidecar_port, tmp_path)
        cli.append(sidecar)
    app.wait_for_ports(app_port)
    sidecar.wait_for_ports(sidecar_port)
    assert_sdk_actor_hosted(sidecar_port)
    assert sidecar.stop(signal.SIGTERM) == 0
    app.stop(signal.SIGTERM)


# -- stopping while calls hang ---------------------------------------------------------------------

HANGING = """
import asyncio
import pathlib

from fastapi import FastAPI

from dapr_actors_fastapi import ActorRuntime

runtime = ActorRuntime()
app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)


@app.get("/hang")
async def hang() -> None:
    with pathlib.Path("arrived.txt").open("a") as arrived:
        arrived.write("call ")
    await asyncio.Event().wait()  # never answers
"""

# A stop within daprd's 5 s of graceful shutdown, with room for a loaded machine.
STOP_SECONDS = 15.0


async def test_sigterm_stops_run_while_invocations_hang(cli: list[Cli], tmp_path: Path) -> None:
    (tmp_path / "hanging.py").write_text(HANGING)
    app_port, sidecar_port = free_port(), free_port()
    run = Cli(
        [
            "run",
            "hanging:app",
            f"--app-port={app_port}",
            f"--dapr-http-port={sidecar_port}",
            "--state-db=:memory:",
        ],
        tmp_path,
        cwd=tmp_path,
    )
    cli.append(run)
    await asyncio.to_thread(run.wait_for_ports, app_port, sidecar_port)
    arrived = tmp_path / "arrived.txt"
    async with aiohttp.ClientSession(f"http://127.0.0.1:{sidecar_port}") as http:

        async def invoke() -> None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get("/v1.0/invoke/hanging/method/hang") as response:
                    await response.read()

        calls = [asyncio.create_task(invoke()) for _ in range(3)]
        await poll_until(
            lambda: arrived.exists() and arrived.read_text().count("call") == 3,
            what="three invocations to hang in the app",
            seconds=DEADLINE,
        )
        started = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(run.process.wait, STOP_SECONDS)  # TimeoutExpired fails
        assert code == 0, run.output()
        assert time.monotonic() - started < STOP_SECONDS
        await asyncio.wait_for(asyncio.gather(*calls), DEADLINE)  # each got an answer or EOF


async def test_namespace_comes_from_the_environment_and_app_entries_may_name_one(
    tmp_path: Path,
) -> None:
    from .test_invoke import echo_app

    sidecar_port = free_port()
    async with serve(echo_app()) as app_url:
        with (tmp_path / "out.txt").open("w") as out:
            process = await asyncio.create_subprocess_exec(
                # The module, not the console script: the script may import another checkout.
                *[sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli", "sidecar"],
                f"--app-url={app_url}",
                f"--dapr-http-port={sidecar_port}",
                "--state-db=:memory:",
                f"--app=math.testing={app_url}",
                f"--app=other.prod={app_url}",
                cwd=ROOT,
                stdout=out,
                stderr=out,
                env=clean_env(NAMESPACE="testing"),
            )
        try:
            base = f"http://127.0.0.1:{sidecar_port}"
            await wait_until_healthy(base, process)
            async with aiohttp.ClientSession(base) as http:
                for target in ("math", "math.testing", "other.prod"):
                    async with http.get(f"/v1.0/invoke/{target}/method/ping") as r:
                        assert r.status == 200, await r.text()
                        seen = dict((await r.json())["headers"])
                        assert seen["dapr-caller-namespace"] == "testing"
                        assert seen["dapr-callee-app-id"] == target.partition(".")[0]
                async with http.get("/v1.0/invoke/other/method/ping") as r:
                    assert r.status == 500
                    assert "namespace 'testing' is not known" in await r.text()
        finally:
            process.kill()
            await process.wait()
