"""``TurnObserver``: the span and the measurements of one actor turn.

The host makes one per callback only while telemetry is enabled, and tells it three things:
the turn got the actor (``turn_started``), the actor is being activated (``activation``), and
how the turn ended (leaving the ``with``). The span starts when the callback arrives, so the
time spent queued behind other turns is inside it, and is also its attribute
``dapr.actor.queue_wait_ms``. It is the current span while the turn runs, so the actor's calls
to the sidecar, and the user's own spans, are its children.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import Token
from types import TracebackType

from opentelemetry import context, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from .._turn import Turn, TurnKind
from .telemetry import RPC_SYSTEM, TRACE_CONTEXT, Outcome, Telemetry

Attributes = dict[str, str]


class TurnLabels:
    """The attributes every turn of one kind carries (actor type, turn kind, handler name),
    built once per kind by the type host instead of for every turn.

    The dictionaries are shared by all those turns and never changed: the metrics SDK keeps a
    reference to the first one it sees for each series. ``metric_name`` is a declared handler's
    name or ``UNKNOWN_NAME``, so there are as many of these as handlers, not as names seen.
    """

    __slots__ = ("error", "named", "ok", "queued", "span", "typed")

    def __init__(self, actor_type: str, kind: TurnKind, metric_name: str) -> None:
        self.typed: Attributes = {"actor_type": actor_type}
        self.queued: Attributes = {"actor_type": actor_type, "turn": kind}
        self.named: Attributes = {**self.queued, "name": metric_name}
        self.ok: Attributes = {**self.named, "outcome": "ok"}
        self.error: Attributes = {**self.named, "outcome": "error"}
        # The span's attributes but the method, id and reentrancy id, which vary per turn.
        self.span: Attributes = {
            "rpc.system": RPC_SYSTEM,
            "rpc.service": actor_type,
            "dapr.actor.type": actor_type,
            "dapr.actor.turn": kind,
        }


class TurnObserver:
    """Observes one turn: ``with observer: ...`` around everything the callback does.

    ``labels`` are the attributes of the turn's kind (``TurnLabels``). When the actor's own
    code raised, the host says so with ``failed``, since what leaves the ``with`` is then the
    host's wrapper around that error.
    """

    __slots__ = (
        "_arrived",
        "_context_token",
        "_failure",
        "_labels",
        "_span",
        "_started",
        "_telemetry",
        "_turn",
    )

    def __init__(self, telemetry: Telemetry, turn: Turn, labels: TurnLabels) -> None:
        self._telemetry = telemetry
        self._turn = turn
        self._labels = labels
        self._span: Span | None = None
        self._context_token: Token[context.Context] | None = None
        self._failure: BaseException | None = None
        self._arrived = self._started = time.perf_counter()

    def __enter__(self) -> TurnObserver:
        tracer = self._telemetry.tracer
        if tracer is not None:
            turn = self._turn
            # A server span for this request may exist already (FastAPI's own telemetry, or
            # OpenTelemetry's ASGI middleware), made from the same traceparent: the turn is
            # then a step inside it. Otherwise the turn's span is the server span.
            nested = trace.get_current_span().get_span_context().is_valid
            self._span = tracer.start_span(
                f"{turn.actor_type}/{turn.name or turn.kind}",
                context=None if nested else _incoming_context(turn),
                kind=SpanKind.INTERNAL if nested else SpanKind.SERVER,
                attributes=_span_attributes(self._labels, turn, turn.name or turn.kind),
            )
            self._context_token = context.attach(trace.set_span_in_context(self._span))
        return self

    def turn_started(self) -> None:
        """The turn got the actor: what came before was queueing."""
        self._started = time.perf_counter()
        waited = self._started - self._arrived
        instruments = self._telemetry.instruments
        if instruments is not None:
            instruments.queue_wait.record(waited, self._labels.queued)
        if self._span is not None:
            self._span.set_attribute("dapr.actor.queue_wait_ms", waited * 1000)

    @contextlib.contextmanager
    def activation(self) -> Iterator[None]:
        """Around the activation that precedes the turn: a child span, and the counters."""
        turn = self._turn
        tracer = self._telemetry.tracer
        span = None
        if tracer is not None:
            span = tracer.start_span(
                f"{turn.actor_type}/activate",
                kind=SpanKind.INTERNAL,
                attributes=_span_attributes(self._labels, turn, "activate"),
            )
        outcome: Outcome = "error"
        try:
            with trace.use_span(span, end_on_exit=True) if span is not None else _nothing():
                yield
            outcome = "ok"
        finally:
            instruments = self._telemetry.instruments
            if instruments is not None:
                typed = self._labels.typed
                instruments.activations.add(1, {**typed, "outcome": outcome})
                if outcome == "ok":
                    instruments.active.add(1, typed)

    def failed(self, error: BaseException) -> None:
        """The actor's own code raised ``error``: the span records it, not its wrapper."""
        self._failure = error

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        ended = time.perf_counter()
        failure = self._failure or error
        outcome: Outcome = "ok" if error is None else "error"
        self._measure(ended - self._started, outcome)
        span = self._span
        if span is None:
            return
        if failure is not None:
            span.record_exception(failure)
            span.set_status(Status(StatusCode.ERROR, f"{type(failure).__name__}: {failure}"))
        span.end()
        if self._context_token is not None:
            context.detach(self._context_token)

    def _measure(self, seconds: float, outcome: Outcome) -> None:
        instruments = self._telemetry.instruments
        if instruments is not None:
            labels = self._labels
            instruments.turn_duration.record(
                seconds, labels.ok if outcome == "ok" else labels.error
            )

    def count_long_turn(self) -> None:
        """The host found the turn long (it logs that itself, telemetry or not)."""
        instruments = self._telemetry.instruments
        if instruments is not None:
            instruments.long_turns.add(1, self._labels.named)


def _span_attributes(labels: TurnLabels, turn: Turn, method: str) -> Attributes:
    attributes = {**labels.span, "rpc.method": method, "dapr.actor.id": turn.actor_id}
    if turn.reentrancy_id:
        attributes["dapr.reentrancy_id"] = turn.reentrancy_id
    return attributes


def _incoming_context(turn: Turn) -> context.Context | None:
    """The caller's trace, from the ``traceparent`` daprd sent (``None``: a new trace)."""
    if not turn.traceparent:
        return None
    carrier = {"traceparent": turn.traceparent}
    if turn.tracestate:
        carrier["tracestate"] = turn.tracestate
    return TRACE_CONTEXT.extract(carrier)


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield
