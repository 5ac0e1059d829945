"""The ``dev`` extra: what the dev sidecar, its CLI and the test kit need beyond the core install.

An app hosting actors behind real daprd needs none of it, so ``pip install dapr-actors-fastapi``
leaves it out. A part that needs it checks first, so that without it the error is the install
command rather than a bare ``No module named 'aiohttp'`` from somewhere inside.
"""

from __future__ import annotations

from importlib.util import find_spec

INSTALL_DEV_EXTRA = "pip install 'dapr-actors-fastapi[dev]'"

# The top-level modules of the extra that the package imports on import (pyproject.toml's `dev`
# extra; tests/test_dependencies.py checks that missing each one is reported).
DEV_EXTRA_MODULES = ("aiohttp", "uvicorn", "yaml")


def require_dev_extra(part: str) -> None:
    """Raise ``ModuleNotFoundError`` naming ``part`` and the fix unless the dev extra is
    installed."""
    for module in DEV_EXTRA_MODULES:
        if find_spec(module) is None:
            raise ModuleNotFoundError(
                f"{part} needs the dev extra, which is not installed (no module {module!r}): "
                f"{INSTALL_DEV_EXTRA}",
                name=module,
            )
