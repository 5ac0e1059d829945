"""Benchmark dapr_actors_fastapi ("ours") against dapr-ext-fastapi ("peer") and a raw ASGI echo,
a stateful turn of ours and the peer against a stub sidecar, and the package's dev sidecar (its
overhead per call, its state transactions).

    python benchmarks/run.py                        # full run: 3 rounds of 10 s, every scenario
    python benchmarks/run.py --quick                # smoke run, a minute or two
    python benchmarks/run.py --scenarios sidecar,state   # only the dev sidecar's scenarios
    python benchmarks/run.py --scenarios stateful   # only the stateful turn (stub sidecar)
    python benchmarks/run.py --write-readme         # also rewrite benchmarks/README.md results

Every measurement starts fresh servers (uvicorn, 1 worker, pinned to CPU 0; the dev sidecar
too; the stateful scenario's stub sidecar on CPU 1) and drives them with wrk (1 thread, 32
connections, pinned to CPU 1). Rounds alternate
the servers and the report gives medians across rounds, ratios, and the project's targets.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "actors.lua"
SIDECAR_LUA = BENCH_DIR / "sidecar.lua"
STATEFUL_LUA = BENCH_DIR / "stateful.lua"
README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"

SERVERS = ("ours", "peer", "raw")
ACTOR_SERVERS = ("ours", "peer")  # raw has no actors: no activations, no per-actor memory
SERVER_CPU, CLIENT_CPU = "0", "1"
CONNECTIONS = 32
STATELESS_IDS = 1000
WARM_IDS = 100  # live actors before the memory scenario's first RSS reading
BODY = b'{"destination":"Hoth"}'
EXPECTED = {"destination": "Hoth"}
METHOD_PATH = "/actors/x-wing/{id}/method/fly"
SIDECAR_METHOD_PATH = "/v1.0" + METHOD_PATH
STATE_VALUE_PATH = "/v1.0/actors/x-wing/{id}/state/k"  # the key sidecar.lua's upserts write
STATE_VALUE = {"n": 1}
LIVE_PATH = "/bench/live-actors"
COUNT_PATH = "/actors/x-wing/{id}/method/count"  # the stateful method of both actor apps
STUB_STATS_PATH = "/stub/stats"
STUB_COUNT_PATH = "/v1.0/actors/x-wing/{id}/state/count"  # the stored count, on the stub
SIDECAR_APP_ID = "bench"

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0  # ours deactivates every live actor at shutdown (100k in the memory run)
SLOW_STOP = 5.0


class BenchmarkError(RuntimeError):
    """A run that must not produce numbers: a server that failed, non-2xx, a sidecar call."""


# -- options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    duration: int  # seconds of each measured wrk run
    warmup: int  # seconds of the unmeasured wrk run before it, on the same server
    rounds: int
    actors: int  # actors activated in the memory scenario
    write_readme: bool
    scenarios: tuple[str, ...]  # in SCENARIOS order


FULL = {"duration": 10, "warmup": 3, "rounds": 3, "actors": 100_000}
QUICK = {"duration": 3, "warmup": 1, "rounds": 1, "actors": 20_000}


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--duration", type=int, help=f"seconds per measured run (default {FULL['duration']})"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"seconds of warm-up per run (default {FULL['warmup']})"
    )
    parser.add_argument(
        "--rounds", type=int, help=f"rounds over all servers (default {FULL['rounds']})"
    )
    parser.add_argument(
        "--actors", type=int, help=f"actors in the memory scenario (default {FULL['actors']})"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios to run (default: all, {','.join(SCENARIOS)})",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite the results in README.md"
    )
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    values = {
        name: default if getattr(args, name) is None else getattr(args, name)
        for name, default in defaults.items()
    }
    if min(values.values()) < 1:
        parser.error("--duration, --warmup, --rounds and --actors must be positive")
    try:
        scenarios = select_scenarios(args.scenarios, args.write_readme)
    except ValueError as error:
        parser.error(str(error))
    return Options(**values, write_readme=args.write_readme, scenarios=scenarios)


def select_scenarios(text: str, write_readme: bool) -> tuple[str, ...]:
    """The named scenarios in SCENARIOS order; a README section is only rewritten whole."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - SCENARIOS.keys()
    if unknown or not names:
        raise ValueError(
            f"--scenarios: unknown {sorted(unknown)}; choose from {', '.join(SCENARIOS)}"
        )
    if write_readme:
        for section in SECTIONS:
            partial = names & set(section.scenarios)
            if partial and partial != set(section.scenarios):
                raise ValueError(
                    f"--write-readme rewrites the {section.name} section whole: run all of "
                    f"{','.join(section.scenarios)}, or drop --write-readme"
                )
    return tuple(name for name in SCENARIOS if name in names)


# -- small HTTP helpers (stdlib only: the harness must not share code with the servers) ---------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, str, bytes]:
    """One request on a fresh connection: (status, content-type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def expect_fly(name: str, answer: tuple[int, str, bytes]) -> None:
    """``fly``'s answer must be 200 ``{"destination":"Hoth"}`` from every server."""
    status, content_type, body = answer
    if (
        status != 200
        or not content_type.startswith("application/json")
        or json.loads(body) != EXPECTED
    ):
        raise BenchmarkError(
            f"{name} answered {status} {content_type!r} {body!r}, expected 200 {BODY!r}"
        )


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# -- stub sidecar ---------------------------------------------------------------------------------


class StubSidecar:
    """Answers 204 to everything and records what it was asked.

    The peer needs it at start-up only: registering an actor type builds the SDK's HTTP client,
    which blocks until ``GET /v1.0/healthz/outbound`` answers 2xx. Any request recorded while
    the peer is being measured fails the run, as a real sidecar call would skew the numbers.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                calls.append(f"{self.command} {self.path}")
                self.send_response(204)
                self.end_headers()

            do_GET = do_PUT = do_POST = do_DELETE = answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the recorded calls are the log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubSidecar:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextlib.contextmanager
    def forbid_calls(self, server: str) -> Iterator[None]:
        before = len(self.calls)
        yield
        if len(self.calls) != before:
            raise BenchmarkError(
                f"{server} called the sidecar while measured: {self.calls[before:]}"
            )


# -- servers --------------------------------------------------------------------------------------


class Process:
    """A server process pinned to ``cpu`` (SERVER_CPU unless a subclass says otherwise), its
    output in a log; a context manager that starts it, waits until it is ready, checks one
    answer, and stops it with SIGTERM."""

    cpu = SERVER_CPU

    def __init__(self, name: str, port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = log_path
        self.stop_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def check(self) -> None:
        """The answer the process must give before it is measured."""

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Self:
        self._start()
        try:
            wait_until(self._alive_and_ready, READY_TIMEOUT, f"{self.name} to be ready")
            self.check()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                ["taskset", "-c", self.cpu, *self.command()],
                stdout=log, stderr=subprocess.STDOUT, env=self.environment(), cwd=REPO_ROOT,
            )  # fmt: skip

    def _alive_and_ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise BenchmarkError(
                f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}"
            )
        return self.ready()

    def _stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        started = time.monotonic()
        self._process.send_signal(signal.SIGTERM)  # graceful shutdown, lifespan included
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise BenchmarkError(
                f"{self.name} ignored SIGTERM for {STOP_TIMEOUT:.0f}s and was killed"
            ) from None
        self.stop_seconds = time.monotonic() - started

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Server(Process):
    """One app of ``benchmarks/apps`` under uvicorn (1 worker)."""

    def __init__(self, name: str, sidecar_port: int, log_path: Path) -> None:
        super().__init__(name, free_port(), log_path)
        self._sidecar_port = sidecar_port

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"benchmarks.apps.{self.name}:app",
            "--app-dir", str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in ("APP_API_TOKEN", "DAPR_HTTP_ENDPOINT")
        }
        return env | {"DAPR_RUNTIME_HOST": "127.0.0.1", "DAPR_HTTP_PORT": str(self._sidecar_port),
                      "DAPR_HEALTH_TIMEOUT": "10"}  # fmt: skip

    def check(self) -> None:
        expect_fly(self.name, http_request(self.port, "PUT", METHOD_PATH.format(id="ship-0"), BODY))

    def live_actors(self) -> int:
        status, _, body = http_request(self.port, "GET", LIVE_PATH)
        if status != 200:
            raise BenchmarkError(f"{self.name} {LIVE_PATH} answered {status}: {body!r}")
        live: int = json.loads(body)["live"]
        return live

    def rss(self) -> int:
        """Resident set size of the server, children included (there are none with 1 worker)."""
        process = psutil.Process(self.pid)
        return sum(p.memory_info().rss for p in (process, *process.children(recursive=True)))


class DevSidecar(Process):
    """The package's dev sidecar, alone in its process, as ``dapr-actors sidecar`` runs it."""

    def __init__(self, app_port: int, port: int, state_db: str, log_path: Path) -> None:
        super().__init__("dev sidecar", port, log_path)
        self._app_port = app_port
        self.state_db = state_db

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli", "sidecar",
            "--app-url", f"http://127.0.0.1:{self._app_port}", "--app-id", SIDECAR_APP_ID,
            "--dapr-http-port", str(self.port), "--state-db", self.state_db,
            "--log-level", "warning",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in ("DAPR_API_TOKEN", "APP_API_TOKEN")}

    def ready(self) -> bool:
        """``/v1.0/healthz`` answers 204 once the app's actor config is loaded (500 before)."""
        try:
            return http_request(self.port, "GET", "/v1.0/healthz")[0] == 204
        except OSError:  # not listening yet
            return False

    def check(self) -> None:
        path = SIDECAR_METHOD_PATH.format(id="ship-0")
        expect_fly(self.name, http_request(self.port, "PUT", path, BODY))

    def active_actors(self) -> int:
        status, _, body = http_request(self.port, "GET", "/v1.0/metadata")
        if status != 200:
            raise BenchmarkError(f"{self.name} /v1.0/metadata answered {status}: {body!r}")
        counts = {entry["type"]: entry["count"] for entry in json.loads(body)["actors"]}
        active: int = counts.get("x-wing", 0)
        return active


class StubProcess(Process):
    """``stub_sidecar.py`` under uvicorn (uvloop, httptools), pinned to CLIENT_CPU with wrk:
    the stateful scenario's sidecar, so that CPU 0 serves the app alone, as next to daprd."""

    cpu = CLIENT_CPU

    def __init__(self, log_path: Path) -> None:
        super().__init__("stub sidecar", free_port(), log_path)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "benchmarks.stub_sidecar:app",
            "--app-dir", str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    def ready(self) -> bool:
        try:
            return http_request(self.port, "GET", STUB_STATS_PATH)[0] == 200
        except OSError:  # not listening yet
            return False

    def stats(self) -> dict[str, int]:
        status, _, body = http_request(self.port, "GET", STUB_STATS_PATH)
        if status != 200:
            raise BenchmarkError(f"{self.name} {STUB_STATS_PATH} answered {status}: {body!r}")
        stats: dict[str, int] = json.loads(body)
        return stats

    def settled_stats(self) -> dict[str, int]:
        """The counters once requests still in flight (wrk's last ones) have landed."""
        previous = self.stats()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            time.sleep(0.1)
            current = self.stats()
            if current == previous:
                return current
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.name} kept receiving requests after wrk ended")
            previous = current


# -- wrk ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_us: int
    p50_us: int
    p99_us: int
    status_errors: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    unexpected_status: int = 0  # sidecar.lua checks every status; actors.lua leaves it to wrk

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)


def wrk_command(
    port: int, seconds: float, script_args: list[str], script: Path = LUA_SCRIPT
) -> list[str]:
    return [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s",
        "--latency", "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}",
        "--", *script_args,
    ]  # fmt: skip


def parse_wrk(output: str, server: str) -> WrkResult:
    """The script's BENCH_RESULT line; raises on non-2xx or unexpected statuses, socket errors."""
    match = re.search(r"^BENCH_RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise BenchmarkError(f"wrk printed no BENCH_RESULT for {server}:\n{output}")
    result = WrkResult(**json.loads(match.group(1)))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = (
        result.status_errors,
        result.connect_errors,
        result.read_errors,
        result.write_errors,
        result.timeouts,
        result.unexpected_status,
    )
    if non_2xx is not None or any(errors) or result.requests == 0:
        raise BenchmarkError(f"wrk against {server} saw errors or no responses:\n{output}")
    return result


def run_wrk(
    target: Process, seconds: float, script_args: list[str], script: Path = LUA_SCRIPT
) -> WrkResult:
    completed = subprocess.run(
        wrk_command(target.port, seconds, script_args, script),
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchmarkError(
            f"wrk failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return parse_wrk(completed.stdout, target.name)


def activate_exactly(server: Server, count: int, prefix: str) -> None:
    """Activate ``count`` new actors with wrk, then end wrk once they are all live.

    The script stops sending after ``count`` activations, but wrk itself sleeps until -d is
    over, so it is interrupted as soon as the server reports the actors live.
    """
    expected = server.live_actors() + count
    budget = 60 + count / 500  # far above what even the slowest server needs
    command = wrk_command(server.port, budget, ["activate", prefix, str(count)])
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as wrk:

        def all_live() -> bool:
            if wrk.poll() is not None:  # it should only end when interrupted below
                raise BenchmarkError(f"wrk ended early:\n{wrk.communicate()[0]}")
            return server.live_actors() >= expected

        try:
            wait_until(all_live, budget, f"{count} activations on {server.name}", 0.25)
        finally:
            wrk.send_signal(signal.SIGINT)  # wrk's own Ctrl-C: stop and print the summary
            output, _ = wrk.communicate(timeout=30)
    parse_wrk(output, server.name)
    live = server.live_actors()
    if live != expected:
        raise BenchmarkError(f"{server.name} has {live} live actors, expected exactly {expected}")


# -- scenarios: ours, peer and raw ----------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    options: Options
    sidecar: StubSidecar
    run_id: str  # random per run: activation ids are unique across the whole run
    log_dir: Path


Sample = dict[str, float]


def latency_sample(result: WrkResult) -> Sample:
    return {"rps": result.rate, "p50_ms": result.p50_us / 1000, "p99_ms": result.p99_us / 1000}


def stateless(context: Context, server: Server, tag: str) -> Sample:
    """Requests/s over STATELESS_IDS live actors, after a warm-up that activates them."""
    ids = str(STATELESS_IDS)
    run_wrk(server, context.options.warmup, ["stateless", ids])
    return latency_sample(run_wrk(server, context.options.duration, ["stateless", ids]))


def activations(context: Context, server: Server, tag: str) -> Sample:
    """Activations/s: every request goes to a never-seen actor id."""
    run_wrk(server, context.options.warmup, ["activate", f"{context.run_id}-{tag}-warm"])
    result = run_wrk(server, context.options.duration, ["activate", f"{context.run_id}-{tag}"])
    return latency_sample(result)


def memory(context: Context, server: Server, tag: str) -> Sample:
    """RSS growth per live actor while ``options.actors`` new actors are activated."""
    # Warm-up: exercise the whole path once (imports, caches, pools) and keep WARM_IDS live.
    run_wrk(server, 1, ["stateless", str(WARM_IDS)])
    wait_until(
        lambda: server.live_actors() == WARM_IDS, 30, f"{WARM_IDS} warm actors on {server.name}"
    )
    before = server.rss()
    activate_exactly(server, context.options.actors, f"{context.run_id}-{tag}")
    after = server.rss()
    return {
        "bytes_per_actor": (after - before) / context.options.actors,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
    }


Measure = Callable[[Context, Server, str], Sample]
Run = Callable[[Context, str, str], Sample]  # (context, variant, tag) -> one round's sample


def on_fresh_server(measure: Measure) -> Run:
    """Run ``measure`` on a fresh server named by the variant, with the stub sidecar."""

    def run(context: Context, server_name: str, tag: str) -> Sample:
        log_path = context.log_dir / f"{tag}.log"
        # The sidecar may only be called while the server starts (the peer's health wait).
        with (
            Server(server_name, context.sidecar.port, log_path) as server,
            context.sidecar.forbid_calls(server_name),
        ):
            sample = measure(context, server, tag)
        sample["stop_s"] = server.stop_seconds  # shutdown deactivates every live actor (ours)
        if server.stop_seconds > SLOW_STOP:
            log(f"  note: {server_name} took {server.stop_seconds:.1f}s to shut down ({tag})")
        return sample

    return run


# -- scenarios: the dev sidecar -------------------------------------------------------------------


@contextlib.contextmanager
def app_with_sidecar(
    context: Context, tag: str, state_db: str
) -> Iterator[tuple[Server, DevSidecar]]:
    """The "ours" app and a dev sidecar in front of it, two processes, both on SERVER_CPU.

    The app gets the sidecar's port as DAPR_HTTP_PORT, as under ``dapr run``.
    """
    sidecar_port = free_port()
    with (
        Server("ours", sidecar_port, context.log_dir / f"{tag}-app.log") as app,
        DevSidecar(app.port, sidecar_port, state_db, context.log_dir / f"{tag}-sidecar.log")
        as sidecar,
    ):  # fmt: skip
        yield app, sidecar


def measured(
    processes: tuple[Server, DevSidecar], target: Process, seconds: int, script_args: list[str]
) -> Sample:
    """One measured sidecar.lua run: latency, and the CPU time app and sidecar spent on it."""
    app, sidecar = processes
    before = app.cpu_seconds(), sidecar.cpu_seconds()
    started = time.monotonic()
    result = run_wrk(target, seconds, script_args, SIDECAR_LUA)
    elapsed = time.monotonic() - started
    app_cpu, sidecar_cpu = (p.cpu_seconds() - b for p, b in zip(processes, before, strict=True))
    us_per_request = 1e6 / result.requests
    return latency_sample(result) | {
        "cpu_us": (app_cpu + sidecar_cpu) * us_per_request,
        "sidecar_cpu_us": sidecar_cpu * us_per_request,
        "busy_pct": 100 * (app_cpu + sidecar_cpu) / elapsed,
    }


def sidecar_overhead(context: Context, variant: str, tag: str) -> Sample:
    """The stateless ``fly`` call, straight to the app ("direct") or through the sidecar."""
    args = ["fly", "app" if variant == "direct" else "sidecar", str(STATELESS_IDS)]
    with app_with_sidecar(context, tag, ":memory:") as (app, sidecar):
        target = app if variant == "direct" else sidecar
        run_wrk(target, context.options.warmup, args, SIDECAR_LUA)
        return measured((app, sidecar), target, context.options.duration, args)


def state_transactions(context: Context, variant: str, tag: str) -> Sample:
    """One-upsert state transactions over STATELESS_IDS active actors, to a file or :memory:."""
    state_db = ":memory:" if variant == "memory" else str(context.log_dir / f"{tag}.db")
    args = ["state", str(STATELESS_IDS)]
    with app_with_sidecar(context, tag, state_db) as (app, sidecar):
        activate_through(sidecar, STATELESS_IDS)
        run_wrk(sidecar, context.options.warmup, args, SIDECAR_LUA)
        sample = measured((app, sidecar), sidecar, context.options.duration, args)
        check_state(sidecar)
    return sample


def activate_through(sidecar: DevSidecar, count: int) -> None:
    """One ``fly`` call through the sidecar to each of ship-0 .. ship-(count-1), then check
    that exactly those are active (the sidecar refuses state writes for inactive actors).

    Each call has its own connection, so that the set-up does not depend on keep-alive
    behaviour (before TCP_NODELAY was set, a reused connection stalled ~40 ms per call).
    """
    for n in range(count):
        path = SIDECAR_METHOD_PATH.format(id=f"ship-{n}")
        expect_fly(sidecar.name, http_request(sidecar.port, "PUT", path, BODY))
    active = sidecar.active_actors()
    if active != count:
        raise BenchmarkError(f"{sidecar.name} has {active} active x-wings, expected {count}")


def check_state(sidecar: DevSidecar) -> None:
    """The upserts landed, and a file database really is in WAL mode."""
    status, _, body = http_request(sidecar.port, "GET", STATE_VALUE_PATH.format(id="ship-0"))
    if status != 200 or json.loads(body) != STATE_VALUE:
        raise BenchmarkError(f"{sidecar.name} state read answered {status} {body!r}")
    if sidecar.state_db != ":memory:" and not Path(sidecar.state_db + "-wal").exists():
        raise BenchmarkError(f"{sidecar.state_db} has no -wal file: not in WAL mode")


# -- scenario: the stateful turn ----------------------------------------------------------------


def stateful_turns(context: Context, server_name: str, tag: str) -> Sample:
    """Turns/s of ``count`` (one state read, one write, one transaction per turn) over
    STATELESS_IDS actors, the app on CPU 0 and a fresh stub sidecar on CPU 1 with wrk.

    The warm-up activates every id (its first turn reads ``count`` from the stub; both
    frameworks cache what they read). The stub's counters around the measured run give the
    turns it saved (the growth of the stored counts) and the sidecar requests per turn.
    """
    ids = [str(STATELESS_IDS)]
    with (
        StubProcess(context.log_dir / f"{tag}-stub.log") as stub,
        Server(server_name, stub.port, context.log_dir / f"{tag}.log") as server,
    ):
        check_stateful(server, stub)
        run_wrk(server, context.options.warmup, ids, STATEFUL_LUA)
        before = stub.settled_stats()
        app_before, stub_before, busy_before = (
            server.cpu_seconds(), stub.cpu_seconds(), cpu_busy_seconds()
        )  # fmt: skip
        started = time.monotonic()
        result = run_wrk(server, context.options.duration, ids, STATEFUL_LUA)
        elapsed = time.monotonic() - started
        app_cpu, stub_cpu = server.cpu_seconds() - app_before, stub.cpu_seconds() - stub_before
        busy = [b - a for a, b in zip(busy_before, cpu_busy_seconds(), strict=True)]
        after = stub.settled_stats()
    check_stub(stub.name, after)
    turns = after["count_total"] - before["count_total"]
    # Every 200 wrk counted is a saved turn; up to CONNECTIONS more were still in flight when
    # wrk stopped, and landed before the counters settled.
    if not result.requests <= turns <= result.requests + CONNECTIONS:
        raise BenchmarkError(
            f"{server_name}: the stub saved {turns} turns while wrk counted {result.requests} "
            f"answers: lost or extra state writes"
        )
    return latency_sample(result) | {
        "transactions_per_turn": (after["transactions"] - before["transactions"]) / turns,
        "reads_per_turn": (after["reads"] - before["reads"]) / turns,
        "app_cpu_us": app_cpu * 1e6 / turns,
        "stub_cpu_us": stub_cpu * 1e6 / turns,
        "app_busy_pct": 100 * app_cpu / elapsed,
        "cpu0_other_pct": 100 * max(0.0, busy[int(SERVER_CPU)] - app_cpu) / elapsed,
        "cpu1_busy_pct": 100 * busy[int(CLIENT_CPU)] / elapsed,
    }


def check_stateful(server: Server, stub: StubProcess) -> None:
    """Before timing: two turns on a fresh actor answer 1 then 2, the stub stored 2, and the
    bodies it received were valid transactions."""
    path = COUNT_PATH.format(id="check-0")
    for expected in (1, 2):
        status, content_type, body = http_request(server.port, "PUT", path)
        if status != 200 or json.loads(body) != expected:
            raise BenchmarkError(
                f"{server.name} count answered {status} {content_type!r} {body!r}, "
                f"expected 200 {expected}"
            )
    status, _, body = http_request(stub.port, "GET", STUB_COUNT_PATH.format(id="check-0"))
    if status != 200 or json.loads(body) != 2:
        raise BenchmarkError(f"{stub.name} holds {status} {body!r} for check-0's count, not 2")
    check_stub(stub.name, stub.settled_stats())


def check_stub(name: str, stats: dict[str, int]) -> None:
    wrong = {key: stats[key] for key in ("invalid", "unexpected", "count_skips") if stats[key]}
    if wrong:
        raise BenchmarkError(f"{name} saw {wrong} (see its log)")


def cpu_busy_seconds() -> list[float]:
    """Per CPU, the seconds it has been busy (not idle nor waiting for I/O) since boot."""
    return [
        sum(times) - times.idle - getattr(times, "iowait", 0.0)
        for times in psutil.cpu_times(percpu=True)
    ]


# -- registry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    run: Run
    variants: tuple[str, ...]  # servers or set-ups, in odd rounds' order (even: reversed)


SCENARIOS: dict[str, Scenario] = {
    "stateless": Scenario(on_fresh_server(stateless), SERVERS),
    "activations": Scenario(on_fresh_server(activations), ACTOR_SERVERS),
    "memory": Scenario(on_fresh_server(memory), ACTOR_SERVERS),
    "sidecar": Scenario(sidecar_overhead, ("direct", "sidecar")),
    "state": Scenario(state_transactions, ("memory", "file")),
    "stateful": Scenario(stateful_turns, ACTOR_SERVERS),
}

# results[scenario][variant] is one Sample per round
Results = dict[str, dict[str, list[Sample]]]


def run_rounds(context: Context) -> Results:
    scenarios = context.options.scenarios
    results: Results = {
        name: {variant: [] for variant in SCENARIOS[name].variants} for name in scenarios
    }
    for round_no in range(1, context.options.rounds + 1):
        for name in scenarios:
            variants = SCENARIOS[name].variants
            # Odd rounds run the first variant first, even rounds last: the machine's slow
            # drift then favours none (ABBA order).
            for variant in variants if round_no % 2 else variants[::-1]:
                tag = f"r{round_no}-{name}-{variant}"
                sample = SCENARIOS[name].run(context, variant, tag)
                results[name][variant].append(sample)
                log(
                    f"[round {round_no}/{context.options.rounds}] {name:<11} {variant:<7} {describe(sample)}"
                )
    return results


def describe(sample: Sample) -> str:
    return "  ".join(f"{key}={value:,.2f}" for key, value in sample.items())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- report: ours, peer and raw -------------------------------------------------------------------


def median(results: Results, scenario: str, server: str, metric: str) -> float:
    return statistics.median(sample[metric] for sample in results[scenario][server])


@dataclass(frozen=True)
class Target:
    label: str
    ratio: float
    threshold: float
    at_most: bool = False  # memory: lower is better

    @property
    def passed(self) -> bool:
        return self.ratio <= self.threshold if self.at_most else self.ratio >= self.threshold

    @property
    def rule(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.threshold:g}x"


TARGETS = [  # label, scenario, metric, ours / which server, threshold, lower is better
    ("stateless throughput, ours/peer", "stateless", "rps", "peer", 2.5, False),
    ("stateless throughput, ours/raw", "stateless", "rps", "raw", 0.75, False),
    ("activations/s, ours/peer", "activations", "rps", "peer", 2.0, False),
    ("memory per actor, ours/peer", "memory", "bytes_per_actor", "peer", 1.0, True),
    ("stateful turns/s, ours/peer", "stateful", "rps", "peer", 2.5, False),
]


def targets(results: Results, scenarios: tuple[str, ...] | None = None) -> list[Target]:
    """The targets of the scenarios that ran (of ``scenarios`` only, when given)."""
    return [
        Target(
            label,
            median(results, scenario, "ours", metric) / median(results, scenario, other, metric),
            threshold,
            at_most,
        )
        for label, scenario, metric, other, threshold, at_most in TARGETS
        if scenario in results and (scenarios is None or scenario in scenarios)
    ]


ROWS = [  # scenario, metric, label, format
    ("stateless", "rps", "Stateless method call: requests/s", "{:,.0f}"),
    ("stateless", "p50_ms", "Stateless method call: p50 latency (ms)", "{:.2f}"),
    ("stateless", "p99_ms", "Stateless method call: p99 latency (ms)", "{:.2f}"),
    ("activations", "rps", "Activations/s", "{:,.0f}"),
    ("activations", "p50_ms", "Activation: p50 latency (ms)", "{:.2f}"),
    ("activations", "p99_ms", "Activation: p99 latency (ms)", "{:.2f}"),
    ("memory", "bytes_per_actor", "RSS per live actor (bytes)", "{:,.0f}"),
    ("memory", "rss_before_mb", "RSS after warm-up, before activating (MB)", "{:.1f}"),
]


def results_table(results: Results) -> str:
    lines = [
        "| Measurement (median of rounds) | ours | peer | raw | ours/peer | ours/raw |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for scenario, metric, label, fmt in ROWS:
        if scenario not in results:
            continue
        values = {s: median(results, scenario, s, metric) for s in results[scenario]}
        cells = [fmt.format(values[s]) if s in values else "n/a" for s in SERVERS]
        ratios = [
            f"{values['ours'] / values[s]:.2f}x" if s in values else "n/a" for s in ("peer", "raw")
        ]
        lines.append(f"| {label} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    return "\n".join(lines)


def targets_table(results: Results, scenarios: tuple[str, ...], extra: tuple[str, ...] = ()) -> str:
    lines = ["| Target | Required | Measured | Result |", "|---|---:|---:|---|"]
    for target in targets(results, scenarios):
        lines.append(
            f"| {target.label} | {target.rule} | {target.ratio:.2f}x | {verdict(target.passed)} |"
        )
    return "\n".join([*lines, *extra])


def verdict(passed: bool) -> str:
    return "PASS" if passed else "**MISS**"


def rounds_table(results: Results) -> str:
    lines = ["| Scenario | Server | Per round |", "|---|---|---|"]
    for scenario, metric, label, fmt in ROWS:
        if scenario not in results or metric not in ("rps", "bytes_per_actor"):
            continue
        by_server = {
            server: [sample[metric] for sample in samples]
            for server, samples in results[scenario].items()
        }
        for server, values in by_server.items():
            lines.append(f"| {label} | {server} | {', '.join(fmt.format(v) for v in values)} |")
        for other in ("peer", "raw"):
            if other in by_server:
                ratios = (
                    f"{o / p:.2f}x"
                    for o, p in zip(by_server["ours"], by_server[other], strict=True)
                )
                lines.append(f"| {label} | ours/{other} | {', '.join(ratios)} |")
    return "\n".join(lines)


def comparison_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    software = software_line(env, (
        "python", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
        "dapr-ext-fastapi", "dapr", "dapr-actors-fastapi",
    ))  # fmt: skip
    memory_note = f", memory at {options.actors:,} actors" if "memory" in results else ""
    return "\n\n".join([
        run_line(options, env, command, memory_note),
        f"Machine: {machine_line(env)}. Software: {software}.",
        results_table(results),
        targets_table(results, ("stateless", "activations", "memory")),
        "<details><summary>Every round</summary>\n\n" + rounds_table(results) + "\n\n</details>",
    ])  # fmt: skip


# -- report: the dev sidecar ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """How a two-variant scenario is tabled: ``other`` next to ``base``, ratio other/base."""

    label: str
    base: tuple[str, str]  # variant, column header
    other: tuple[str, str]
    ratio_header: str
    metrics: tuple[str, ...]


PAIRS = {
    "sidecar": Pair(
        "`fly` call", ("direct", "straight to app"), ("sidecar", "through sidecar"),
        "sidecar/direct", ("rps", "p50_ms", "p99_ms", "cpu_us", "sidecar_cpu_us", "busy_pct"),
    ),
    "state": Pair(
        "State transaction (1 upsert)", ("memory", "`:memory:`"), ("file", "file (WAL)"),
        "file/`:memory:`", ("rps", "p50_ms", "p99_ms", "cpu_us", "busy_pct"),
    ),
}  # fmt: skip

METRICS = {  # metric: label, format, whether a ratio means anything
    "rps": ("requests/s", "{:,.0f}", True),
    "p50_ms": ("p50 latency (ms)", "{:.2f}", True),
    "p99_ms": ("p99 latency (ms)", "{:.2f}", True),
    "cpu_us": ("CPU per request, app + sidecar (µs)", "{:.0f}", True),
    "sidecar_cpu_us": ("CPU per request, sidecar alone (µs)", "{:.0f}", False),
    "busy_pct": ("CPU 0 busy with app + sidecar (%)", "{:.0f}", False),
}


def pair_table(results: Results, scenario: str) -> str:
    pair = PAIRS[scenario]
    (base, base_header), (other, other_header) = pair.base, pair.other
    lines = [
        f"| {pair.label} (median of rounds) | {base_header} | {other_header} | {pair.ratio_header} |",
        "|---|---:|---:|---:|",
    ]
    for metric in pair.metrics:
        label, fmt, has_ratio = METRICS[metric]
        a, b = (median(results, scenario, v, metric) for v in (base, other))
        ratio = f"{b / a:.2f}x" if has_ratio else "n/a"
        lines.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
    return "\n".join(lines)


def pair_rounds_table(results: Results) -> str:
    lines = ["| Scenario | Variant | Per round |", "|---|---|---|"]
    for scenario, pair in PAIRS.items():
        if scenario not in results:
            continue
        label = f"{pair.label}: requests/s"
        per_round = {
            v: [s["rps"] for s in results[scenario][v]] for v, _ in (pair.base, pair.other)
        }
        for variant, header in (pair.base, pair.other):
            values = ", ".join(f"{v:,.0f}" for v in per_round[variant])
            lines.append(f"| {label} | {header} | {values} |")
        ratios = (
            f"{b / a:.2f}x"
            for a, b in zip(per_round[pair.base[0]], per_round[pair.other[0]], strict=True)
        )
        lines.append(f"| {label} | {pair.ratio_header} | {', '.join(ratios)} |")
    return "\n".join(lines)


def sidecar_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    software = software_line(env, (
        "python", "starlette", "uvicorn", "uvloop", "httptools", "aiohttp", "sqlite",
        "dapr-actors-fastapi",
    ))  # fmt: skip
    tables = [pair_table(results, scenario) for scenario in PAIRS if scenario in results]
    return "\n\n".join([
        run_line(options, env, command),
        f"Machine: {machine_line(env)}. Software: {software}.",
        *tables,
        "<details><summary>Every round</summary>\n\n" + pair_rounds_table(results)
        + "\n\n</details>",
    ])  # fmt: skip


# -- report: the stateful turn ----------------------------------------------------------------


STATEFUL_ROWS = [  # metric, label, format, whether ours/peer means anything
    ("rps", "turns/s", "{:,.0f}", True),
    ("p50_ms", "p50 latency (ms)", "{:.2f}", True),
    ("p99_ms", "p99 latency (ms)", "{:.2f}", True),
    ("transactions_per_turn", "state transactions sent to the sidecar per turn", "{:.2f}", True),
    ("reads_per_turn", "state reads sent to the sidecar per turn", "{:.2f}", False),
    ("app_cpu_us", "app CPU per turn (µs)", "{:.0f}", True),
    ("stub_cpu_us", "stub sidecar CPU per turn (µs)", "{:.0f}", True),
    ("app_busy_pct", "CPU 0 busy with the app (%)", "{:.0f}", False),
    ("cpu0_other_pct", "CPU 0 busy with anything else (%)", "{:.0f}", False),
    ("cpu1_busy_pct", "CPU 1 busy: wrk, stub sidecar, harness (%)", "{:.0f}", False),
]
STATEFUL_PER_ROUND = [  # metric, label, format
    ("rps", "turns/s", "{:,.0f}"),
    ("transactions_per_turn", "transactions per turn", "{:.3f}"),
]


def stateful_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    software = software_line(env, (
        "python", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
        "aiohttp", "dapr-ext-fastapi", "dapr", "dapr-actors-fastapi",
    ))  # fmt: skip
    runs = results["stateful"]
    lines = [
        "| Stateful turn (median of rounds) | ours | peer | ours/peer |",
        "|---|---:|---:|---:|",
    ]
    for metric, label, fmt, has_ratio in STATEFUL_ROWS:
        ours, peer = (median(results, "stateful", s, metric) for s in ACTOR_SERVERS)
        ratio = f"{ours / peer:.2f}x" if has_ratio and peer else "n/a"
        lines.append(f"| {label} | {fmt.format(ours)} | {fmt.format(peer)} | {ratio} |")
    # Every round's count, not the median: one turn saved twice or not at all is a bug.
    per_turn = [sample["transactions_per_turn"] for sample in runs["ours"]]
    one_each = all(abs(value - 1) < 1e-9 for value in per_turn)
    extra = (
        f"| sidecar transactions per turn, ours (every round) | = 1 | "
        f"{', '.join(f'{v:.3f}' for v in per_turn)} | {verdict(one_each)} |",
    )
    rounds = ["| Metric | Server | Per round |", "|---|---|---|"]
    for metric, label, fmt in STATEFUL_PER_ROUND:
        for server in ACTOR_SERVERS:
            values = ", ".join(fmt.format(sample[metric]) for sample in runs[server])
            rounds.append(f"| {label} | {server} | {values} |")
    ratios = (
        f"{o['rps'] / p['rps']:.2f}x" for o, p in zip(runs["ours"], runs["peer"], strict=True)
    )
    rounds.append(f"| turns/s | ours/peer | {', '.join(ratios)} |")
    return "\n\n".join([
        run_line(options, env, command),
        f"Machine: {machine_line(env)}. Software: {software}.",
        "\n".join(lines),
        targets_table(results, ("stateful",), extra),
        "<details><summary>Every round</summary>\n\n" + "\n".join(rounds) + "\n\n</details>",
    ])  # fmt: skip


# -- report: common -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A results section of README.md: its scenarios, how it is written, its markers."""

    name: str
    scenarios: tuple[str, ...]
    render: Callable[[Results, Options, dict[str, str], str], str]

    @property
    def markers(self) -> tuple[str, str]:
        prefix = "results" if self.name == "comparison" else f"{self.name}-results"
        return f"<!-- {prefix}:start -->", f"<!-- {prefix}:end -->"


SECTIONS = (
    Section("comparison", ("stateless", "activations", "memory"), comparison_report),
    Section("sidecar", ("sidecar", "state"), sidecar_report),
    Section("stateful", ("stateful",), stateful_report),
)


def run_line(options: Options, env: dict[str, str], command: str, detail: str = "") -> str:
    return (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`: {options.rounds} round(s), "
        f"{options.duration} s per measured run after {options.warmup} s of warm-up{detail}. "
        f"Load average (1 min): {env['load_before']} before, {env['load_after']} after."
    )


def machine_line(env: dict[str, str]) -> str:
    return f"{env['cpu']}, {env['cores']} cores, Linux {env['kernel']}"


def software_line(env: dict[str, str], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {env[name]}" for name in names) + f"; {env['wrk']}"


def environment() -> dict[str, str]:
    def version(distribution: str) -> str:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    packages = [
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "aiohttp",
        "dapr",
        "dapr-ext-fastapi",
    ]
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in packages},
        "sqlite": sqlite3.sqlite_version,
        "dapr-actors-fastapi": f"{version('dapr-actors-fastapi')} (commit {library_commit()})",
        "wrk": (wrk.stdout + wrk.stderr).split("Copyright")[0].strip(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
    }


def load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def library_commit() -> str:
    """The checked-out commit, marked dirty if the library's files differ from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--", "dapr_actors_fastapi") else "")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def write_readme(section: str, markers: tuple[str, str]) -> None:
    start_marker, end_marker = markers
    text = README.read_text()
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise BenchmarkError(f"{README} lacks the {start_marker} ... {end_marker} markers")
    README.write_text(f"{text[: start + len(start_marker)]}\n{section}\n{text[end:]}")


def save_json(results: Results, options: Options, env: dict[str, str], run_id: str) -> Path:
    path = RESULTS_DIR / f"{run_id}.json"
    target_data = [asdict(t) | {"passed": t.passed} for t in targets(results)]
    payload = {
        "options": asdict(options),
        "environment": env,
        "results": results,
        "targets": target_data,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    # The harness (and its stub sidecar) shares the client core with wrk, never the server's.
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    load_before = load_average()
    with StubSidecar() as sidecar:
        context = Context(options, sidecar, run_id, RESULTS_DIR / run_id)
        try:
            results = run_rounds(context)
        except BenchmarkError as error:
            log(f"BENCHMARK FAILED: {error}\n(server logs: {context.log_dir})")
            return 1
    env = environment() | {"load_before": load_before, "load_after": load_average()}
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for section in SECTIONS:
        if not any(scenario in results for scenario in section.scenarios):
            continue
        text = section.render(results, options, env, command.strip())
        print(text + "\n")
        if options.write_readme:
            write_readme(text, section.markers)
            log(f"{section.name} results written to {README}")
    log(f"raw results: {save_json(results, options, env, run_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
