"""Benchmark dapr_actors_fastapi ("ours") against dapr-ext-fastapi ("peer") and a raw ASGI echo.

    python benchmarks/run.py                        # full run: 3 rounds of 10 s
    python benchmarks/run.py --quick                # smoke run, about a minute
    python benchmarks/run.py --write-readme         # also rewrite benchmarks/README.md results

Every measurement starts a fresh server (uvicorn, 1 worker, pinned to CPU 0) and drives it with
wrk (1 thread, 32 connections, pinned to CPU 1). Rounds alternate the servers and the report
gives medians across rounds, ratios, and the project's targets. See benchmarks/README.md.
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
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "actors.lua"
README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"

SERVERS = ("ours", "peer", "raw")
ACTOR_SERVERS = ("ours", "peer")  # raw has no actors: no activations, no per-actor memory
SERVER_CPU, CLIENT_CPU = "0", "1"
CONNECTIONS = 32
STATELESS_IDS = 1000
WARM_IDS = 100  # live actors before the memory scenario's first RSS reading
BODY = b'{"destination":"Hoth"}'
EXPECTED = {"destination": "Hoth"}
METHOD_PATH = "/actors/x-wing/{id}/method/fly"
LIVE_PATH = "/bench/live-actors"

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
    return Options(**values, write_readme=args.write_readme)


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


class Server:
    """One app under uvicorn (1 worker, pinned to SERVER_CPU); a context manager."""

    def __init__(self, name: str, sidecar_port: int, log_path: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_path
        self.stop_seconds = 0.0
        self._sidecar_port = sidecar_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Server:
        self._start()
        try:
            wait_until(self._accepts, READY_TIMEOUT, f"{self.name} to accept connections")
            self._check_response()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _start(self) -> None:
        command = [
            "taskset", "-c", SERVER_CPU, sys.executable, "-m", "uvicorn", f"benchmarks.apps.{self.name}:app",
            "--app-dir", str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        env = {
            k: v for k, v in os.environ.items() if k not in ("APP_API_TOKEN", "DAPR_HTTP_ENDPOINT")
        }
        env |= {"DAPR_RUNTIME_HOST": "127.0.0.1", "DAPR_HTTP_PORT": str(self._sidecar_port),
                "DAPR_HEALTH_TIMEOUT": "10"}  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

    def _accepts(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise BenchmarkError(
                f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}"
            )
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def _check_response(self) -> None:
        """The one request every server must answer identically before it is measured."""
        status, content_type, body = http_request(
            self.port, "PUT", METHOD_PATH.format(id="ship-0"), BODY
        )
        if (
            status != 200
            or not content_type.startswith("application/json")
            or json.loads(body) != EXPECTED
        ):
            raise BenchmarkError(
                f"{self.name} answered {status} {content_type!r} {body!r}, expected 200 {BODY!r}"
            )

    def _stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        started = time.monotonic()
        self._process.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown, lifespan included
        try:
            self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise BenchmarkError(
                f"{self.name} ignored SIGTERM for {STOP_TIMEOUT:.0f}s and was killed"
            ) from None
        self.stop_seconds = time.monotonic() - started

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

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


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

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)


def wrk_command(port: int, seconds: float, script_args: list[str]) -> list[str]:
    return [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s",
        "--latency", "--timeout", "10s", "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{port}",
        "--", *script_args,
    ]  # fmt: skip


def parse_wrk(output: str, server: str) -> WrkResult:
    """The script's BENCH_RESULT line; raises on non-2xx responses or socket errors."""
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
    )
    if non_2xx is not None or any(errors) or result.requests == 0:
        raise BenchmarkError(f"wrk against {server} saw errors or no responses:\n{output}")
    return result


def run_wrk(server: Server, seconds: float, script_args: list[str]) -> WrkResult:
    completed = subprocess.run(
        wrk_command(server.port, seconds, script_args),
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchmarkError(
            f"wrk failed ({completed.returncode}):\n{completed.stdout}{completed.stderr}"
        )
    return parse_wrk(completed.stdout, server.name)


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


# -- scenarios ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    options: Options
    sidecar: StubSidecar
    run_id: str  # random per run: activation ids are unique across the whole run
    log_dir: Path


Sample = dict[str, float]


def stateless(context: Context, server: Server, tag: str) -> Sample:
    """Requests/s over STATELESS_IDS live actors, after a warm-up that activates them."""
    ids = str(STATELESS_IDS)
    run_wrk(server, context.options.warmup, ["stateless", ids])
    result = run_wrk(server, context.options.duration, ["stateless", ids])
    return {"rps": result.rate, "p50_ms": result.p50_us / 1000, "p99_ms": result.p99_us / 1000}


def activations(context: Context, server: Server, tag: str) -> Sample:
    """Activations/s: every request goes to a never-seen actor id."""
    run_wrk(server, context.options.warmup, ["activate", f"{context.run_id}-{tag}-warm"])
    result = run_wrk(server, context.options.duration, ["activate", f"{context.run_id}-{tag}"])
    return {"rps": result.rate, "p50_ms": result.p50_us / 1000, "p99_ms": result.p99_us / 1000}


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


Scenario = Callable[[Context, Server, str], Sample]
SCENARIOS: dict[str, tuple[Scenario, tuple[str, ...]]] = {
    "stateless": (stateless, SERVERS),
    "activations": (activations, ACTOR_SERVERS),
    "memory": (memory, ACTOR_SERVERS),
}

# results[scenario][server] is one Sample per round
Results = dict[str, dict[str, list[Sample]]]


def run_one(context: Context, scenario: str, server_name: str, round_no: int) -> Sample:
    measure, _ = SCENARIOS[scenario]
    tag = f"r{round_no}-{scenario}-{server_name}"
    log_path = context.log_dir / f"{tag}.log"
    # The sidecar may only be called while the server starts (the peer's health wait).
    with (
        Server(server_name, context.sidecar.port, log_path) as server,
        context.sidecar.forbid_calls(server_name),
    ):
        sample = measure(context, server, tag)
    sample["stop_s"] = server.stop_seconds  # shutdown deactivates every live actor (ours)
    if server.stop_seconds > SLOW_STOP:
        log(f"  note: {server_name} took {server.stop_seconds:.1f}s to shut down after {scenario}")
    return sample


def run_rounds(context: Context) -> Results:
    results: Results = {
        name: {server: [] for server in servers} for name, (_, servers) in SCENARIOS.items()
    }
    for round_no in range(1, context.options.rounds + 1):
        for scenario, (_, servers) in SCENARIOS.items():
            # Odd rounds run ours first, even rounds last: the machine's slow drift then
            # favours no server (ABBA order).
            for server_name in servers if round_no % 2 else servers[::-1]:
                sample = run_one(context, scenario, server_name, round_no)
                results[scenario][server_name].append(sample)
                log(
                    f"[round {round_no}/{context.options.rounds}] {scenario:<11} {server_name:<4} {describe(sample)}"
                )
    return results


def describe(sample: Sample) -> str:
    return "  ".join(f"{key}={value:,.2f}" for key, value in sample.items())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- report ---------------------------------------------------------------------------------------


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


def targets(results: Results) -> list[Target]:
    def ratio(scenario: str, metric: str, other: str) -> float:
        return median(results, scenario, "ours", metric) / median(results, scenario, other, metric)

    return [
        Target("stateless throughput, ours/peer", ratio("stateless", "rps", "peer"), 2.5),
        Target("stateless throughput, ours/raw", ratio("stateless", "rps", "raw"), 0.75),
        Target("activations/s, ours/peer", ratio("activations", "rps", "peer"), 2.0),
        Target(
            "memory per actor, ours/peer",
            ratio("memory", "bytes_per_actor", "peer"),
            1.0,
            at_most=True,
        ),
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
        values = {s: median(results, scenario, s, metric) for s in results[scenario]}
        cells = [fmt.format(values[s]) if s in values else "n/a" for s in SERVERS]
        ratios = [
            f"{values['ours'] / values[s]:.2f}x" if s in values else "n/a" for s in ("peer", "raw")
        ]
        lines.append(f"| {label} | {' | '.join(cells)} | {' | '.join(ratios)} |")
    return "\n".join(lines)


def targets_table(results: Results) -> str:
    lines = ["| Target | Required | Measured | Result |", "|---|---:|---:|---|"]
    for target in targets(results):
        verdict = "PASS" if target.passed else "**MISS**"
        lines.append(f"| {target.label} | {target.rule} | {target.ratio:.2f}x | {verdict} |")
    return "\n".join(lines)


def rounds_table(results: Results) -> str:
    lines = ["| Scenario | Server | Per round |", "|---|---|---|"]
    for scenario, metric, label, fmt in ROWS:
        if metric not in ("rps", "bytes_per_actor"):
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
        "dapr",
        "dapr-ext-fastapi",
    ]
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in packages},
        "dapr-actors-fastapi": f"{version('dapr-actors-fastapi')} (commit {library_commit()})",
        "wrk": (wrk.stdout + wrk.stderr).split("Copyright")[0].strip(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
    }


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


def report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    software = ", ".join(f"{name} {env[name]}" for name in (
        "python", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic",
        "dapr-ext-fastapi", "dapr", "dapr-actors-fastapi",
    ))  # fmt: skip
    return "\n\n".join([
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`: {options.rounds} round(s), "
        f"{options.duration} s per measured run after {options.warmup} s of warm-up, "
        f"memory at {options.actors:,} actors.",
        f"Machine: {env['cpu']}, {env['cores']} cores, Linux {env['kernel']}. Software: {software}; {env['wrk']}.",
        results_table(results),
        targets_table(results),
        "<details><summary>Every round</summary>\n\n" + rounds_table(results) + "\n\n</details>",
    ])  # fmt: skip


def write_readme(section: str) -> None:
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise BenchmarkError(f"{README} lacks the {README_START} ... {README_END} markers")
    README.write_text(f"{text[: start + len(README_START)]}\n{section}\n{text[end:]}")


def save_json(results: Results, options: Options, env: dict[str, str], run_id: str) -> Path:
    path = RESULTS_DIR / f"{run_id}.json"
    target_data = [asdict(t) | {"passed": t.passed} for t in targets(results)]
    payload = {
        "options": asdict(options),
        "environment": env,
        "results": results,
        "targets": target_data,
    }
    path.write_text(json.dumps(payload, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    # The harness (and its stub sidecar) shares the client core with wrk, never the server's.
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    with StubSidecar() as sidecar:
        context = Context(options, sidecar, run_id, RESULTS_DIR / run_id)
        try:
            results = run_rounds(context)
        except BenchmarkError as error:
            log(f"BENCHMARK FAILED: {error}\n(server logs: {context.log_dir})")
            return 1
    env = environment()
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = report(results, options, env, command.strip())
    print(section)
    log(f"raw results: {save_json(results, options, env, run_id)}")
    if options.write_readme:
        write_readme(section)
        log(f"results written to {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
