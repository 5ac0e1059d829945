"""The dev sidecar's actor table alone, in one process: what a call costs it with 100,000 active
actors against 1,000 (issue #12), without HTTP in the way.

    python benchmarks/actor_table_inprocess.py                 # 1k and 100k, 3 rounds of 5 s
    python benchmarks/actor_table_inprocess.py --sizes 1000,20000 --rounds 1 --duration 2

For each size and round: a fresh ``ActorTable`` in front of a stub app channel that answers 200
at once, its idle scanner running with a 1 s scan interval (the hour's idle timeout keeps every
actor active), every actor activated with one call, then calls round robin over all of them,
32 at a time, for ``--duration`` seconds. Reports the process' CPU per call (the table's work:
lookup, turn, touch, the idle scans, and the stub) and calls per second; medians per size, and
each size's CPU per call against the first's. ``benchmarks/actor_table_scale.py``
measures the same through the sidecar's HTTP API and a real app.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

from multidict import CIMultiDict

from dapr_actors_fastapi.durations import SECOND
from dapr_actors_fastapi.sidecar.actors import ActorsConfig, ActorTable, Callback, HostedType
from dapr_actors_fastapi.sidecar.channel import AppChannel, AppResponse

CONCURRENCY = 32
HOSTED = HostedType("x-wing", idle_timeout=3600 * SECOND)
CALL = Callback("/actors/x-wing/x/method/fly", [("Content-Type", "application/json")], b"{}")


class StubChannel(AppChannel):
    """An app that answers every call with 200 at once."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1", app_id="bench", app_api_token=None)
        self._answer = AppResponse(200, CIMultiDict(), b"{}")

    async def request(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> AppResponse:
        return self._answer


@dataclass(frozen=True)
class Run:
    size: int
    calls: int
    seconds: float
    cpu: float

    @property
    def cpu_per_call_us(self) -> float:
        return self.cpu / self.calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="active actors, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs = []
    for _ in range(args.rounds):
        for size in sizes:
            run = asyncio.run(measure(size, args.duration))
            print(describe(run), flush=True)
            runs.append(run)
    print("medians:")
    base: float | None = None
    for size in sizes:
        mine = [run for run in runs if run.size == size]
        cpu = statistics.median(run.cpu_per_call_us for run in mine)
        base = cpu if base is None else base
        rate = statistics.median(run.calls / run.seconds for run in mine)
        print(
            f"{size:>7,} actors: {cpu:5.1f} us CPU per call ({cpu / base:.2f}x), "
            f"{rate:8,.0f} calls/s"
        )
    return 0


async def measure(size: int, duration: float) -> Run:
    table = ActorTable(StubChannel(), ActorsConfig({HOSTED.name: HOSTED}, scan_interval=SECOND))
    scanner = asyncio.create_task(table.run_idle_scanner())
    ids = [f"ship-{n}" for n in range(size)]
    for actor_id in ids:
        await table.call(HOSTED, actor_id, CALL)
    turn = itertools.cycle(ids)
    calls = 0
    cpu, started = time.process_time(), time.perf_counter()
    deadline = started + duration

    async def caller() -> None:
        nonlocal calls
        while time.perf_counter() < deadline:
            await table.call(HOSTED, next(turn), CALL)
            calls += 1
            await asyncio.sleep(0)  # as a real call waits for the app: the others run meanwhile

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    scanner.cancel()
    await asyncio.gather(scanner, return_exceptions=True)
    if table.active_counts() != {HOSTED.name: size}:
        raise SystemExit(f"BENCHMARK FAILED: {table.active_counts()} active, expected {size}")
    return Run(size, calls, seconds, cpu)


def describe(run: Run) -> str:
    return (
        f"{run.size:>7,} actors: {run.cpu_per_call_us:5.1f} us CPU per call, "
        f"{run.calls / run.seconds:8,.0f} calls/s"
    )


if __name__ == "__main__":
    sys.exit(main())
