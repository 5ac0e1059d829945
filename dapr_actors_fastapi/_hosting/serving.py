"""Whether the app starts turns: not before the runtime's lifespan started, nor once it drains.

Before the lifespan starts, a callback is answered ``500 ERR_ACTOR_RUNTIME_NOT_STARTED``
naming the fix (docs/protocol.md P19): without the lifespan the sidecar client is closed, so
the turn would fail at its first state read with an unrelated-looking error, or succeed and
never be drained.

Once draining, a callback that would start a new turn is answered ``503
ERR_ACTOR_RUNTIME_CLOSED`` (P17) and ``/healthz`` answers 503, while the turns already in
flight, and the reentrant calls they make, finish and every active actor deactivates. Without
it a call arriving during shutdown activated a fresh instance that was never deactivated, and
failed like a method error once the sidecar client closed.

One object per runtime, shared by its type hosts and its health endpoint.
"""

from __future__ import annotations

from ..exceptions import ActorError, ActorRuntimeClosed, ActorRuntimeNotStarted


class ServingState:
    """``started`` once the lifespan began, ``draining`` once its shutdown began.

    ``refusing`` is true in either case where new turns are refused: the one attribute a
    request reads.
    """

    __slots__ = ("draining", "refusing", "started")

    def __init__(self) -> None:
        self.started = False
        self.draining = False
        self.refusing = True

    def start(self) -> None:
        """The lifespan started; a runtime may serve again after a shutdown (tests do)."""
        self.started, self.draining, self.refusing = True, False, False

    def drain(self) -> None:
        """The lifespan's shutdown began."""
        self.draining = self.refusing = True

    def refusal(self, actor_type: str, actor_id: str, what: str) -> ActorError:
        """The error for a turn refused while ``refusing``."""
        if self.started:
            return ActorRuntimeClosed(actor_type, actor_id, what)
        return ActorRuntimeNotStarted(actor_type, actor_id, what)
