"""The ``Turn`` a callback runs in, and the context variable that carries it (a leaf: it
imports nothing of the package).

The current turn lives in a context variable, not on the actor, because reentrant requests of
one chain run concurrently on the same actor object: each request's task sees its own turn, and
the sidecar client forwards that turn's ``Dapr-Reentrancy-Id`` and trace headers.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Literal, NamedTuple

TurnKind = Literal["method", "reminder", "timer", "deactivate"]


class Turn(NamedTuple):
    """One callback being handled: what it is, for whom, and the headers to propagate.

    ``name`` is the method's wire name, the reminder's name or the timer's name. (A named
    tuple because one is built for every request and it is the cheapest immutable record.)
    """

    kind: TurnKind
    name: str
    actor_type: str
    actor_id: str
    reentrancy_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


turn_context: ContextVar[Turn | None] = ContextVar("dapr_actors_fastapi_turn", default=None)
"""Set by the host around each turn (``set``/``reset``: the hot path avoids a context manager)."""


def current_turn() -> Turn | None:
    """The turn the calling code runs in, or ``None`` outside actor callbacks."""
    return turn_context.get()
