"""How the dev sidecar copes with many reminders due at once (issue #9, item 6), or due one
after another (issue #12: on time, p99 lateness under 50 ms).

    python benchmarks/reminder_burst.py                      # 10,000 reminders, 10 s period
    python benchmarks/reminder_burst.py --reminders 2000 --periods 1   # a quick look
    python benchmarks/reminder_burst.py --spread 10 --period 20 --pin  # staggered, pinned

Starts ``benchmarks/apps/burst.py`` under uvicorn and the dev sidecar in front of it (its CLI,
a fresh SQLite file, two processes as a user runs them), registers ``--reminders`` reminders,
one per ``drone`` actor, with RFC 3339 ``dueTime``s and ``--period``, and watches
``--periods`` due times go by. The due times are all the same, or with ``--spread`` evenly spread
over that many seconds, in reminder order. Meanwhile it calls ``probe.ping`` through the sidecar every
50 ms: that unrelated call's latency is what a user of the sidecar feels during the burst.
Afterwards it deletes every reminder and reads from the app when each fire arrived.

Reports: registration and deletion time, fire lateness (arrival at the app minus scheduled time;
p50, p99, max), fires missing, the unrelated call's latency (p50, p99, max), and the sidecar's
CPU (utime + stime from ``/proc``) per fire while the due times go by. Unpinned by default;
``--pin`` puts the sidecar on CPU 0, the app and this harness on CPU 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 32  # requests the harness keeps in flight while registering and deleting
PROBE_INTERVAL = 0.05
SIDECAR_CPU, APP_CPU = 0, 1  # with --pin; the harness shares the app's CPU
READY_TIMEOUT = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--period", type=float, default=10.0, help="seconds (default: 10)")
    parser.add_argument("--periods", type=int, default=2, help="due times to watch (default: 2)")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="seconds over which the due times are spread (default: 0, all at once)",
    )
    parser.add_argument(
        "--pin", action="store_true", help="sidecar on CPU 0, app and harness on CPU 1 (Linux)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the sidecar under cProfile and write its profile to this file",
    )
    parser.add_argument(
        "--lead",
        type=float,
        default=30.0,
        help="seconds from the start of registration to the first due time (default: 30)",
    )
    args = parser.parse_args()
    burst = Burst(args.reminders, args.period, args.periods, args.lead, args.spread)
    if args.pin:
        os.sched_setaffinity(0, {APP_CPU})
    report(asyncio.run(measure(burst, pin=args.pin, profile=args.profile)))
    return 0


@dataclass(frozen=True)
class Burst:
    """What to measure: ``reminders`` first due ``lead`` seconds after registration starts (all
    at once, or one after another over ``spread`` seconds), every ``period`` seconds, watched
    for ``periods`` due times each."""

    reminders: int = 10_000
    period: float = 10.0
    periods: int = 2
    lead: float = 30.0
    spread: float = 0.0

    def first_due(self, n: int, start: float) -> float:
        """When reminder ``n`` is first due, for a burst whose first due time is ``start``."""
        return start + self.spread * n / self.reminders


@dataclass(frozen=True)
class BurstResult:
    """What was measured (seconds unless named otherwise)."""

    burst: Burst
    registration: float
    deletion: float
    lateness: list[float]  # each watched fire's arrival minus its scheduled time
    missing: int  # watched due times with no fire
    unrelated_calls: list[float]  # latencies of the unrelated call while the burst fired
    registered_late: bool  # registration ended after the first due time
    sidecar_cpu: float  # the sidecar's CPU seconds from the first due time to the end of the watch


async def measure(burst: Burst, *, pin: bool = False, profile: Path | None = None) -> BurstResult:
    """Run ``burst`` against a fresh app and dev sidecar and measure it."""
    with (
        tempfile.TemporaryDirectory() as folder,
        servers(Path(folder) / "state.db", pin=pin, profile=profile) as (app_url, url, sidecar_pid),
    ):
        async with aiohttp.ClientSession(
            url, connector=aiohttp.TCPConnector(limit=CONCURRENCY * 2)
        ) as http:
            await wait_ready(http)
            first_due = time.time() + burst.lead
            started = time.perf_counter()
            await each(
                burst.reminders,
                lambda n: register(http, n, burst.first_due(n, first_due), burst.period),
            )
            registration = time.perf_counter() - started
            registered_late = time.time() > first_due
            watch_until = first_due + burst.spread + burst.periods * burst.period
            latencies, sidecar_cpu = await probe_until(
                http, watch_until, from_time=first_due, sidecar_pid=sidecar_pid
            )
            started = time.perf_counter()
            await each(burst.reminders, lambda n: delete(http, n))
            deletion = time.perf_counter() - started
            fires = await read_fires(app_url)
    lateness, missing = arrivals_against_schedule(burst, fires, first_due)
    return BurstResult(
        burst, registration, deletion, lateness, missing, latencies, registered_late, sidecar_cpu
    )


def arrivals_against_schedule(
    burst: Burst, fires: dict[str, list[float]], first_due: float
) -> tuple[list[float], int]:
    """Each watched fire's lateness, and how many watched due times had no fire."""
    lateness: list[float] = []
    missing = 0
    for n in range(burst.reminders):
        arrivals = sorted(fires.get(str(n), []))
        missing += max(0, burst.periods - len(arrivals))
        due = burst.first_due(n, first_due)
        for k, arrived in enumerate(arrivals[: burst.periods]):
            lateness.append(arrived - (due + k * burst.period))
    return lateness, missing


@contextlib.contextmanager
def servers(
    database: Path, *, pin: bool = False, profile: Path | None = None
) -> Iterator[tuple[str, str, int]]:
    """The burst app and the dev sidecar as two processes; yields (app URL, sidecar URL,
    sidecar pid). With ``pin``, the sidecar runs on ``SIDECAR_CPU`` and the app on ``APP_CPU``;
    with ``profile``, the sidecar runs under cProfile, which writes there when it stops."""
    app_port, sidecar_port = str(free_port()), str(free_port())
    env = {**os.environ, "DAPR_HTTP_PORT": sidecar_port, "PYTHONPATH": str(REPO_ROOT)}
    app = [sys.executable, "-m", "uvicorn", "benchmarks.apps.burst:app", "--port", app_port]
    app += ["--no-access-log", "--log-level", "warning"]
    profiler = [] if profile is None else ["-m", "cProfile", "-o", str(profile.resolve())]
    sidecar = [sys.executable, *profiler, "-m", "dapr_actors_fastapi.sidecar.cli", "sidecar"]
    sidecar += [f"--app-url=http://127.0.0.1:{app_port}", f"--dapr-http-port={sidecar_port}"]
    sidecar += [f"--state-db={database}", "--log-level=warning"]
    if pin:
        app = ["taskset", "-c", str(APP_CPU), *app]
        sidecar = ["taskset", "-c", str(SIDECAR_CPU), *sidecar]
    processes = [subprocess.Popen(command, cwd=REPO_ROOT, env=env) for command in (app, sidecar)]
    try:
        yield f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sidecar_port}", processes[1].pid
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_ready(http: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get("/v1.0/healthz") as response:
                if response.status == 204:
                    return
        await asyncio.sleep(0.1)  # a readiness poll with a deadline
    raise SystemExit(f"the sidecar was not ready after {READY_TIMEOUT:.0f} s")


async def each(count: int, request: Callable[[int], Awaitable[None]]) -> None:
    """``request(n)`` for n in range(count), ``CONCURRENCY`` at a time."""
    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:
            await request(n)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def register(http: aiohttp.ClientSession, n: int, first_due: float, period: float) -> None:
    due = datetime.fromtimestamp(first_due, UTC).isoformat().replace("+00:00", "Z")
    body = {"dueTime": due, "period": f"{period}s"}
    async with http.put(f"/v1.0/actors/drone/{n}/reminders/tick", json=body) as response:
        if response.status != 204:
            raise SystemExit(f"registering drone {n}: {response.status} {await response.text()}")


async def delete(http: aiohttp.ClientSession, n: int) -> None:
    async with http.delete(f"/v1.0/actors/drone/{n}/reminders/tick") as response:
        if response.status != 204:
            raise SystemExit(f"deleting drone {n}: {response.status} {await response.text()}")


async def probe_until(
    http: aiohttp.ClientSession, until: float, *, from_time: float, sidecar_pid: int
) -> tuple[list[float], float]:
    """Latencies (s) of ``probe.ping`` through the sidecar, one every 50 ms until ``until``,
    and the sidecar's CPU seconds from ``from_time`` on; the calls started before
    ``from_time`` only keep the connection warm and are not counted."""
    latencies: list[float] = []
    n = 0
    cpu_at_start: float | None = None
    while time.time() < until:
        n += 1
        counted = time.time() >= from_time
        if counted and cpu_at_start is None:
            cpu_at_start = cpu_seconds(sidecar_pid)
        started = time.perf_counter()
        async with http.put(f"/v1.0/actors/probe/{n % 10}/method/ping") as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"probe.ping answered {response.status}")
        if counted:
            latencies.append(time.perf_counter() - started)
        await asyncio.sleep(PROBE_INTERVAL)
    return latencies, cpu_seconds(sidecar_pid) - (cpu_at_start or 0.0)


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (Linux ``/proc``), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def read_fires(app_url: str) -> dict[str, list[float]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(app_url + "/bench/fires") as response,
    ):
        fires: dict[str, list[float]] = await response.json()
        return fires


def report(result: BurstResult) -> None:
    burst = result.burst
    if result.registered_late:
        print("warning: registration ended after the first due time; raise --lead")
    spread = f"spread over {burst.spread:g} s" if burst.spread else "all due at once"
    print(
        f"reminders: {burst.reminders:,} ({spread}), period {burst.period:g} s, "
        f"{burst.periods} due times each"
    )
    print(
        f"registration: {result.registration:.2f} s ({burst.reminders / result.registration:,.0f}/s)"
    )
    print(f"deletion: {result.deletion:.2f} s ({burst.reminders / result.deletion:,.0f}/s)")
    expected = burst.reminders * burst.periods
    print(f"fires: {len(result.lateness):,} of {expected:,} expected; missing {result.missing:,}")
    if result.lateness:
        lateness = [late * 1000 for late in result.lateness]
        print(
            f"lateness (ms): p50 {percentile(lateness, 50):.1f}, "
            f"p99 {percentile(lateness, 99):.1f}, max {max(lateness):.1f}"
        )
        print(f"sidecar CPU per fire: {result.sidecar_cpu / len(lateness) * 1e6:.0f} us")
    if result.unrelated_calls:
        ms = [latency * 1000 for latency in result.unrelated_calls]
        print(
            f"unrelated call during the burst (ms, {len(ms)} calls): p50 "
            f"{percentile(ms, 50):.1f}, p99 {percentile(ms, 99):.1f}, max {max(ms):.1f}"
        )


def percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


if __name__ == "__main__":
    sys.exit(main())
