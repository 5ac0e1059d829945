"""daprd's rule for the names it reads from URLs (``ValidateName``, docs/protocol.md §7.1): actor
types and ids, methods, reminder and timer names. One check, so that a name this package
accepts anywhere is one the sidecar accepts too."""

from __future__ import annotations

import re

# '/' is refused for methods too, where it would be ambiguous with the remind/ and timer/
# callback paths.
_INVALID_NAME = re.compile(r"[/\\#?\x00-\x1f\x7f]")

RESERVED_TYPE_PREFIX = "dapr.internal."
"""Actor types under this prefix belong to Dapr itself (workflows)."""


def is_valid_name(name: str) -> bool:
    """Whether daprd's ``ValidateName`` accepts ``name``."""
    return bool(name) and name not in (".", "..") and _INVALID_NAME.search(name) is None


def checked_name(what: str, name: object) -> str:
    """``name`` if daprd accepts it in a URL; ``TypeError`` or ``ValueError`` naming it."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__} {name!r}")
    if not is_valid_name(name):
        raise ValueError(
            f"{what} {name!r} is not valid: it must be a non-empty string without '/', '\\', "
            "'#', '?' or control characters, and not '.' or '..'"
        )
    return name
