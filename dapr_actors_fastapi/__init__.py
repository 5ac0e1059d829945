"""Host Dapr virtual actors in a FastAPI app.

Everything a user needs is importable from here::

    from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer
"""

from ._actor import Actor, ActorType
from ._config import ActorSettings
from ._handlers import method, reminder, timer
from ._runtime import ActorRuntime
from ._sidecar import SidecarClient, SidecarResponse
from ._turn import Turn, current_turn
from .exceptions import (
    ActorConfigError,
    ActorError,
    ActorMethodNotFound,
    ActorTypeNotFound,
    DaprActorsError,
    InvalidActorRequest,
    InvalidApiToken,
    RequestBodyTooLarge,
    SidecarError,
    SidecarUnavailable,
    StackDepthExceeded,
)

__all__ = [
    "Actor",
    "ActorConfigError",
    "ActorError",
    "ActorMethodNotFound",
    "ActorRuntime",
    "ActorSettings",
    "ActorType",
    "ActorTypeNotFound",
    "DaprActorsError",
    "InvalidActorRequest",
    "InvalidApiToken",
    "RequestBodyTooLarge",
    "SidecarClient",
    "SidecarError",
    "SidecarResponse",
    "SidecarUnavailable",
    "StackDepthExceeded",
    "Turn",
    "current_turn",
    "method",
    "reminder",
    "timer",
]

__version__ = "0.1.0"
