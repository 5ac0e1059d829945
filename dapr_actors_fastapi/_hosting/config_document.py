"""The ``GET /dapr/config`` document: the registration daprd reads once (docs/protocol.md §2).

daprd silently hosts nothing if it cannot decode the document, so it is built from validated
settings only: Go duration strings, registered types only, and for every type with overrides a
*complete* ``entitiesConfig`` entry, because daprd does not inherit top-level values into an
entry (P8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._actor_api.settings import ActorSettings
from ..durations import format_go_duration


@dataclass(frozen=True)
class TypeConfig:
    """One registered type as the config document sees it."""

    name: str
    settings: ActorSettings
    has_overrides: bool


def config_document(
    *,
    defaults: ActorSettings,
    scan_interval: int,
    reentrancy_configured: bool,
    types: Iterable[TypeConfig],
) -> dict[str, Any]:
    """The ``/dapr/config`` body (docs/protocol.md §2.4–2.5)."""
    types = list(types)
    document: dict[str, Any] = {
        "entities": [t.name for t in types],
        "actorIdleTimeout": format_go_duration(defaults.idle_timeout),
        "actorScanInterval": format_go_duration(scan_interval),
        "drainOngoingCallTimeout": format_go_duration(defaults.drain_timeout),
        "drainRebalancedActors": defaults.drain_rebalanced,
    }
    if reentrancy_configured:
        document["reentrancy"] = _reentrancy_block(defaults)
    entries = [_entity_entry(t) for t in types if t.has_overrides]
    if entries:
        document["entitiesConfig"] = entries
    return document


def _entity_entry(type_config: TypeConfig) -> dict[str, Any]:
    settings = type_config.settings
    return {
        "entities": [type_config.name],
        "actorIdleTimeout": format_go_duration(settings.idle_timeout),
        "drainOngoingCallTimeout": format_go_duration(settings.drain_timeout),
        "drainRebalancedActors": settings.drain_rebalanced,
        "reentrancy": _reentrancy_block(settings),
    }


def _reentrancy_block(settings: ActorSettings) -> dict[str, Any]:
    return {"enabled": settings.reentrancy, "maxStackDepth": settings.max_stack_depth}
