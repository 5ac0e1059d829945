"""The ``Actor`` base class and ``ActorType``, the registration of a class under a type name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Self

from ._proxy import actor_proxy
from ._scheduling import ActorReminders, ActorTimers, cancel_recurrence
from ._state import ActorState
from ._turn import Turn, TurnKind, current_turn

if TYPE_CHECKING:
    from ._config import ActorSettings
    from ._definition import ActorDefinition
    from ._runtime import ActorRuntime

__all__ = ["Actor", "ActorType", "Turn", "TurnKind", "current_turn"]


@dataclass(frozen=True, slots=True)
class ActorType:
    """A registered actor type: its wire name, its class and its effective settings.

    ``definition`` (the decorated handlers) and ``runtime`` (which hosts the type) are how an
    actor reaches its sidecar client and how proxies and timers check names against handlers.
    """

    name: str
    actor_class: type[Actor]
    settings: ActorSettings
    definition: ActorDefinition = field(repr=False, compare=False)
    runtime: ActorRuntime = field(repr=False, compare=False)


class Actor:
    """Base class of user actors.

    The runtime creates one instance per active actor id and calls it one turn at a time.
    Put set-up in ``on_activate`` rather than ``__init__``; if you do override ``__init__``,
    keep its signature and call ``super().__init__(actor_id, actor_type)``.
    """

    # Set by @runtime.actor on the class it registers (never inherited: read from the class's
    # own __dict__), so that ``XWing.proxy("33")`` knows which runtime hosts XWing.
    __actor_types__: ClassVar[tuple[ActorType, ...]] = ()

    # Created on first use of ``self.state``, so actors without state stay small.
    _state_manager: ActorState | None = None

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

    @property
    def state(self) -> ActorState:
        """This actor's state: cached reads, and writes saved in one transaction per turn."""
        manager = self._state_manager
        if manager is None:
            manager = self._state_manager = ActorState(self._actor_id, self._actor_type)
        return manager

    @property
    def reminders(self) -> ActorReminders:
        """Register, read and delete this actor's reminders (persisted by the sidecar)."""
        return ActorReminders(self)

    @property
    def timers(self) -> ActorTimers:
        """Register and delete this actor's timers (in the sidecar's memory only)."""
        return ActorTimers(self)

    @classmethod
    def proxy(cls, actor_id: str) -> Self:
        """A client for the actor ``actor_id`` of this class's registered type.

        Its methods have this class's signatures and send each call through the sidecar:
        ``await XWing.proxy("33").fly(destination="Hoth")``.
        """
        return actor_proxy(cls, actor_id)

    def cancel_recurrence(self) -> None:
        """From a reminder or timer handler: stop the reminder or timer that is firing.

        When the handler returns, the runtime deletes it through the sidecar and answers
        with ``X-DaprReminderCancel: true``. Raises ``RuntimeError`` in any other turn.
        """
        cancel_recurrence(self)

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
