"""Header names and defaults of daprd's HTTP protocol (docs/protocol.md §4, §5.2, §7.0, §10).

Names are written as daprd documents them; HTTP compares them without case, so code that
matches raw ASGI headers uses the ``*_KEY`` forms (lower-case bytes).
"""

from __future__ import annotations

REENTRANCY_ID = "Dapr-Reentrancy-Id"
"""Identifies a reentrant call chain; sent back on every sidecar call made during the turn."""
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
API_TOKEN = "dapr-api-token"
"""daprd → app: ``APP_API_TOKEN``; app → daprd: ``DAPR_API_TOKEN``."""
ERROR_RESPONSE = "X-DaprErrorResponseHeader"
"""On a 200 answer: the body is the actor's error, relayed verbatim (§4.5)."""
REMINDER_CANCEL = "X-DaprReminderCancel"
"""On a reminder or timer answer: stop this recurrence (§4.7)."""

REENTRANCY_ID_KEY = REENTRANCY_ID.lower().encode()
TRACEPARENT_KEY = TRACEPARENT.encode()
TRACESTATE_KEY = TRACESTATE.encode()
API_TOKEN_KEY = API_TOKEN.encode()
ERROR_RESPONSE_KEY = ERROR_RESPONSE.lower().encode()
REMINDER_CANCEL_KEY = REMINDER_CANCEL.lower().encode()

DEFAULT_HTTP_PORT = 3500
"""The sidecar's HTTP port when ``DAPR_HTTP_PORT`` is not set."""
DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024
"""daprd's default ``--max-body-size``."""
