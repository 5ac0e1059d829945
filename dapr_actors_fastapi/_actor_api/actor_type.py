"""``ActorType``: one registered actor type, and the small interfaces its actors reach out by.

An actor needs three things from outside its own class: the sidecar client (state, reminders,
timers), a way to ask whether a turn is still running (so that a task which outlived its turn
cannot write state), and a proxy factory (``XWing.proxy("33")``). Each is a small ``Protocol``
declared here and handed in by the hosting layer when the type is registered, so nothing in
this layer knows the runtime. Every live actor holds one reference: its ``ActorType``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .._client.sidecar_client import SidecarResponse
from .._turn import Turn
from .definition import ActorDefinition
from .settings import ActorSettings

A = TypeVar("A")
P = TypeVar("P")


class SidecarRequests(Protocol):
    """What state, reminders and timers need of the sidecar client."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
        raise_for_status: bool = True,
    ) -> SidecarResponse: ...


class TurnTracker(Protocol):
    """Whether a turn is running on an actor now (the type's host answers)."""

    def runs_turn(self, actor_id: str, turn: Turn) -> bool: ...


class ProxyFactory(Protocol):
    """Makes typed proxies (the hosting layer's outbound calls)."""

    def proxy(self, actor_class: type[P], actor_id: str, actor_type: str | None) -> P: ...


@dataclass(frozen=True, slots=True)
class ActorType(Generic[A]):
    """A registered actor type: its wire name, its class and its effective settings.

    ``name``, ``actor_class`` and ``settings`` are the public record. The other fields are how
    the package's own modules serve the type's actors (the decorated handlers, the sidecar
    client, the host's turn tracking and the proxy factory); they are not a public API.
    """

    name: str
    actor_class: type[A]
    settings: ActorSettings
    definition: ActorDefinition = field(repr=False, compare=False)
    sidecar: SidecarRequests = field(repr=False, compare=False)
    turns: TurnTracker = field(repr=False, compare=False)
    proxies: ProxyFactory = field(repr=False, compare=False)


AnyActorType = ActorType[Any]
