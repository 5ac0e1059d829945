"""The ``Actor`` base class: what users subclass, and what ``self.*`` reaches.

An instance holds its id and one reference to its ``ActorType``, which brings everything else
(state, reminders, timers, proxies) without the actor knowing the runtime. The module's
functions are for the hosting layer: they read and write what an instance or a class keeps
for it, so no other module touches those attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from .._turn import Turn
from ..exceptions import ActorConfigError
from .actor_type import ActorType, AnyActorType
from .scheduling import ActorReminders, ActorTimers, cancel_recurrence
from .state import ActorState


class Actor:
    """Base class of user actors.

    The runtime creates one instance per active actor id and calls it one turn at a time.
    Put set-up in ``on_activate`` rather than ``__init__``; if you do override ``__init__``,
    keep its signature and call ``super().__init__(actor_id, actor_type)``.
    """

    # Set by @runtime.actor on the class it registers (never inherited: read from the class's
    # own __dict__), so that ``XWing.proxy("33")`` knows which runtime hosts XWing.
    __actor_types__: ClassVar[tuple[AnyActorType, ...]] = ()

    # Created on first use of ``self.state``, so actors without state stay small.
    _state_manager: ActorState | None = None

    def __init__(self, actor_id: str, actor_type: AnyActorType) -> None:
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
    def actor_type(self) -> AnyActorType:
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
        return ActorReminders(self._actor_type, self._actor_id)

    @property
    def timers(self) -> ActorTimers:
        """Register and delete this actor's timers (in the sidecar's memory only)."""
        return ActorTimers(self._actor_type, self._actor_id)

    @classmethod
    def proxy(cls, actor_id: str) -> Self:
        """A client for the actor ``actor_id`` of this class's registered type.

        Its methods have this class's signatures and send each call through the sidecar:
        ``await XWing.proxy("33").fly(destination="Hoth")``.
        """
        # The class's own registrations only: a subclass of a registered class is another type.
        registrations = registrations_of(cls)
        if len(registrations) == 1:
            actor_type = registrations[0]
            return actor_type.proxies.proxy(cls, actor_id, actor_type.name)
        name = cls.__name__
        if not registrations:
            raise ActorConfigError(
                f"{name} is not registered with an ActorRuntime, so {name}.proxy() knows "
                f'neither its actor type nor a sidecar: decorate it with @runtime.actor("<type '
                f'name>"), or, when another app hosts it, call runtime.proxy({name}, '
                f'{actor_id!r}, actor_type="<type name>")'
            )
        names = ", ".join(repr(registration.name) for registration in registrations)
        raise ActorConfigError(
            f"{name} is registered {len(registrations)} times ({names}), so {name}.proxy() "
            f"cannot choose: call runtime.proxy({name}, {actor_id!r}, actor_type=...) on the "
            "runtime whose sidecar should send the call"
        )

    def cancel_recurrence(self) -> None:
        """From a reminder or timer handler: stop the reminder or timer that is firing.

        When the handler returns, the runtime deletes it through the sidecar and answers
        with ``X-DaprReminderCancel: true``. Raises ``RuntimeError`` in any other turn.
        """
        cancel_recurrence(self._actor_type.name, self._actor_id)

    async def on_activate(self) -> None:
        """Runs once, inside the first turn of this instance, before its handler."""

    async def on_deactivate(self) -> None:
        """Runs when the sidecar deactivates the actor or the app shuts down.

        daprd has already dropped the actor when it sends the deactivation, so state written
        here cannot be saved (docs/protocol.md §4.4): save it at the end of each turn instead.
        """

    async def on_turn_start(self, turn: Turn) -> None:
        """Runs before each method, reminder and timer handler (after ``on_activate``)."""

    async def on_turn_end(self, turn: Turn) -> None:
        """Runs after each handler that returned normally, before the response is sent."""

    async def on_turn_error(self, turn: Turn, error: Exception) -> None:
        """Runs when activation, a handler or a turn hook raised; the error is still answered."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type_name}/{self.id}>"


def state_of(actor: Actor) -> ActorState | None:
    """The actor's state, if its turns have used any (the host saves or discards it)."""
    return actor._state_manager


def registrations_of(actor_class: type[Any]) -> tuple[AnyActorType, ...]:
    """The types ``actor_class`` itself is registered as (never a parent's)."""
    registrations: tuple[AnyActorType, ...] = vars(actor_class).get("__actor_types__", ())
    return registrations


def record_registration(actor_type: ActorType[Any]) -> None:
    """Remember the registration on the class itself, so that ``ActorClass.proxy(id)`` can
    find the runtime that hosts it."""
    actor_class = actor_type.actor_class
    actor_class.__actor_types__ = (*registrations_of(actor_class), actor_type)


def overrides(actor_class: type[Actor], *hooks: str) -> bool:
    """Whether ``actor_class`` overrides any of the ``Actor`` hooks named (the host skips the
    calls to those it does not, on the hot path)."""
    return any(getattr(actor_class, hook) is not getattr(Actor, hook) for hook in hooks)
