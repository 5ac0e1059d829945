"""How telemetry is switched on: by providers given to the runtime, or by an SDK installed
globally before the app starts; and the bounded operation names of sidecar requests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dapr_actors_fastapi._telemetry.telemetry import sidecar_operation

ROOT = Path(__file__).resolve().parents[2]

GLOBAL_SDK_APP = textwrap.dedent(
    """
    import asyncio
    import json

    import httpx2 as httpx
    from fastapi import FastAPI
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from dapr_actors_fastapi import Actor, ActorRuntime, method

    runtime = ActorRuntime()  # made before the SDK is installed, as module-level apps are


    @runtime.actor("probe")
    class Probe(Actor):
        @method
        async def ping(self) -> str:
            return "pong"


    async def main() -> None:
        exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        app = FastAPI(lifespan=runtime.lifespan)
        app.include_router(runtime.router)
        transport = httpx.ASGITransport(app=app)
        async with runtime.lifespan(), httpx.AsyncClient(transport=transport) as client:
            await client.put("http://app/actors/probe/1/method/ping")
        names = sorted({m.name for r in reader.get_metrics_data().resource_metrics
                        for s in r.scope_metrics for m in s.metrics})
        spans = [
            {"name": span.name, "kind": span.kind.name, "id": span.context.span_id,
             "parent": span.parent.span_id if span.parent else None}
            for span in exporter.get_finished_spans()
        ]
        print(json.dumps({"spans": spans, "instruments": names}))


    asyncio.run(main())
    """
)


def test_an_sdk_installed_globally_before_the_app_starts_receives_spans_and_metrics() -> None:
    result = subprocess.run(
        [sys.executable, "-c", GLOBAL_SDK_APP],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(result.stdout)
    spans = {span["name"]: span for span in found["spans"]}
    turn, activation = spans["probe/ping"], spans["probe/activate"]
    assert activation["parent"] == turn["id"]
    # Recent FastAPI versions trace requests themselves once an SDK is installed: the turn is
    # then a step inside FastAPI's server span (test_traces.py pins both cases).
    outer = [span for span in found["spans"] if span["id"] == turn["parent"]]
    assert [span["kind"] for span in outer] in (["SERVER"], [])
    assert turn["kind"] == ("INTERNAL" if outer else "SERVER")
    assert {"dapr.actors.turn.duration", "dapr.actors.active"} <= set(found["instruments"])


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("GET", "/v1.0/actors/x-wing/1/state/trips", "state.get"),
        ("POST", "/v1.0/actors/x-wing/1/state", "state.save"),
        ("PUT", "/v1.0/actors/x-wing/1/reminders/tick", "reminder.register"),
        ("GET", "/v1.0/actors/x-wing/1/reminders/tick", "reminder.get"),
        ("DELETE", "/v1.0/actors/x-wing/1/reminders/tick", "reminder.delete"),
        ("PUT", "/v1.0/actors/x-wing/1/timers/t", "timer.register"),
        ("DELETE", "/v1.0/actors/x-wing/1/timers/t", "timer.delete"),
        ("PUT", "/v1.0/actors/x-wing/1/method/fly", "invoke_actor"),
        ("POST", "/v1.0/invoke/mathService/method/add?x=1", "invoke"),
        ("GET", "/v1.0/metadata", "other"),
        ("PATCH", "/v1.0/actors/x-wing/1/state", "other"),
        ("GET", "/v1.0/actors/x-wing", "other"),
    ],
)
def test_sidecar_requests_are_named_by_a_bounded_operation(
    method: str, path: str, operation: str
) -> None:
    assert sidecar_operation(method, path) == operation
