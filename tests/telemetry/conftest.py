"""OpenTelemetry's SDK with in-memory export, given to each runtime explicitly (the global
providers can be set only once per process), and a recording stand-in for the sidecar."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dapr_actors_fastapi import ActorRuntime

from ..helpers import answer_lifespan, serve


@dataclass
class Otel:
    """An SDK tracer and meter provider whose output the test reads."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def runtime(self, **settings: Any) -> ActorRuntime:
        """An ``ActorRuntime`` reporting to these providers."""
        return ActorRuntime(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **settings
        )

    def spans(self) -> dict[str, ReadableSpan]:
        """Finished spans by name (each name once)."""
        finished = self.exporter.get_finished_spans()
        by_name = {span.name: span for span in finished}
        assert len(by_name) == len(finished), [span.name for span in finished]
        return by_name

    def points(self, instrument: str) -> dict[frozenset[tuple[str, Any]], Any]:
        """The data points of ``instrument`` by their attributes: a sum's value, or a
        histogram's count."""
        data = self.reader.get_metrics_data()
        found: dict[frozenset[tuple[str, Any]], Any] = {}
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name != instrument:
                        continue
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = point.count  # type: ignore[attr-defined]
                        found[frozenset(point.attributes.items())] = value
        return found


def attrs(**attributes: Any) -> frozenset[tuple[str, Any]]:
    return frozenset(attributes.items())


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Otel(tracer_provider, meter_provider, exporter, reader)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@dataclass
class FakeSidecar:
    """Answers the actor state and reminder routes as daprd does (204, nothing stored), or
    with ``fail_status``; records each request's method, path and headers."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    fail_status: int | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        while (await receive()).get("more_body"):
            pass
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.requests.append((scope["method"], scope["path"], headers))
        status, body = 204, b""
        if self.fail_status is not None:
            status = self.fail_status
            body = b'{"errorCode":"ERR_STATE_STORE","message":"the store is down"}'
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def fake_sidecar(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSidecar]:
    sidecar = FakeSidecar()
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve(sidecar))
        monkeypatch.setenv("DAPR_HTTP_ENDPOINT", url)
        yield sidecar
