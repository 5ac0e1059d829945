"""Actors with traces and metrics: OpenTelemetry's SDK, metrics on a Prometheus endpoint and
spans printed to the console (swap in an OTLP exporter to send them to a collector).

    dapr-actors run samples.observability:app --app-id fleet
    curl -s -X POST http://localhost:3500/v1.0/actors/x-wing/red-5/method/fly \\
      -H "Content-Type: application/json" -d '{"destination": "Hoth"}'
    curl -s http://localhost:3000/metrics/

Needs ``pip install opentelemetry-sdk opentelemetry-exporter-prometheus``. The providers are
given to the runtime, so nothing global changes; set them globally instead (``trace.
set_tracer_provider``) to trace the rest of the app, and FastAPI's own requests, too.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from prometheus_client import make_asgi_app
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorRuntime, method

resource = Resource.create({"service.name": "fleet"})
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
meter_provider = MeterProvider(resource=resource, metric_readers=[PrometheusMetricReader()])

runtime = ActorRuntime(
    tracer_provider=tracer_provider, meter_provider=meter_provider, long_turn_threshold="2s"
)


class Flight(BaseModel):
    destination: str


@runtime.actor("x-wing")
class XWing(Actor):
    @method
    async def fly(self, flight: Flight) -> dict[str, str]:
        departed = await self.state.get("location", str, default="Yavin 4")
        await self.state.set("location", flight.destination)
        return {"from": departed, "to": flight.destination}


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)
app.mount("/metrics", make_asgi_app())  # the Prometheus reader's registry, for scrapers
