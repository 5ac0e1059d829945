"""``Telemetry``: a runtime's tracer and metric instruments, bound when the app starts.

The package speaks only the OpenTelemetry API, as OpenTelemetry asks of libraries; the user
installs an SDK and exporters. The API's own providers are placeholders that do nothing, but
calling them still costs a few microseconds per instrument, which the hot path would pay on
every turn for nothing. So ``bind()`` checks what is installed once, and code on the hot path
asks a single attribute, ``enabled``, before doing any telemetry work at all.

Metric attributes are bounded: actor types and handler names are declared in code, a name that
is not declared is recorded as ``UNKNOWN_NAME``, and no actor id is ever an attribute.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal

from opentelemetry import metrics, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .._version import __version__

SCOPE = "dapr_actors_fastapi"
UNKNOWN_NAME = "_unknown"
RPC_SYSTEM = "dapr"

Outcome = Literal["ok", "error"]

# W3C trace context only: it is what daprd reads and writes (traceparent, tracestate), whatever
# other propagators the user's app has installed globally.
TRACE_CONTEXT = TraceContextTextMapPropagator()

# Bucket bounds of the duration histograms, in seconds: OpenTelemetry's advice for request
# durations (the SDK's own default, 0 to 10,000, assumes milliseconds).
SECONDS_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)

# The API's placeholder providers live in its own modules; an SDK's live elsewhere.
_PLACEHOLDER_MODULES = ("opentelemetry.trace", "opentelemetry.metrics")


class Instruments:
    """The package's metric instruments (the README's Observability table)."""

    def __init__(self, meter: metrics.Meter) -> None:
        self.active = meter.create_up_down_counter(
            "dapr.actors.active", unit="{actor}", description="Actors active in this process"
        )
        self.activations = meter.create_counter(
            "dapr.actors.activations", unit="{activation}", description="Actor activations"
        )
        self.deactivations = meter.create_counter(
            "dapr.actors.deactivations", unit="{deactivation}", description="Deactivations"
        )
        self.turn_duration = meter.create_histogram(
            "dapr.actors.turn.duration",
            unit="s",
            description="Time a turn ran, queue excluded",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self.queue_wait = meter.create_histogram(
            "dapr.actors.turn.queue_wait",
            unit="s",
            description="Time a turn waited its turn",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self.long_turns = meter.create_counter(
            "dapr.actors.turn.long", unit="{turn}", description="Turns over the long threshold"
        )
        self.sidecar_duration = meter.create_histogram(
            "dapr.actors.sidecar.request.duration",
            unit="s",
            description="Requests from actors to the Dapr sidecar",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )


class Telemetry:
    """Where the package's spans and measurements go.

    ``tracer_provider`` / ``meter_provider`` are used when given; otherwise ``bind()`` takes the
    global ones, if an SDK installed them. Until something is bound, ``enabled`` is ``False``
    and nothing is traced or measured. ``long_turn_seconds``: a turn that runs longer is logged
    as a warning, telemetry or not, and counted in ``dapr.actors.turn.long`` when metrics are on.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        long_turn_seconds: float = 1.0,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self.long_turn_seconds = long_turn_seconds
        self.tracer: Tracer | None = None
        self.instruments: Instruments | None = None
        self.enabled = False
        self._bound = False
        if tracer_provider is not None or meter_provider is not None:
            self.bind()

    def bind(self) -> None:
        """Take the tracer and meter from the providers given, else from the global ones (a
        provider that is the API's placeholder leaves its half off). Only the first call binds:
        instruments are made once."""
        if self._bound:
            return
        self._bound = True
        meter_provider = self._meter_provider or metrics.get_meter_provider()
        self.tracer = installed_tracer(self._tracer_provider, SCOPE)
        self.instruments = (
            Instruments(meter_provider.get_meter(SCOPE, __version__))
            if _installed(meter_provider)
            else None
        )
        self.enabled = self.tracer is not None or self.instruments is not None

    def count_deactivated(self, actor_type: str, count: int = 1) -> None:
        """``count`` actors of ``actor_type`` left memory."""
        if self.instruments is not None:
            attributes = {"actor_type": actor_type}
            self.instruments.deactivations.add(count, attributes)
            self.instruments.active.add(-count, attributes)

    def sidecar_call(self, method: str, path: str) -> SidecarCall:
        """Start observing one request to the sidecar (call only when ``enabled``)."""
        return SidecarCall(self, method, path)


class SidecarCall:
    """One request to the sidecar: a client span when a span is current (the turn's, or the
    user's), whose context the request carries; and its duration in
    ``dapr.actors.sidecar.request.duration`` by operation and outcome."""

    __slots__ = ("_instruments", "_operation", "_span", "_started", "headers")

    def __init__(self, telemetry: Telemetry, method: str, path: str) -> None:
        self._operation = sidecar_operation(method, path)
        self._instruments = telemetry.instruments
        self._span: Span | None = None
        self.headers: dict[str, str] = {}  # traceparent/tracestate to send, if spanned
        tracer = telemetry.tracer
        if tracer is not None and trace.get_current_span().get_span_context().is_valid:
            self._span = tracer.start_span(
                self._operation,
                kind=SpanKind.CLIENT,
                attributes={
                    "rpc.system": RPC_SYSTEM,
                    "dapr.operation": self._operation,
                    "http.request.method": method,
                    "url.path": path,
                },
            )
            TRACE_CONTEXT.inject(self.headers, context=trace.set_span_in_context(self._span))
        self._started = time.perf_counter()

    def finish(self, status: int | None, error: BaseException | None = None) -> None:
        """End it: the sidecar answered ``status``, or the request failed with ``error``."""
        outcome: Outcome = (
            "ok" if error is None and status is not None and status < 400 else "error"
        )
        if self._instruments is not None:
            self._instruments.sidecar_duration.record(
                time.perf_counter() - self._started,
                {"operation": self._operation, "outcome": outcome},
            )
        span = self._span
        if span is None:
            return
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if error is not None:
            span.record_exception(error)
        if outcome == "error":
            span.set_status(Status(StatusCode.ERROR, _describe(status, error)))
        span.end()


# The operation of each sidecar route an actor uses: (path segment after the actor, method).
_ACTOR_OPERATIONS: Mapping[tuple[str, str], str] = {
    ("state", "GET"): "state.get",
    ("state", "POST"): "state.save",
    ("state", "PUT"): "state.save",
    ("reminders", "PUT"): "reminder.register",
    ("reminders", "POST"): "reminder.register",
    ("reminders", "GET"): "reminder.get",
    ("reminders", "DELETE"): "reminder.delete",
    ("timers", "PUT"): "timer.register",
    ("timers", "POST"): "timer.register",
    ("timers", "DELETE"): "timer.delete",
    ("method", "GET"): "invoke_actor",
    ("method", "POST"): "invoke_actor",
    ("method", "PUT"): "invoke_actor",
    ("method", "DELETE"): "invoke_actor",
}


def sidecar_operation(method: str, path: str) -> str:
    """A bounded name for a request to the sidecar API: ``state.get``, ``state.save``,
    ``reminder.register``, ``invoke_actor``, ``invoke``, ..., or ``other``."""
    parts = path.partition("?")[0].split("/")
    # ["", "v1.0", "actors", type, id, segment, ...] or ["", "v1.0", "invoke", app, ...]
    if len(parts) > 5 and parts[2] == "actors":
        return _ACTOR_OPERATIONS.get((parts[5], method.upper()), "other")
    if len(parts) > 2 and parts[2] == "invoke":
        return "invoke"
    return "other"


def _describe(status: int | None, error: BaseException | None) -> str:
    if error is not None:
        return f"{type(error).__name__}: {error}"
    return f"the sidecar answered {status}"


def installed_tracer(provider: trace.TracerProvider | None, scope: str) -> Tracer | None:
    """A tracer of ``provider``, else of the global provider; ``None`` when that is the API's
    placeholder (no SDK installed), so that callers skip tracing altogether."""
    provider = provider or trace.get_tracer_provider()
    return provider.get_tracer(scope, __version__) if _installed(provider) else None


def _installed(provider: object) -> bool:
    """Whether ``provider`` is an SDK's, not one of the API's placeholders."""
    return not type(provider).__module__.startswith(_PLACEHOLDER_MODULES)
