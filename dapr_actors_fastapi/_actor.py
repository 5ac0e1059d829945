"""The ``Actor`` base class, the ``Turn`` it runs in, and the context variable that carries it.

The current turn lives in a context variable, not on the actor, because reentrant requests of
one chain run concurrently on the same actor object: each request's task sees its own turn, and
the sidecar client forwards that turn's ``Dapr-Reentrancy-Id`` and trace headers.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from ._config import ActorSettings

TurnKind = Literal["method", "reminder", "timer", "deactivate"]


@dataclass(frozen=True, slots=True)
class ActorType:
    """A registered actor type: its wire name, its class and its effective settings."""

    name: str
    actor_class: type[Actor]
    settings: ActorSettings


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


_current_turn: ContextVar[Turn | None] = ContextVar("dapr_actors_fastapi_turn", default=None)


def current_turn() -> Turn | None:
    """The turn the calling code runs in, or ``None`` outside actor callbacks."""
    return _current_turn.get()


class Actor:
    """Base class of user actors.

    The runtime creates one instance per active actor id and calls it one turn at a time.
    Put set-up in ``on_activate`` rather than ``__init__``; if you do override ``__init__``,
    keep its signature and call ``super().__init__(actor_id, actor_type)``.
    """

    def __init__(self, actor_id: str, actor_type: ActorType) -> None:
        self._actor_id = actor_id
        self._actor_type = actor_type

    @property
    def id(self) -> str:
        """This actor's id, as it appears in the URL."""
        return self._actor_id

    @property
    def type_name(self) -> str:
        """This actor's registered type name."""
        return self._actor_type.name

    @property
    def actor_type(self) -> ActorType:
        """The registered type this actor belongs to."""
        return self._actor_type

    async def on_activate(self) -> None:
        """Runs once, inside the first turn of this instance, before its handler."""

    async def on_deactivate(self) -> None:
        """Runs when the sidecar deactivates the actor or the app shuts down.

        daprd has already dropped the actor when it sends the deactivation, so state written
        here cannot be saved (protocol.md §4.4): save it at the end of each turn instead.
        """

    async def on_turn_start(self, turn: Turn) -> None:
        """Runs before each method, reminder and timer handler (after ``on_activate``)."""

    async def on_turn_end(self, turn: Turn) -> None:
        """Runs after each handler that returned normally, before the response is sent."""

    async def on_turn_error(self, turn: Turn, error: Exception) -> None:
        """Runs when activation, a handler or a turn hook raised; the error is still answered."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type_name}/{self.id}>"
