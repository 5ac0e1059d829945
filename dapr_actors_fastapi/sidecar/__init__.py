"""The dev sidecar: the sidecar side of Dapr's actor and service invocation APIs on one machine.

A development and test tool: production runs next to real daprd, and nothing on the app-side
path imports this package.
"""

from .server import Sidecar, create_app
from .settings import SidecarSettings

__all__ = ["Sidecar", "SidecarSettings", "create_app"]
