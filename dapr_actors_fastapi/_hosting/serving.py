"""Whether the app still starts turns: the runtime's lifespan begins the drain at shutdown.

Once draining, a callback that would start a new turn is answered ``503
ERR_ACTOR_RUNTIME_CLOSED`` (docs/protocol.md P17) and ``/healthz`` answers 503, while the turns
already in flight, and the reentrant calls they make, finish and every active actor
deactivates. Without it a call arriving during shutdown activated a fresh instance that was
never deactivated, and failed like a method error once the sidecar client closed.

One object per runtime, shared by its type hosts and its health endpoint.
"""

from __future__ import annotations


class ServingState:
    """``draining`` is ``False`` while the app serves and ``True`` once its shutdown began."""

    __slots__ = ("draining",)

    def __init__(self) -> None:
        self.draining = False
