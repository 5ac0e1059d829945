"""``ActorLogContext``: a logging filter that says which actor turn a record came from (a leaf:
it reads the turn context and OpenTelemetry's current span, nothing else of the package).

A filter rather than a formatter or an adapter, because it must reach records of every logger,
the user's own included, without changing how they log: attached to a handler, it stamps each
record that passes through, and any formatter can then use the fields.
"""

from __future__ import annotations

import logging

from opentelemetry import trace

from .._turn import current_turn

# ``turn_name``, not ``name``: a record's ``name`` is its logger's, which formatters print.
CONTEXT_FIELDS = ("actor_type", "actor_id", "turn", "turn_name", "trace_id", "span_id")


class ActorLogContext(logging.Filter):
    """Adds the current actor turn to every record it sees, and never drops one.

    Inside a turn, a record gets ``actor_type``, ``actor_id``, ``turn`` (``"method"``,
    ``"reminder"``, ``"timer"`` or ``"deactivate"``) and ``turn_name`` (the method, reminder or
    timer name), plus ``trace_id`` and ``span_id`` in hex: the current OpenTelemetry span's when one
    is recording, else those of the ``traceparent`` daprd sent with the call. Outside a turn,
    and for ids with no trace, the fields are ``None``, so that one format string serves every
    record. Attach it to a handler (``handler.addFilter(ActorLogContext())``), which sees the
    records of every logger; a filter on a logger sees only that logger's own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        turn = current_turn()
        if turn is None:
            for field in CONTEXT_FIELDS:
                setattr(record, field, None)
            return True
        record.actor_type = turn.actor_type
        record.actor_id = turn.actor_id
        record.turn = turn.kind
        record.turn_name = turn.name
        record.trace_id, record.span_id = _trace_ids(turn.traceparent)
        return True


def _trace_ids(traceparent: str | None) -> tuple[str | None, str | None]:
    """(trace id, span id) of the recording span, else of ``traceparent``; hex, or ``None``."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return f"{context.trace_id:032x}", f"{context.span_id:016x}"
    # W3C: version "-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags.
    parts = traceparent.split("-") if traceparent else ()
    if len(parts) >= 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
        return parts[1], parts[2]
    return None, None
