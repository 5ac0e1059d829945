"""Runtime and per-type settings, validated when the app is defined.

daprd reads them once, in ``/dapr/config`` (``_hosting/config_document.py``), and silently
hosts nothing if it cannot decode them (docs/protocol.md §2), so every value is checked here,
with an ``ActorConfigError`` that names the setting, the value and the accepted forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from ..durations import to_nanoseconds
from ..exceptions import ActorConfigError

Duration = timedelta | str

# daprd's own defaults (docs/protocol.md §2.4, §5.3), except drain_timeout: daprd's 2 s is too short
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
