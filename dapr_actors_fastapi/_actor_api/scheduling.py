"""Reminders and timers of one actor (docs/protocol.md §7.4, §7.5, §9), and how a handler stops its
own recurrence (§4.7, P14).

* ``self.reminders`` and ``self.timers`` check everything (name, times, callback, data) before
  anything goes to the sidecar, so a mistake raises ``ValueError``/``TypeError`` on the line
  that made it instead of a ``SidecarError`` later; times are written in the forms daprd reads
  as meant (``_wire/schedules.py``).
* Reminders are kept by the sidecar (daprd's Scheduler) and survive restarts; timers live in
  the sidecar's memory. Either fires as a turn of the actor, with its data typed by the
  handler's ``data`` annotation.
* ``self.cancel_recurrence()`` in a reminder or timer handler marks the ``FiringRecurrence``
  the endpoint put in a context variable around that turn. When the turn succeeds, the endpoint
  deletes the reminder or timer through the sidecar API (daprd ignores the header: it neither
  deletes a Scheduler job nor stops a timer, §4.7) and answers with
  ``X-DaprReminderCancel: true`` (which the dev sidecar honours).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar, overload

from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from .._turn import Turn, current_turn, turn_context
from .._wire.names import checked_name
from .._wire.paths import recurrence_path
from .._wire.schedules import (
    SchedulePeriod,
    ScheduleTime,
    format_schedule_period,
    format_schedule_time,
)
from .._wire.strict_json import to_strict_json
from ..exceptions import SidecarError
from .actor_type import AnyActorType, SidecarRequests

T = TypeVar("T")
RecurrenceKind = Literal["reminder", "timer"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reminder(Generic[T]):
    """A reminder as the sidecar reports it (``await self.reminders.get(name)``).

    The strings are the sidecar's own: the dev sidecar reports them as registered, while daprd
    reports ``period`` as its Scheduler's schedule (``"@every 1m0s"``) and ``ttl`` only when it
    was registered as an instant (docs/protocol.md §7.4). ``None`` where the sidecar reported
    nothing. ``data`` is the registered JSON, validated as ``data_type`` when one was given.
    """

    name: str
    due_time: str | None
    period: str | None
    ttl: str | None
    data: T | None


class ActorReminders:
    """``self.reminders``: register, read and delete this actor's reminders.

    Each fire runs the actor's ``@reminder(name)`` handler (or its catch-all ``@reminder``)
    as a turn. The sidecar keeps reminders across restarts and delivers them at least once.
    """

    __slots__ = ("_actor_id", "_actor_type")

    def __init__(self, actor_type: AnyActorType, actor_id: str) -> None:
        self._actor_type = actor_type
        self._actor_id = actor_id

    async def register(
        self,
        name: str,
        *,
        due_time: ScheduleTime | None = None,
        period: SchedulePeriod | None = None,
        repetitions: int | None = None,
        ttl: ScheduleTime | None = None,
        data: Any = None,
    ) -> None:
        """Create or replace the reminder ``name``.

        * ``due_time``: the first fire, a length of time from now (``timedelta``, ``"30s"``,
          ``"PT30S"``) or an instant (an aware ``datetime``, ``"2030-01-01T00:00:00Z"``);
          default: now.
        * ``period``: how often it fires after that (``timedelta``, ``"10s"``, ``"PT10S"``, or
          ``"R5/PT10S"`` for 5 fires in all); default: once. No years, months, weeks or days:
          daprd refuses them in reminder periods, use ``"PT24H"``.
        * ``repetitions``: the total number of fires, instead of an ``Rn/`` prefix.
        * ``ttl``: when it expires, as a length of time after the due time or an instant; it
          needs a ``period``.
        * ``data``: any JSON-serializable value (pydantic model, dataclass, dict...), handed to
          the handler's ``data`` parameter; ``None`` registers no data.

        It needs a ``due_time`` or a ``period``. Invalid arguments raise ``ValueError`` or
        ``TypeError`` before anything is sent; the sidecar's refusal raises ``SidecarError``.
        """
        checked_name("reminder name", name)
        if due_time is None and period is None:
            raise ValueError(
                f"reminder {name!r} needs a due_time or a period; pass due_time=timedelta(0) "
                "to fire once right away"
            )
        if ttl is not None and period is None:
            raise ValueError(
                f"reminder {name!r}: ttl={ttl!r} needs a period (daprd expires only repeating "
                "reminders; a one-shot reminder just fires once)"
            )
        body = _registration(
            "reminder", name, due_time, period, repetitions, ttl, data, calendar=False
        )
        await self._actor_type.sidecar.request(
            "PUT",
            recurrence_path(self._actor_type.name, self._actor_id, "reminders", name),
            body=body,
            content_type="application/json",
        )
        _registered("reminder", name, self._actor_type.name, self._actor_id)

    @overload
    async def get(self, name: str) -> Reminder[Any] | None: ...
    @overload
    async def get(self, name: str, data_type: type[T]) -> Reminder[T] | None: ...
    async def get(self, name: str, data_type: Any = None) -> Reminder[Any] | None:
        """The reminder ``name``, or ``None`` when this actor has no reminder of that name.

        ``data_type`` (a model, ``int``, ``list[Order]``...) validates its data; data that does
        not fit raises ``ValueError``.
        """
        checked_name("reminder name", name)
        try:
            response = await self._actor_type.sidecar.request(
                "GET",
                recurrence_path(self._actor_type.name, self._actor_id, "reminders", name),
                idempotent=True,
            )
        except SidecarError as error:
            if error.status == 404 and error.error_code == "ERR_ACTOR_REMINDER_NOT_FOUND":
                return None
            raise
        found = response.json()
        if not isinstance(found, dict):
            raise ValueError(f"the sidecar answered reminder {name!r} with {found!r}")
        data = found.get("data")
        if data_type is not None and data is not None:
            try:
                data = TypeAdapter(data_type).validate_python(data)
            except ValidationError as error:
                raise ValueError(
                    f"the data of reminder {name!r} of {self._actor_type.name}/"
                    f"{self._actor_id} is not a valid "
                    f"{getattr(data_type, '__name__', data_type)}: {error}"
                ) from None
        return Reminder(
            name,
            found.get("dueTime") or None,
            found.get("period") or None,
            found.get("ttl") or None,
            data,
        )

    async def delete(self, name: str) -> None:
        """Delete the reminder ``name``; nothing happens if there is none."""
        checked_name("reminder name", name)
        await self._actor_type.sidecar.request(
            "DELETE",
            recurrence_path(self._actor_type.name, self._actor_id, "reminders", name),
            idempotent=True,
        )


class ActorTimers:
    """``self.timers``: register and delete this actor's timers.

    Each fire runs the ``@timer`` callback named at registration as a turn. Timers live in the
    sidecar's memory only: a sidecar restart loses them (and the dev sidecar stops them when
    the actor is deactivated, while daprd keeps them: do not depend on either, P13).
    """

    __slots__ = ("_actor_id", "_actor_type")

    def __init__(self, actor_type: AnyActorType, actor_id: str) -> None:
        self._actor_type = actor_type
        self._actor_id = actor_id

    async def register(
        self,
        name: str,
        callback: str | Callable[..., Any] | None = None,
        *,
        due_time: ScheduleTime | None = None,
        period: SchedulePeriod | None = None,
        repetitions: int | None = None,
        ttl: ScheduleTime | None = None,
        data: Any = None,
    ) -> None:
        """Create or replace the timer ``name``, which fires ``callback``.

        ``callback`` is a ``@timer`` handler of this actor: the function (``self.on_tick``) or
        its name; default: the ``@timer`` named ``name``. The times and ``data`` are as for
        ``reminders.register``, except that a timer's period may use days, weeks, months and
        years (``"P1D"``), and it fires at once when there is no ``due_time``.
        """
        checked_name("timer name", name)
        wire_callback = self._callback_name(name, callback)
        body = _registration(
            "timer",
            name,
            due_time,
            period,
            repetitions,
            ttl,
            data,
            calendar=True,
            callback=wire_callback,
        )
        await self._actor_type.sidecar.request(
            "PUT",
            recurrence_path(self._actor_type.name, self._actor_id, "timers", name),
            body=body,
            content_type="application/json",
        )
        _registered("timer", name, self._actor_type.name, self._actor_id)

    async def delete(self, name: str) -> None:
        """Delete the timer ``name``; nothing happens if there is none."""
        checked_name("timer name", name)
        await self._actor_type.sidecar.request(
            "DELETE",
            recurrence_path(self._actor_type.name, self._actor_id, "timers", name),
            idempotent=True,
        )

    def _callback_name(self, name: str, callback: str | Callable[..., Any] | None) -> str:
        """The wire name of the ``@timer`` handler ``callback`` (default: the one named
        ``name``); ``ValueError`` listing this actor's timer callbacks if there is none."""
        actor_type = self._actor_type
        timers = actor_type.definition.timers
        if callback is None or isinstance(callback, str):
            wire_name = name if callback is None else callback
            if wire_name in timers:
                return wire_name
            what = f"timer {name!r} has no callback= and" if callback is None else "callback:"
            raise ValueError(
                f"{what} actor type {actor_type.name!r} has no @timer named {wire_name!r}; "
                f"its timer callbacks: {sorted(timers)}"
            )
        if not callable(callback):
            raise TypeError(
                f"callback must be a @timer handler or its name, got {type(callback).__name__} "
                f"{callback!r}"
            )
        function = getattr(callback, "__func__", callback)  # a bound method's function
        for wire_name, binding in timers.items():
            if binding.function is function:
                return wire_name
        raise ValueError(
            f"callback={callback!r} is not a @timer handler of actor type {actor_type.name!r}; "
            f"decorate it with @timer, or use one of its timer callbacks: {sorted(timers)}"
        )


# -- cancelling from the handler (P14) ----------------------------------------------------------


class FiringRecurrence:
    """The reminder or timer whose handler runs in this turn, and whether it asked to stop.

    The endpoint enters one around each reminder and timer turn::

        with FiringRecurrence(turn) as firing:
            await host.run_turn(...)
        if firing.cancelled:
            await firing.delete(sidecar)  # then answer with X-DaprReminderCancel

    It travels in a context variable, like the turn, so only the handler's own task (and tasks
    it starts while the turn runs) can mark it, and method turns pay nothing.
    """

    __slots__ = ("_token", "cancelled", "ended", "turn")

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.cancelled = False
        self.ended = False
        self._token: Token[FiringRecurrence | None] | None = None

    def __enter__(self) -> Self:
        self._token = _firing.set(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.ended = True
        if self._token is not None:
            _firing.reset(self._token)
            self._token = None

    async def delete(self, sidecar: SidecarRequests) -> None:
        """Delete the cancelled reminder or timer through the sidecar API.

        A failure is logged, not raised: the handler succeeded, and the endpoint still answers
        with ``X-DaprReminderCancel`` (the dev sidecar stops the job on that alone).
        """
        turn = self.turn
        collection: Literal["reminders", "timers"] = (
            "reminders" if turn.kind == "reminder" else "timers"
        )
        path = recurrence_path(turn.actor_type, turn.actor_id, collection, turn.name)
        # In the turn's context, so the request carries the callback's trace headers.
        token = turn_context.set(turn)
        try:
            await sidecar.request("DELETE", path, idempotent=True)
        except Exception as error:
            logger.error(
                "%s %r of %s/%s cancelled itself, but deleting it failed (daprd may fire it "
                "again): %s",
                turn.kind,
                turn.name,
                turn.actor_type,
                turn.actor_id,
                error,
            )
        finally:
            turn_context.reset(token)


_firing: ContextVar[FiringRecurrence | None] = ContextVar(
    "dapr_actors_fastapi_firing_recurrence", default=None
)


def cancel_recurrence(actor_type: str, actor_id: str) -> None:
    """Mark the reminder or timer whose handler is running on the actor as cancelled.

    ``RuntimeError`` anywhere else: in a method or deactivation turn, outside any turn, or
    after the handler's turn ended.
    """
    firing = _firing.get()
    where = f"{actor_type}/{actor_id}"
    if firing is None:
        turn = current_turn()
        if turn is None:
            raise RuntimeError(
                f"cancel_recurrence() of {where} ran outside any actor turn; call it from a "
                "@reminder or @timer handler while it runs"
            )
        raise RuntimeError(
            f"cancel_recurrence() ran in the {turn.kind} turn {turn.name!r} of "
            f"{turn.actor_type}/{turn.actor_id}; only a @reminder or @timer handler can stop "
            "the recurrence that fired it (to stop another one, await "
            "self.reminders.delete(name) or self.timers.delete(name))"
        )
    turn = firing.turn
    if firing.ended:
        raise RuntimeError(
            f"cancel_recurrence() ran after the {turn.kind} turn {turn.name!r} of {where} "
            f"ended (in a task that outlived it?); await self.{turn.kind}s.delete"
            f"({turn.name!r}) instead"
        )
    if turn.actor_type != actor_type or turn.actor_id != actor_id:
        raise RuntimeError(
            f"cancel_recurrence() of {where} ran in the {turn.kind} turn {turn.name!r} of "
            f"{turn.actor_type}/{turn.actor_id}; an actor can only stop its own recurrence"
        )
    firing.cancelled = True


def _registered(kind: RecurrenceKind, name: str, actor_type: str, actor_id: str) -> None:
    """A handler that cancelled itself and then registered the same name keeps the new one:
    the last word wins (and deleting after the turn would remove the new registration)."""
    firing = _firing.get()
    if firing is None or not firing.cancelled or firing.ended:
        return
    turn = firing.turn
    if (turn.kind, turn.name, turn.actor_type, turn.actor_id) == (kind, name, actor_type, actor_id):
        firing.cancelled = False


# -- building requests --------------------------------------------------------------------------


def _registration(
    kind: RecurrenceKind,
    name: str,
    due_time: ScheduleTime | None,
    period: SchedulePeriod | None,
    repetitions: int | None,
    ttl: ScheduleTime | None,
    data: Any,
    *,
    calendar: bool,
    callback: str | None = None,
) -> bytes:
    """The JSON body registering a reminder or timer; every argument checked first."""
    fields: dict[str, Any] = {}
    if due_time is not None:
        fields["dueTime"] = format_schedule_time(due_time, field="due_time")
    if period is not None:
        fields["period"] = format_schedule_period(
            period, repetitions=repetitions, calendar=calendar
        )
    elif repetitions is not None:
        raise ValueError(f"{kind} {name!r}: repetitions={repetitions!r} needs a period")
    if ttl is not None:
        fields["ttl"] = format_schedule_time(ttl, field="ttl", allow_zero=False)
    if callback is not None:
        fields["callback"] = callback
    if data is None:
        return to_json(fields)
    # Serialized alone first, so that an error names the data rather than the whole body.
    encoded = to_strict_json(data, f"data of {kind} {name!r}")
    return to_json(fields)[:-1] + (b',"data":' if fields else b'"data":') + encoded + b"}"
