"""The public API is one import with a curated, sorted ``__all__``."""

from __future__ import annotations

import subprocess
import sys

import dapr_actors_fastapi

EXPECTED = {
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
