"""Host Dapr virtual actors in a FastAPI app.

Everything a user needs is importable from here::

    from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

The public modules are this package, ``exceptions``, ``durations``, ``testing`` and the dev
sidecar ``sidecar``; each lists its promises in ``__all__``. Modules and packages whose names
start with ``_`` are internal (docs/architecture.md shows how they are layered).
"""

from ._actor_api.actor import Actor
from ._actor_api.actor_type import ActorType
from ._actor_api.decorators import method, reminder, timer
from ._actor_api.scheduling import ActorReminders, ActorTimers, Reminder
from ._actor_api.settings import ActorSettings
from ._actor_api.state import ActorState
from ._client.sidecar_client import SidecarClient, SidecarResponse
from ._hosting.front_door import ActorFrontDoor
from ._runtime import ActorRuntime
from ._telemetry.log_context import ActorLogContext
from ._turn import Turn, current_turn
from ._version import __version__ as __version__
from .exceptions import (
    ActorConfigError,
    ActorError,
    ActorInvokeError,
    ActorMethodNotFound,
    ActorRuntimeClosed,
    ActorRuntimeNotStarted,
    ActorTypeNotFound,
    DaprActorsError,
    InvalidActorRequest,
    InvalidApiToken,
    MultipleWorkersError,
    RequestBodyTooLarge,
    SidecarError,
    SidecarTimeout,
    SidecarUnavailable,
    StackDepthExceeded,
    StateKeyNotFound,
)

__all__ = [
    "Actor",
    "ActorConfigError",
    "ActorError",
    "ActorFrontDoor",
    "ActorInvokeError",
    "ActorLogContext",
    "ActorMethodNotFound",
    "ActorReminders",
    "ActorRuntime",
    "ActorRuntimeClosed",
    "ActorRuntimeNotStarted",
    "ActorSettings",
    "ActorState",
    "ActorTimers",
    "ActorType",
    "ActorTypeNotFound",
    "DaprActorsError",
    "InvalidActorRequest",
    "InvalidApiToken",
    "MultipleWorkersError",
    "Reminder",
    "RequestBodyTooLarge",
    "SidecarClient",
    "SidecarError",
    "SidecarResponse",
    "SidecarTimeout",
    "SidecarUnavailable",
    "StackDepthExceeded",
    "StateKeyNotFound",
    "Turn",
    "current_turn",
    "method",
    "reminder",
    "timer",
]
