"""A long soak of the app and the dev sidecar under a mixed actor load: memory must stay flat
(issue #9).

    python benchmarks/soak.py                      # 10 minutes (the soak)
    python benchmarks/soak.py --minutes 1          # a quick look
    python benchmarks/soak.py --split              # app and sidecar as two processes

Starts ``benchmarks/apps/soak.py`` with ``dapr-actors run`` (app and dev sidecar in one process;
``--split``: the app under uvicorn and ``dapr-actors sidecar`` beside it) on a fresh SQLite file
in a temporary folder, pinned to CPU 0 (the harness pins itself to CPU 1) when ``taskset`` and
two cores are there. For ``--minutes`` it calls ``counter`` actors through the sidecar at
``--rate`` calls/s over ``--ids`` ids: mostly ``increment`` (read, write and save a count), and
registering reminders, deleting them and starting timers; the app deactivates an actor 2 s
after its last turn, so actors keep coming and going. Every ``--sample-every`` seconds it reads
each server process' RSS, open fds, threads and CPU, how busy CPU 0 was with anything, the
objects the app process' garbage collector tracks, the app's live actors, the sidecar's active
ones, and the latency of the calls answered since the previous sample.

At the end it prints the samples and a verdict, and exits 1 unless all of these hold: RSS grew
less than ``--flat-percent`` over the second half of the run (the first half is warm-up: 10,000
actors' state, the SQLite cache, the allocator's pools), no call failed, no server logged an
error or exited uncleanly, and every id's stored count equals the increments the harness saw
acknowledged.
Server logs and the samples (JSON) stay under ``benchmarks/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import psutil  # type: ignore[import-untyped]  # no stubs in the venv

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
APP = "benchmarks.apps.soak:app"
ACTOR_TYPE = "counter"
SERVER_CPU, HARNESS_CPU = 0, 1
CONCURRENCY = 32  # calls the harness keeps in flight at most
# The mix of calls, by weight: increments carry the state check, the rest churn the sidecar's
# reminder table and timers (each reminder fires 3 times, each timer twice, see the app).
OPERATIONS = {"increment": 85, "remind": 5, "forget": 4, "start_timer": 6}
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0  # a graceful stop deactivates every live actor
CALL_TIMEOUT = 30.0
ERRORS_SHOWN = 5
# How a server ends a graceful stop: 0, or (uvicorn) killed by the SIGTERM it re-raises after
# its shutdown, so that the exit status tells the signal.
CLEAN = (0, -signal.SIGTERM)


class SoakError(RuntimeError):
    """The soak could not run: a server that did not start or answered the harness wrongly."""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="load time (default: 10)")
    parser.add_argument("--rate", type=int, default=200, help="calls/s (default: 200)")
    parser.add_argument("--ids", type=int, default=10_000, help="actor ids (default: 10000)")
    parser.add_argument(
        "--sample-every", type=float, default=10.0, help="seconds between samples (default: 10)"
    )
    parser.add_argument(
        "--flat-percent",
        type=float,
        default=2.0,
        help="most RSS growth over the second half that still counts as flat (default: 2)",
    )
    parser.add_argument(
        "--split", action="store_true", help="app and sidecar as two processes, each measured"
    )
    parser.add_argument("--seed", type=int, default=9, help="of the ids and the mix (default: 9)")
    args = parser.parse_args()
    if min(args.minutes, args.rate, args.ids, args.sample_every) <= 0:
        parser.error("--minutes, --rate, --ids and --sample-every must be positive")
    if args.minutes * 60 < 4 * args.sample_every:
        parser.error(
            f"--minutes {args.minutes:g} leaves too few samples {args.sample_every:g} s apart "
            "to fit a line through the second half; use --sample-every "
            f"{args.minutes * 15:g} or less"
        )
    run_id = f"soak-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    try:
        return asyncio.run(soak(args, RESULTS_DIR / run_id))
    except SoakError as error:
        print(f"SOAK FAILED: {error}\n(server logs: {RESULTS_DIR / run_id})")
        return 1


# -- servers --------------------------------------------------------------------------------------


def pinned() -> bool:
    """Whether the servers and the harness get a core each."""
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


@dataclass
class Servers:
    """The running servers: their URLs and, by name, the processes that are sampled."""

    app_url: str
    sidecar_url: str
    processes: dict[str, psutil.Process]
    exit_codes: dict[str, int] = field(default_factory=dict)


def server_commands(
    app_port: int, sidecar_port: int, database: Path, split: bool
) -> dict[str, list[str]]:
    """The command line of each server process, by the name the report gives it."""
    cli = [sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli"]
    sidecar_flags = [f"--dapr-http-port={sidecar_port}", f"--state-db={database}"]
    sidecar_flags += ["--app-id=soak", "--log-level=warning"]
    if not split:
        return {"app + sidecar": [*cli, "run", APP, f"--app-port={app_port}", *sidecar_flags]}
    return {
        "app": [sys.executable, "-m", "uvicorn", APP, "--host=127.0.0.1", f"--port={app_port}",
                "--no-access-log", "--log-level=warning"],
        "sidecar": [*cli, "sidecar", f"--app-url=http://127.0.0.1:{app_port}", *sidecar_flags],
    }  # fmt: skip


@contextlib.contextmanager
def servers(database: Path, log_dir: Path, split: bool) -> Iterator[Servers]:
    """The servers, started (``wait_ready`` waits for them); stopped with SIGTERM, lifespan included."""
    app_port, sidecar_port = free_port(), free_port()
    commands = server_commands(app_port, sidecar_port, database, split)
    env = {k: v for k, v in os.environ.items() if k not in ("DAPR_API_TOKEN", "APP_API_TOKEN")}
    # the app's module is imported from the repository; a split app finds its sidecar as under
    # `dapr run` (`dapr-actors run` sets DAPR_HTTP_PORT itself)
    env |= {"PYTHONPATH": str(REPO_ROOT), "DAPR_HTTP_PORT": str(sidecar_port)}
    prefix = ["taskset", "-c", str(SERVER_CPU)] if pinned() else []
    log_dir.mkdir(parents=True, exist_ok=True)
    started: dict[str, subprocess.Popen[bytes]] = {}
    result = Servers(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{sidecar_port}", {})
    try:
        for name, command in commands.items():
            with (log_dir / f"{name.replace(' + ', '-')}.log").open("wb") as log:
                started[name] = subprocess.Popen(
                    [*prefix, *command], cwd=REPO_ROOT, env=env, stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            # taskset execs the command, so the pid is the server's own
            result.processes[name] = psutil.Process(started[name].pid)
        yield result
    finally:
        for process in started.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # graceful: the lifespan shutdown runs
        for name, process in started.items():
            try:
                result.exit_codes[name] = process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                result.exit_codes[name] = process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_ready(http: aiohttp.ClientSession, running: Servers) -> None:
    """The sidecar has read the app's config (healthz 204) and the app answers its counts."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in running.processes.items():
            if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
                raise SoakError(f"{name} exited before it was ready")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(running.sidecar_url + "/v1.0/healthz") as health:
                if health.status == 204:
                    await app_counts(http, running)
                    return
        await asyncio.sleep(0.1)  # a readiness poll with a deadline
    raise SoakError(f"the servers were not ready after {READY_TIMEOUT:.0f} s")


async def app_counts(http: aiohttp.ClientSession, running: Servers) -> dict[str, int]:
    async with http.get(running.app_url + "/bench/soak") as response:
        if response.status != 200:
            raise SoakError(f"/bench/soak answered {response.status}: {await response.text()}")
        counts: dict[str, int] = await response.json()
        return counts


async def sidecar_active(http: aiohttp.ClientSession, running: Servers) -> int:
    async with http.get(running.sidecar_url + "/v1.0/metadata") as response:
        if response.status != 200:
            raise SoakError(f"/v1.0/metadata answered {response.status}")
        actors = (await response.json())["actors"]
        return sum(entry["count"] for entry in actors if entry["type"] == ACTOR_TYPE)


# -- load -----------------------------------------------------------------------------------------


@dataclass
class Load:
    """What the load generator sent and what came back."""

    ids: int
    calls: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)  # increments answered, by id
    highest: list[int] = field(default_factory=list)  # highest count answered, by id
    latencies: list[float] = field(default_factory=list)  # seconds, since the last sample

    def __post_init__(self) -> None:
        self.acknowledged = [0] * self.ids
        self.highest = [0] * self.ids

    def fail(self, what: str) -> None:
        self.errors.append(what)


class Pacer:
    """Hands out start times ``1 / rate`` apart; a caller that is late starts at once, and the
    schedule never bunches calls up to catch up: a slow server gets a lower rate, not a burst."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate
        self._next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(self._next, now)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


async def drive(
    http: aiohttp.ClientSession, sidecar_url: str, load: Load, rate: float, until: float, seed: int
) -> None:
    """``CONCURRENCY`` workers calling random actors through the sidecar until ``until``."""
    pacer = Pacer(rate)
    names, weights = list(OPERATIONS), list(OPERATIONS.values())

    async def worker(rng: random.Random) -> None:
        while time.monotonic() < until:
            await pacer.wait()
            n = rng.randrange(load.ids)
            operation = rng.choices(names, weights)[0]
            await call(http, f"{sidecar_url}/v1.0/actors/{ACTOR_TYPE}/c-{n}/method/{operation}",
                       load, n, operation)  # fmt: skip

    await asyncio.gather(*(worker(random.Random(seed * 1000 + k)) for k in range(CONCURRENCY)))


async def call(http: aiohttp.ClientSession, url: str, load: Load, n: int, operation: str) -> None:
    load.calls[operation] += 1
    started = time.perf_counter()
    try:
        async with http.put(url) as response:
            body = await response.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        load.fail(f"{operation} c-{n}: {type(error).__name__}: {error}")
        return
    load.latencies.append(time.perf_counter() - started)
    if response.status != 200:
        load.fail(f"{operation} c-{n}: {response.status} {body[:200]!r}")
    elif operation == "increment":
        count = json.loads(body)
        load.acknowledged[n] += 1
        load.highest[n] = max(load.highest[n], count)


async def stored_count_mismatches(
    http: aiohttp.ClientSession, sidecar_url: str, load: Load
) -> list[str]:
    """Ids whose stored count is not the increments acknowledged (or whose answers skipped or
    repeated a count), read back through the sidecar's state API once the load has stopped."""
    mismatches: list[str] = []
    numbers = iter(range(load.ids))

    async def reader() -> None:
        for n in numbers:
            url = f"{sidecar_url}/v1.0/actors/{ACTOR_TYPE}/c-{n}/state/count"
            async with http.get(url) as response:
                if response.status not in (200, 204):
                    raise SoakError(f"reading c-{n}'s count: {response.status}")
                stored = json.loads(await response.read()) if response.status == 200 else 0
            acknowledged = load.acknowledged[n]
            if stored != acknowledged or load.highest[n] != acknowledged:
                mismatches.append(
                    f"c-{n}: stored {stored}, acknowledged {acknowledged}, "
                    f"highest answer {load.highest[n]}"
                )

    await asyncio.gather(*(reader() for _ in range(CONCURRENCY)))
    return mismatches


# -- samples --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the load started
    rss: dict[str, int]  # bytes, by process
    fds: dict[str, int]
    threads: dict[str, int]
    cpu_percent: dict[str, float]  # of one core, since the previous sample
    server_core_busy: float  # % of CPU 0 busy with anything, since the previous sample
    p50_ms: float  # of the calls answered since the previous sample (0 if none)
    p99_ms: float
    live_in_app: int
    objects_in_app: int  # objects the app process' garbage collector tracks
    active_in_sidecar: int
    calls: int
    errors: int


class Sampler:
    def __init__(self, http: aiohttp.ClientSession, running: Servers, load: Load) -> None:
        self._http = http
        self._running = running
        self._load = load
        self._started = time.monotonic()
        self._cpu = {name: self._cpu_seconds(p) for name, p in running.processes.items()}
        self._core_busy = core_busy_seconds()
        self._cpu_at = self._started
        self.samples: list[Sample] = []

    @staticmethod
    def _cpu_seconds(process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    async def take(self) -> Sample:
        processes = self._running.processes
        now = time.monotonic()
        cpu = {name: self._cpu_seconds(p) for name, p in processes.items()}
        core_busy = core_busy_seconds()
        wall = max(now - self._cpu_at, 1e-9)
        counts = await app_counts(self._http, self._running)
        sample = Sample(
            seconds=now - self._started,
            rss={name: int(p.memory_info().rss) for name, p in processes.items()},
            fds={name: int(p.num_fds()) for name, p in processes.items()},
            threads={name: int(p.num_threads()) for name, p in processes.items()},
            cpu_percent={name: 100 * (cpu[name] - self._cpu[name]) / wall for name in processes},
            server_core_busy=100 * (core_busy - self._core_busy) / wall,
            p50_ms=1000 * percentile(self._load.latencies, 50),
            p99_ms=1000 * percentile(self._load.latencies, 99),
            live_in_app=counts["live"],
            objects_in_app=counts["objects"],
            active_in_sidecar=await sidecar_active(self._http, self._running),
            calls=self._load.calls.total(),
            errors=len(self._load.errors),
        )
        self._cpu, self._core_busy, self._cpu_at = cpu, core_busy, now
        self._load.latencies.clear()
        self.samples.append(sample)
        return sample

    async def every(self, interval: float, until: float) -> None:
        """A sample every ``interval`` seconds while a whole interval is left before ``until``
        (the last sample is taken once the load has stopped)."""
        while time.monotonic() + interval < until:
            await asyncio.sleep(interval)
            print(describe(await self.take()), flush=True)


def core_busy_seconds() -> float:
    """Seconds CPU 0 (the servers' core when pinned) has been busy since boot, whatever ran:
    beside the servers' own CPU it shows whether other work took their core."""
    times = psutil.cpu_times(percpu=True)[SERVER_CPU]
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def describe(sample: Sample) -> str:
    rss = ", ".join(f"{name} {b / 2**20:.1f} MB" for name, b in sample.rss.items())
    return (
        f"[{sample.seconds:6.0f} s] RSS {rss}; live {sample.live_in_app:,}; "
        f"calls {sample.calls:,}; errors {sample.errors}"
    )


# -- the run --------------------------------------------------------------------------------------


async def soak(args: argparse.Namespace, log_dir: Path) -> int:
    if pinned():
        os.sched_setaffinity(0, {HARNESS_CPU})  # the servers have CPU 0 to themselves
    load = Load(args.ids)
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    with tempfile.TemporaryDirectory() as folder:
        with servers(Path(folder) / "state.db", log_dir, args.split) as running:
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                await wait_ready(http, running)
                sampler = Sampler(http, running, load)
                print(describe(await sampler.take()), flush=True)
                until = time.monotonic() + args.minutes * 60
                await asyncio.gather(
                    drive(http, running.sidecar_url, load, args.rate, until, args.seed),
                    sampler.every(args.sample_every, until),
                )
                print(describe(await sampler.take()), flush=True)
                events = await app_counts(http, running)
                mismatches = await stored_count_mismatches(http, running.sidecar_url, load)
        log_errors = server_log_errors(log_dir)
    verdict = Verdict.of(sampler.samples, args, load, mismatches, log_errors, running.exit_codes)
    report(args, sampler.samples, load, events, verdict)
    save(log_dir, args, sampler.samples, load, events, verdict)
    print(f"(server logs and samples: {log_dir})")
    return 0 if verdict.passed else 1


def server_log_errors(log_dir: Path) -> list[str]:
    """Lines of the servers' logs (at level warning) that report an error or a traceback."""
    return [
        f"{path.name}: {line}"
        for path in sorted(log_dir.glob("*.log"))
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith(("ERROR", "CRITICAL", "Traceback"))
    ]


@dataclass(frozen=True)
class Growth:
    """RSS over the second half of the run, for one process."""

    slope_kb_per_min: float
    percent: float  # the fitted growth over the second half, of the RSS at its start


@dataclass(frozen=True)
class Verdict:
    growth: dict[str, Growth]
    flat: bool
    errors: list[str]
    mismatches: list[str]

    @property
    def passed(self) -> bool:
        return self.flat and not self.errors and not self.mismatches

    @classmethod
    def of(
        cls,
        samples: list[Sample],
        args: argparse.Namespace,
        load: Load,
        mismatches: list[str],
        log_errors: list[str],
        exit_codes: dict[str, int],
    ) -> Verdict:
        growth = {name: second_half_growth(samples, name) for name in samples[0].rss}
        exits = [
            f"{name} exited with {code}" for name, code in exit_codes.items() if code not in CLEAN
        ]
        return cls(
            growth,
            all(g.percent < args.flat_percent for g in growth.values()),
            [*load.errors, *log_errors, *exits],
            mismatches,
        )


def second_half_growth(samples: list[Sample], name: str) -> Growth:
    """A least-squares line through the RSS samples of the second half of the run."""
    middle = samples[-1].seconds / 2
    half = [s for s in samples if s.seconds >= middle]
    if len(half) < 2:
        raise SoakError("too few samples in the second half: lower --sample-every")
    minutes = [s.seconds / 60 for s in half]
    kilobytes = [s.rss[name] / 1024 for s in half]
    slope = statistics.linear_regression(minutes, kilobytes).slope
    span = minutes[-1] - minutes[0]
    return Growth(slope, 100 * slope * span / kilobytes[0])


def report(
    args: argparse.Namespace,
    samples: list[Sample],
    load: Load,
    events: dict[str, int],
    verdict: Verdict,
) -> None:
    print()
    print(samples_table(samples))
    print()
    seconds = samples[-1].seconds
    mix = ", ".join(f"{name} {load.calls[name]:,}" for name in OPERATIONS)
    print(f"load: {load.calls.total():,} calls in {seconds:.0f} s "
          f"({load.calls.total() / seconds:,.0f}/s of {args.rate}/s asked) over {args.ids:,} ids: "
          f"{mix}")  # fmt: skip
    print("app: " + ", ".join(f"{name} {count:,}" for name, count in events.items()))
    print(
        f"pinning: {'servers CPU 0, harness CPU 1' if pinned() else 'none (no taskset or 1 core)'}"
    )
    for name, growth in verdict.growth.items():
        print(
            f"RSS of {name} over the second half: {growth.slope_kb_per_min:+,.0f} KB/min, "
            f"{growth.percent:+.2f} % (flat: under {args.flat_percent:g} %)"
        )
    print(f"errors: {len(verdict.errors)}")
    for error in verdict.errors[:ERRORS_SHOWN]:
        print(f"  {error}")
    acknowledged = sum(load.acknowledged)
    print(
        f"stored counts: {args.ids - len(verdict.mismatches):,} of {args.ids:,} ids hold exactly "
        f"the increments acknowledged ({acknowledged:,} in all)"
    )
    for mismatch in verdict.mismatches[:ERRORS_SHOWN]:
        print(f"  {mismatch}")
    print(f"VERDICT: {'PASS' if verdict.passed else 'FAIL'}"
          f" ({'flat' if verdict.flat else 'NOT FLAT'}, {len(verdict.errors)} errors, "
          f"{len(verdict.mismatches)} stored counts off)")  # fmt: skip


# The columns of the samples table after the per-process ones: header, cell.
COLUMNS: tuple[tuple[str, Callable[[Sample], str]], ...] = (
    ("CPU 0 busy %", lambda s: f"{s.server_core_busy:.0f}"),
    ("Python objects (app)", lambda s: f"{s.objects_in_app:,}"),
    ("live actors (app)", lambda s: f"{s.live_in_app:,}"),
    ("active (sidecar)", lambda s: f"{s.active_in_sidecar:,}"),
    ("calls", lambda s: f"{s.calls:,}"),
    ("p50 (ms)", lambda s: f"{s.p50_ms:.0f}"),
    ("p99 (ms)", lambda s: f"{s.p99_ms:.0f}"),
    ("errors", lambda s: str(s.errors)),
)


def samples_table(samples: list[Sample]) -> str:
    names = list(samples[0].rss)
    columns = ["t (s)"]
    for name in names:
        suffix = f", {name}" if len(names) > 1 else ""
        columns += [f"RSS (MB){suffix}", f"fds{suffix}", f"threads{suffix}", f"CPU %{suffix}"]
    columns += [header for header, _ in COLUMNS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    for s in samples:
        cells = [f"{s.seconds:.0f}"]
        for name in names:
            cells += [f"{s.rss[name] / 2**20:.1f}", str(s.fds[name]), str(s.threads[name]),
                      f"{s.cpu_percent[name]:.0f}"]  # fmt: skip
        cells += [cell(s) for _, cell in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save(
    log_dir: Path,
    args: argparse.Namespace,
    samples: list[Sample],
    load: Load,
    events: dict[str, int],
    verdict: Verdict,
) -> None:
    payload = {
        "options": vars(args),
        "samples": [asdict(s) for s in samples],
        "calls": dict(load.calls),
        "app": events,
        "verdict": asdict(verdict) | {"passed": verdict.passed},
    }
    (log_dir / "samples.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    sys.exit(main())
