"""The span daprd makes for each actor call it relays, ``CallActor/{type}/{method}``.

daprd's HTTP API names its server span for ``/v1.0/actors/{type}/{id}/method/{method}`` that way
and sends the app that span's context, so the app's turn is its child (docs/protocol.md §7.1). The
dev sidecar does the same when an OpenTelemetry SDK is installed in its process; without one it
passes the caller's ``traceparent`` through unchanged.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from .._telemetry.telemetry import TRACE_CONTEXT

_TRACE_HEADERS = ("traceparent", "tracestate")


class ActorCallSpan:
    """The relay's span: a child of the caller's trace; ``headers`` carry it to the app."""

    def __init__(
        self,
        tracer: Tracer,
        actor_type: str,
        actor_id: str,
        method: str,
        headers: list[tuple[str, str]],
    ) -> None:
        incoming = {
            name.lower(): value for name, value in headers if name.lower() in _TRACE_HEADERS
        }
        actor = f"{actor_type}.{actor_id}"
        self._span = tracer.start_span(
            f"CallActor/{actor_type}/{method}",
            context=TRACE_CONTEXT.extract(incoming) if incoming else None,
            kind=SpanKind.SERVER,
            # daprd's attributes for this span (pkg/api/http/actors.go,
            # appendActorInvocationSpanAttributesFn).
            attributes={
                "dapr.api.actor_type_id": actor,
                "rpc.service": "ServiceInvocation",
                "net.peer.name": actor,
            },
        )
        outgoing: dict[str, str] = {}
        TRACE_CONTEXT.inject(outgoing, context=trace.set_span_in_context(self._span))
        kept = [(name, value) for name, value in headers if name.lower() not in _TRACE_HEADERS]
        self.headers = kept + list(outgoing.items())

    def end(self, status: int | None, error: BaseException | None = None) -> None:
        """The app answered ``status`` (an error body is its own), or the relay failed."""
        if error is not None:
            self._span.record_exception(error)
            self._span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif status is not None and status >= 400:
            self._span.set_status(Status(StatusCode.ERROR, f"the app answered {status}"))
        if status is not None:
            self._span.set_attribute("http.response.status_code", status)
        self._span.end()
