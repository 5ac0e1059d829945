"""Runtime and per-type settings, and the ``GET /dapr/config`` document built from them.

daprd reads ``/dapr/config`` once and silently hosts nothing if it cannot decode it
(protocol.md §2), so the document is built from validated settings only: Go duration strings,
registered types only, and for every type with overrides a *complete* ``entitiesConfig`` entry,
because daprd does not inherit top-level values into an entry (P8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from .durations import format_go_duration, to_nanoseconds
from .exceptions import ActorConfigError

Duration = timedelta | str

# daprd's own defaults (protocol.md §2.4, §5.3), except drain_timeout: daprd's 2 s is too short
# for the shutdown drain this runtime also uses it for.
DEFAULT_IDLE_TIMEOUT = "1h"
DEFAULT_SCAN_INTERVAL = "30s"
DEFAULT_DRAIN_TIMEOUT = "30s"
DEFAULT_MAX_STACK_DEPTH = 32


@dataclass(frozen=True)
class ActorSettings:
    """The effective settings of one actor type (durations in nanoseconds)."""

    idle_timeout: int
    drain_timeout: int
    drain_rebalanced: bool
    reentrancy: bool
    max_stack_depth: int
    cache_state: bool = True  # app-side only: not part of /dapr/config

    def overridden(self, overrides: Mapping[str, Any]) -> ActorSettings:
        """These settings with the validated ``overrides`` applied."""
        return replace(self, **validate_settings(overrides))


_SETTING_NAMES = frozenset(field.name for field in fields(ActorSettings))
# The settings daprd reads: overriding one of these gives the type an entitiesConfig entry.
WIRE_SETTINGS = _SETTING_NAMES - {"cache_state"}


def validate_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate user-given settings; ``None`` means "not set" and is dropped.

    Raises ``ActorConfigError`` naming the setting, the value and the accepted forms.
    """
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name not in _SETTING_NAMES:
            raise ActorConfigError(
                f"unknown actor setting {name!r}; known: {sorted(_SETTING_NAMES)}"
            )
        clean[name] = _validate_setting(name, value)
    return clean


def _validate_setting(name: str, value: Any) -> Any:
    if name in ("idle_timeout", "drain_timeout"):
        return duration_setting(name, value)
    if name in ("drain_rebalanced", "reentrancy", "cache_state"):
        if not isinstance(value, bool):
            raise ActorConfigError(f"{name} must be True or False, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ActorConfigError(f"max_stack_depth must be a positive int, got {value!r}")
    return value


def duration_setting(name: str, value: Any) -> int:
    """A positive duration setting in nanoseconds, or ``ActorConfigError``."""
    try:
        nanoseconds = to_nanoseconds(value, field=name)
    except (TypeError, ValueError) as error:
        raise ActorConfigError(str(error)) from None
    if nanoseconds <= 0:
        raise ActorConfigError(f"{name}={value!r} must be longer than zero")
    return nanoseconds


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
    """The ``/dapr/config`` body (protocol.md §2.4–2.5)."""
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
