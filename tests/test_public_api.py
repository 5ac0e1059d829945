"""The public API is one import with a curated, sorted ``__all__``."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import dapr_actors_fastapi

EXPECTED = {
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
}


def test_all_is_exactly_the_public_api_and_sorted() -> None:
    assert set(dapr_actors_fastapi.__all__) == EXPECTED
    assert dapr_actors_fastapi.__all__ == sorted(dapr_actors_fastapi.__all__)


def test_every_exported_name_resolves_and_names_this_package() -> None:
    for name in dapr_actors_fastapi.__all__:
        member = getattr(dapr_actors_fastapi, name)
        assert member.__module__.startswith("dapr_actors_fastapi"), name


def test_no_private_module_leaks_into_the_namespace() -> None:
    public = {name for name in vars(dapr_actors_fastapi) if not name.startswith("_")}
    # Subpackages and public modules import as attributes; nothing else is exposed.
    assert public - EXPECTED <= {"exceptions", "durations", "sidecar", "testing"}


PUBLIC_MODULES = [
    "dapr_actors_fastapi",
    "dapr_actors_fastapi.durations",
    "dapr_actors_fastapi.exceptions",
    "dapr_actors_fastapi.sidecar",
    "dapr_actors_fastapi.testing",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_each_public_module_lists_its_promises_in_a_sorted_all(name: str) -> None:
    module = importlib.import_module(name)
    promised = module.__all__
    # isort's order, which ruff keeps: CONSTANTS, then Classes, then functions.
    assert promised == sorted(
        promised, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    for exported in promised:
        assert hasattr(module, exported), f"{name}.{exported}"


def test_internal_modules_promise_nothing() -> None:
    # The convention: public modules declare __all__; internal ones (a '_' in the path, or a
    # module inside the dev sidecar's package) do not, so nobody mistakes them for an API.
    root = Path(dapr_actors_fastapi.__file__).parent
    internal = [
        path
        for path in root.rglob("*.py")
        if ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        not in PUBLIC_MODULES
    ]
    assert len(internal) > 20
    declaring = [str(path) for path in internal if "\n__all__" in path.read_text()]
    assert declaring == []


def test_the_app_side_never_imports_the_dev_sidecar() -> None:
    # Production runs next to daprd: importing the package must not load the dev sidecar.
    code = (
        "import sys, dapr_actors_fastapi\n"
        "from dapr_actors_fastapi import ActorRuntime\n"
        "ActorRuntime().router\n"
        "assert not [m for m in sys.modules if m.startswith('dapr_actors_fastapi.sidecar')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_errors_subclass_the_builtins_that_fit() -> None:
    assert issubclass(dapr_actors_fastapi.ActorConfigError, ValueError)
    assert issubclass(dapr_actors_fastapi.ActorTypeNotFound, LookupError)
    assert issubclass(dapr_actors_fastapi.ActorMethodNotFound, LookupError)
    assert issubclass(dapr_actors_fastapi.InvalidActorRequest, ValueError)
    assert issubclass(dapr_actors_fastapi.InvalidApiToken, PermissionError)
    assert issubclass(dapr_actors_fastapi.StackDepthExceeded, RuntimeError)
    assert issubclass(dapr_actors_fastapi.ActorError, dapr_actors_fastapi.DaprActorsError)
