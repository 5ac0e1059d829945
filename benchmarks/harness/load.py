"""wrk, the load generator: one thread, CONNECTIONS connections, pinned to the client core.

Every run's script prints one ``BENCH_RESULT {json}`` line; a run with a non-2xx answer, an
unexpected status (the scripts that check each one), a socket error or no answer at all
raises ``BenchmarkError``, so that it never becomes a number.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .cpu import cpu_busy_seconds
from .probes import BenchmarkError, wait_until
from .processes import CLIENT_CPU, SERVER_CPU

BENCH_DIR = Path(__file__).resolve().parents[1]
LUA_SCRIPT = BENCH_DIR / "actors.lua"
SIDECAR_LUA = BENCH_DIR / "sidecar.lua"
STATEFUL_LUA = BENCH_DIR / "stateful.lua"
CALLS_LUA = BENCH_DIR / "calls.lua"
CONNECTIONS = 32
WRK_TIMEOUT = 30  # seconds; a starved server's p99 reaches several seconds, and that is measured


class Target(Protocol):
    """What wrk is pointed at: a server process, or one of its ports."""

    @property
    def name(self) -> str: ...

    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class Endpoint:
    name: str
    port: int


Sample = dict[str, float]  # one measurement: metric -> value


@dataclass(frozen=True)
class Calls:
    """``calls.lua``'s arguments: ``verb path`` (``%s`` the id) over ids ``prefix-0`` ..
    ``prefix-(ids-1)`` round robin, each answered ``status``."""

    path: str
    ids: int
    prefix: str = "ship"
    verb: str = "PUT"
    body: str = "-"  # "-": none
    status: int = 200

    def args(self, stop_after: int = 0) -> list[str]:
        return [self.verb, self.path, self.body, str(self.status), self.prefix, str(self.ids),
                str(stop_after)]  # fmt: skip


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
        "--latency", "--timeout", f"{WRK_TIMEOUT}s", "-s", str(script), f"http://127.0.0.1:{port}",
        "--", *script_args,
    ]  # fmt: skip


def parse_wrk(output: str, server: str, timeouts_allowed: bool = False) -> WrkResult:
    """The script's BENCH_RESULT line; raises on non-2xx or unexpected statuses, socket errors
    (timeouts too, unless ``timeouts_allowed``)."""
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
        0 if timeouts_allowed else result.timeouts,
        result.unexpected_status,
    )
    if non_2xx is not None or any(errors) or result.requests == 0:
        raise BenchmarkError(f"wrk against {server} saw errors or no responses:\n{output}")
    return result


def run_wrk(
    target: Target, seconds: float, script_args: list[str], script: Path = LUA_SCRIPT
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


def activate_exactly(
    target: Target,
    live: Callable[[], int],
    count: int,
    script_args: list[str],
    script: Path = LUA_SCRIPT,
) -> WrkResult:
    """Activate ``count`` new actors with wrk, then end wrk once they are all live.

    ``live`` counts the live actors (the app's or the sidecar's). The script stops sending
    after ``count`` answers, but wrk itself sleeps until -d is over, so it is interrupted as
    soon as the actors are live; the count must then be exactly ``count`` more than before.
    """
    expected = live() + count
    budget = 60 + count / 50  # far above what even the slowest server needs (a relayed call)
    command = wrk_command(target.port, budget, script_args, script)
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as wrk:

        def all_live() -> bool:
            if wrk.poll() is not None:  # it should only end when interrupted below
                raise BenchmarkError(f"wrk ended early:\n{wrk.communicate()[0]}")
            return live() >= expected

        try:
            wait_until(all_live, budget, f"{count} activations on {target.name}", 0.25)
        finally:
            wrk.send_signal(signal.SIGINT)  # wrk's own Ctrl-C: stop and print the summary
            output, _ = wrk.communicate(timeout=30)
    # A call wrk gave up on still reached the server or did not: the exact count below tells,
    # so a timeout here is no error (a starved server activating 100,000 actors hits some).
    result = parse_wrk(output, target.name, timeouts_allowed=True)
    now = live()
    if now != expected:
        raise BenchmarkError(f"{target.name} has {now} live actors, expected exactly {expected}")
    return result


def latency_sample(result: WrkResult) -> Sample:
    return {"rps": result.rate, "p50_ms": result.p50_us / 1000, "p99_ms": result.p99_us / 1000}


def measured_run(
    target: Target,
    seconds: float,
    script_args: list[str],
    meters: Mapping[str, Callable[[], float]],
    script: Path = LUA_SCRIPT,
) -> Sample:
    """One measured wrk run, and the CPU seconds each meter read over it, per request.

    ``cpu_us`` is all meters together per request, ``busy_pct`` their share of the wall time
    (the meters must measure what runs on SERVER_CPU), ``other_pct`` the rest of that core's;
    with more than one meter, ``{name}_cpu_us`` is each one's own (the app's, the sidecar's).
    """
    before = {name: read() for name, read in meters.items()}
    core_before = cpu_busy_seconds()[int(SERVER_CPU)]
    started = time.monotonic()
    result = run_wrk(target, seconds, script_args, script)
    elapsed = time.monotonic() - started
    core = cpu_busy_seconds()[int(SERVER_CPU)] - core_before
    spent = {name: read() - before[name] for name, read in meters.items()}
    total = sum(spent.values())
    sample = latency_sample(result)
    sample["cpu_us"] = total * 1e6 / result.requests
    sample["busy_pct"] = 100 * total / elapsed
    # Other processes on the server's core: the run's noise, which CPU per request resists
    # better than requests/s (though a starved server batches less and pays a little more).
    sample["other_pct"] = 100 * max(0.0, core - total) / elapsed
    if len(meters) > 1:
        sample |= {f"{name}_cpu_us": cpu * 1e6 / result.requests for name, cpu in spent.items()}
    return sample
