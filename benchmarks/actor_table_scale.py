"""What a call through the dev sidecar costs with 100,000 active actors against 1,000 (issue #12:
at most 1.1 times as much).

    python benchmarks/actor_table_scale.py                        # 1k and 100k, 3 rounds of 10 s
    python benchmarks/actor_table_scale.py --sizes 1000,20000 --rounds 1 --duration 5

For each size and round: a fresh ``benchmarks/apps/table.py`` under uvicorn (pinned to CPU 1; it
asks for an idle scan every second) and the dev sidecar in front of it (its CLI, a fresh SQLite
file, pinned to CPU 0), then wrk (1 thread, 32 connections, CPU 1) calling
``PUT /v1.0/actors/x-wing/ship-{n}/method/fly`` round robin over ``n < size`` through the
sidecar (``sidecar.lua``, which checks every status). Warm-up calls each actor once (checking
that the sidecar reports them all active), then runs wrk for 5 s; then one measured run. Reports the sidecar's CPU per call (utime + stime
from ``/proc``, which holds steady when requests per second swing), requests per second and
wrk's p50/p99 latency; medians per size, and each size's CPU per call against the first's.
Needs Linux, ``taskset`` and ``wrk``; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from benchmarks.reminder_burst import cpu_seconds, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
SIDECAR_LUA = REPO_ROOT / "benchmarks" / "sidecar.lua"
SIDECAR_CPU, CLIENT_CPU = "0", "1"  # the app shares the client's CPU: the sidecar is measured
READY_TIMEOUT = 60.0
WARMUP_SECONDS = 5.0  # of wrk after every actor is active
ACTIVATING_CALLS = 32  # in flight while activating


@dataclass(frozen=True)
class Run:
    size: int
    requests: int
    seconds: float
    sidecar_cpu: float  # seconds
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_per_call_us(self) -> float:
        return self.sidecar_cpu / self.requests * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="active actors, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs: list[Run] = []
    for _ in range(args.rounds):
        for size in sizes:  # alternating, so that a slow spell of the machine hits every size
            run = measure(size, args.duration)
            print(describe(run), flush=True)
            runs.append(run)
    report(sizes, runs)
    return 0


def measure(size: int, duration: float) -> Run:
    with tempfile.TemporaryDirectory() as folder, servers(Path(folder)) as (url, sidecar_pid):
        warm_up(url, size)
        cpu = cpu_seconds(sidecar_pid)
        result = wrk(url, size, duration)
        sidecar_cpu = cpu_seconds(sidecar_pid) - cpu
    return Run(
        size,
        result["requests"],
        result["duration_us"] / 1e6,
        sidecar_cpu,
        result["p50_us"] / 1000,
        result["p99_us"] / 1000,
    )


@contextlib.contextmanager
def servers(folder: Path) -> Iterator[tuple[str, int]]:
    """The table app and the dev sidecar, pinned; yields (sidecar URL, sidecar pid)."""
    app_port, sidecar_port = str(free_port()), str(free_port())
    env = {**os.environ, "DAPR_HTTP_PORT": sidecar_port, "PYTHONPATH": str(REPO_ROOT)}
    app = [
        "taskset",
        "-c",
        CLIENT_CPU,
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.apps.table:app",
    ]
    app += ["--port", app_port, "--no-access-log", "--log-level", "warning"]
    sidecar = [
        "taskset",
        "-c",
        SIDECAR_CPU,
        sys.executable,
        "-m",
        "dapr_actors_fastapi.sidecar.cli",
    ]
    sidecar += ["sidecar", f"--app-url=http://127.0.0.1:{app_port}"]
    sidecar += [f"--dapr-http-port={sidecar_port}", f"--state-db={folder / 'state.db'}"]
    sidecar += ["--log-level=warning"]
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, env=env) for command in (app, sidecar)]
    try:
        url = f"http://127.0.0.1:{sidecar_port}"
        wait_ready(url)
        yield url, processes[1].pid
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/v1.0/healthz") as answer:
            if answer.status == 204:
                return
        time.sleep(0.1)  # a readiness poll with a deadline
    raise SystemExit(f"the sidecar was not ready after {READY_TIMEOUT:.0f} s")


def warm_up(url: str, size: int) -> None:
    """Call each of ``size`` actors once (activating it), then run wrk once round robin.

    Not wrk alone: each wrk run starts again at ``ship-0``, so a run shorter than a lap would
    never reach the last ids."""
    asyncio.run(activate(url, size))
    if active_actors(url) != size:
        raise SystemExit(f"BENCHMARK FAILED: {active_actors(url)} actors active, expected {size}")
    wrk(url, size, WARMUP_SECONDS)


async def activate(url: str, size: int) -> None:
    ids = iter(range(size))
    body = b'{"destination":"Hoth"}'
    async with aiohttp.ClientSession(url) as http:

        async def worker() -> None:
            for n in ids:
                path = f"/v1.0/actors/x-wing/ship-{n}/method/fly"
                async with http.put(path, data=body) as response:
                    if response.status != 200:
                        raise SystemExit(f"ship-{n}: {response.status} {await response.text()}")

        await asyncio.gather(*(worker() for _ in range(ACTIVATING_CALLS)))


def active_actors(url: str) -> int:
    with urllib.request.urlopen(url + "/v1.0/metadata") as answer:
        metadata = json.load(answer)
    return sum(entry["count"] for entry in metadata["actors"])


def wrk(url: str, size: int, duration: float) -> dict[str, int]:
    command = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c32", f"-d{duration:g}s"]
    command += ["--timeout", "10s", "-s", str(SIDECAR_LUA), url, "--", "fly", "sidecar", str(size)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line for line in output.splitlines() if line.startswith("BENCH_RESULT ")]
    if not lines:
        raise SystemExit(f"wrk printed no result:\n{output}")
    result: dict[str, int] = json.loads(lines[-1].removeprefix("BENCH_RESULT "))
    errors = ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    if any(result[name] for name in (*errors, "unexpected_status")):
        raise SystemExit(f"BENCHMARK FAILED: wrk saw errors: {result}\n{output}")
    return result


def describe(run: Run) -> str:
    return (
        f"{run.size:>7,} actors: {run.cpu_per_call_us:6.1f} us sidecar CPU per call, "
        f"{run.per_second:7,.0f} calls/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms"
    )


def report(sizes: list[int], runs: list[Run]) -> None:
    print("medians:")
    base: float | None = None
    for size in sizes:
        mine = [run for run in runs if run.size == size]
        cpu = statistics.median(run.cpu_per_call_us for run in mine)
        base = cpu if base is None else base
        print(
            f"{size:>7,} actors: {cpu:6.1f} us sidecar CPU per call ({cpu / base:.2f}x), "
            f"{statistics.median(run.per_second for run in mine):7,.0f} calls/s, "
            f"p50 {statistics.median(run.p50_ms for run in mine):.2f} ms, "
            f"p99 {statistics.median(run.p99_ms for run in mine):.2f} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
