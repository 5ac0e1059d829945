"""Reminders and timers of one actor (protocol.md §7.4, §7.5, §9). STUB: being written."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._actor import Actor


class ActorReminders:
    def __init__(self, actor: Actor) -> None:
        self._actor = actor


class ActorTimers:
    def __init__(self, actor: Actor) -> None:
        self._actor = actor


def cancel_recurrence(actor: Actor) -> None:
    raise NotImplementedError
