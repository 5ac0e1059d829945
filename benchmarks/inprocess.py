"""CPU per actor call inside the process, without sockets, HTTP parsing or a load generator.

    python benchmarks/inprocess.py                 # ours and raw, 7 rounds of 20,000 calls
    python benchmarks/inprocess.py --rounds 11 --calls 50000
    python benchmarks/inprocess.py --servers ours --otel sdk   # with OpenTelemetry's SDK

Each server app of ``benchmarks/apps`` (its lifespan run first) receives the benchmark's
``PUT /actors/x-wing/{id}/method/fly`` as a raw ASGI call over 1,000 actor ids, and the
process's CPU time per call is read with ``time.process_time``. The machine's noise only ever
adds time, so the report leads with the fastest round, then the median. Pin it to one core
(``taskset -c 0``) and compare two commits by running it from a checkout of each, back to back.
This is what the wrk scenarios of ``run.py`` cost minus uvicorn and the network: the part the
package controls.

``--otel sdk`` installs OpenTelemetry's SDK as the global tracer and meter provider first, each
span exported to memory and metrics read at the end, as a user's app with telemetry on would
run (recent FastAPI versions then trace each request themselves, too). The default, ``none``,
leaves the API's placeholders, which is what the package costs without an SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BODY = b'{"destination":"Hoth"}'
IDS = 1000
Message = MutableMapping[str, Any]


def request_scope(actor_id: int) -> dict[str, Any]:
    path = f"/actors/x-wing/{actor_id}/method/fly"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
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


async def call(app: Any, actor_id: int) -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(request_scope(actor_id), receive, send)
    if statuses != [200]:
        raise RuntimeError(f"the app answered {statuses}, not 200")


async def measure(app: Any, rounds: int, calls: int) -> list[float]:
    """Microseconds of CPU per call, one figure per round, after a warm-up round."""
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
    for n in range(IDS * 2):
        await call(app, n % IDS)
    per_call = []
    for _ in range(rounds):
        start = time.process_time()
        for n in range(calls):
            await call(app, n % IDS)
        per_call.append((time.process_time() - start) / calls * 1e6)
    await lifespan.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, timeout=60)
    return per_call


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
    parser.add_argument("--servers", default="ours,raw", help="apps of benchmarks/apps to measure")
    parser.add_argument("--otel", choices=("none", "sdk"), default="none")
    options = parser.parse_args()
    if options.otel == "sdk":
        install_otel_sdk()
    for name in options.servers.split(","):
        app = importlib.import_module(f"benchmarks.apps.{name}").app
        figures = asyncio.run(measure(app, options.rounds, options.calls))
        print(
            f"{name}: CPU per call {min(figures):.1f} µs fastest round, "
            f"{statistics.median(figures):.1f} µs median ({options.rounds} rounds of {options.calls:,})"
        )


if __name__ == "__main__":
    main()
