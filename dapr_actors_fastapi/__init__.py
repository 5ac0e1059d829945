"""Host Dapr virtual actors in a FastAPI app.

Everything a user needs is importable from here::

    from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer
"""

from ._actor import Actor, ActorType
from ._config import ActorSettings
from ._handlers import method, reminder, timer
from ._runtime import ActorRuntime
from ._scheduling import ActorReminders, ActorTimers, Reminder
from ._sidecar import SidecarClient, SidecarResponse
from ._state import ActorState
from ._turn import Turn, current_turn
from .exceptions import (
    ActorConfigError,
    ActorError,
    ActorInvokeError,
    ActorMethodNotFound,
    ActorTypeNotFound,
    DaprActorsError,
    InvalidActorRequest,
    InvalidApiToken,
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
    "ActorInvokeError",
    "ActorMethodNotFound",
    "ActorReminders",
    "ActorRuntime",
    "ActorSettings",
    "ActorState",
    "ActorTimers",
    "ActorType",
    "ActorTypeNotFound",
    "DaprActorsError",
    "InvalidActorRequest",
    "InvalidApiToken",
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

__version__ = "0.1.0"
