"""CPU per actor call inside the process, without sockets, HTTP parsing or a load generator.

    python benchmarks/inprocess.py                 # ours and raw, 7 rounds of 20,000 calls
    python benchmarks/inprocess.py --rounds 11 --calls 50000
    python benchmarks/inprocess.py --servers ours --otel sdk   # with OpenTelemetry's SDK
    python benchmarks/inprocess.py --passthrough   # the front door's pass-through cost

Each server app of ``benchmarks/apps`` (its lifespan run first) receives the benchmark's
``PUT /actors/x-wing/{id}/method/fly`` as a raw ASGI call over 1,000 actor ids (the
pass-through apps, ``plain`` and ``plain-front-door``, ``GET /ships/{id}``), and the
process's CPU time per call is read with ``time.process_time``. The machine's noise only ever
adds time, so the report leads with the fastest round, then the median. Pin it to one core
(``taskset -c 0``) and compare two commits by running it from a checkout of each, back to back.
This is what the wrk scenarios of ``run.py`` cost minus uvicorn and the network: the part the
package controls.

``--otel sdk`` installs OpenTelemetry's SDK as the global tracer and meter provider first, each
span exported to memory and metrics read at the end, as a user's app with telemetry on would
run (recent FastAPI versions then trace each request themselves, too). The default, ``none``,
leaves the API's placeholders, which is what the package costs without an SDK.

``--passthrough`` measures what the front door adds to a request that is not daprd's, to the
tenth of a microsecond that two server processes under wrk cannot resolve: ``apps/plain.py``'s
FastAPI route called straight and through ``runtime.front_door`` wrapping that same app, in
alternating rounds of one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.processes import APPS

BODY = b'{"destination":"Hoth"}'
IDS = 1000
Message = MutableMapping[str, Any]


def request_scope(actor_id: int, plain: bool = False) -> dict[str, Any]:
    # The pass-through apps serve GET /ships/{ship} (no body); every other app the actor call.
    path = f"/ships/{actor_id}" if plain else f"/actors/x-wing/{actor_id}/method/fly"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET" if plain else "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:3000"),
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(BODY)),
            (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ],
        "server": ("127.0.0.1", 3000),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }


async def call(app: Any, actor_id: int, plain: bool = False) -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(request_scope(actor_id, plain), receive, send)
    if statuses != [200]:
        raise RuntimeError(f"the app answered {statuses}, not 200")


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """``app``'s lifespan started, as a server starts it, and shut down on leaving."""
    lifespan: asyncio.Queue[Message] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> Message:
        return await lifespan.get()

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    await lifespan.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    )
    await asyncio.wait_for(started.wait(), timeout=30)
    yield
    await lifespan.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, timeout=60)


async def cpu_per_call(app: Any, calls: int, plain: bool = False) -> float:
    start = time.process_time()
    for n in range(calls):
        await call(app, n % IDS, plain)
    return (time.process_time() - start) / calls * 1e6


async def measure(app: Any, rounds: int, calls: int, plain: bool = False) -> list[float]:
    """Microseconds of CPU per call, one figure per round, after a warm-up round."""
    async with running(app):
        await cpu_per_call(app, IDS * 2, plain)
        return [await cpu_per_call(app, calls, plain) for _ in range(rounds)]


async def measure_passthrough(rounds: int, calls: int) -> tuple[list[float], list[float]]:
    """CPU per call of ``apps/plain.py``'s route, straight and through the front door that
    wraps that very app object, rounds alternating (ABBA) in one process: their difference is
    the front door's dispatch and nothing else, free of the drift between two processes."""
    from benchmarks.apps.plain import app, front_door

    straight: list[float] = []
    through: list[float] = []
    order: list[tuple[Any, list[float]]] = [(app, straight), (front_door, through)]
    async with running(front_door):  # starts the app's lifespan too, inside the runtime's
        for target, _ in order:
            await cpu_per_call(target, IDS * 5, plain=True)
        for n in range(rounds):
            for target, figures in order if n % 2 == 0 else order[::-1]:
                figures.append(await cpu_per_call(target, calls, plain=True))
    return straight, through


def install_otel_sdk() -> None:
    """OpenTelemetry's SDK as the global providers: spans exported to memory as they end,
    metrics aggregated in memory (read by nobody, as between two scrapes)."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument(
        "--servers",
        default="ours,raw",
        help=f"apps of benchmarks/apps to measure, of {','.join(APPS)}",
    )
    parser.add_argument("--otel", choices=("none", "sdk"), default="none")
    parser.add_argument(
        "--passthrough",
        action="store_true",
        help="the front door's pass-through cost instead: plain route straight and through it",
    )
    options = parser.parse_args()
    if options.otel == "sdk":
        install_otel_sdk()
    if options.passthrough:
        straight, through = asyncio.run(measure_passthrough(options.rounds, options.calls))
        differences = [b - a for a, b in zip(straight, through, strict=True)]
        print(
            f"plain route: {statistics.median(straight):.1f} µs median, through the front door: "
            f"{statistics.median(through):.1f} µs median; difference per round "
            f"{', '.join(f'{d:+.1f}' for d in differences)} µs, median "
            f"{statistics.median(differences):+.1f} µs ({options.rounds} rounds of {options.calls:,})"
        )
        medians = {
            "plain_cpu_us": statistics.median(straight),
            "cpu_us": statistics.median(through),
            "difference_us": statistics.median(differences),
        }
        print(f"BENCH_RESULT {json.dumps(medians)}")  # for run.py's passthrough scenario
        return
    for name in options.servers.split(","):
        if name not in APPS:
            parser.error(f"--servers: no app named {name!r}; choose from {', '.join(APPS)}")
        module, _, attribute = APPS[name].partition(":")
        app = getattr(importlib.import_module(module), attribute)
        plain = name.startswith("plain")
        figures = asyncio.run(measure(app, options.rounds, options.calls, plain))
        print(
            f"{name}: CPU per call {min(figures):.1f} µs fastest round, "
            f"{statistics.median(figures):.1f} µs median ({options.rounds} rounds of {options.calls:,})"
        )


if __name__ == "__main__":
    main()
