"""The dev sidecar: the sidecar side of Dapr's actor and service invocation APIs on one machine.

A development and test tool: production runs next to real daprd, and nothing on the app-side
path imports this package. It needs the ``dev`` extra (``pip install
'dapr-actors-fastapi[dev]'``); without it, importing it raises ``ModuleNotFoundError`` saying so.
"""

from .._dev_extra import require_dev_extra

# Before any module of the package is imported: each of them imports through this file.
require_dev_extra(__name__)

from .server import Sidecar, create_app
from .settings import SidecarSettings

__all__ = ["Sidecar", "SidecarSettings", "create_app"]
