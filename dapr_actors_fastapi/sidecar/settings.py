"""``SidecarSettings``: how the dev sidecar runs (its app, its peers, its store, its tokens)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from opentelemetry.trace import TracerProvider

from .._wire.headers import DEFAULT_MAX_BODY_SIZE

# daprd has no invocation timeout without a resiliency policy; a target that never answers would
# then hold the caller's and the target's connections until the process runs out of them.
# 60 s, as the app side's SidecarClient bounds its own calls.
DEFAULT_INVOKE_TIMEOUT = 60.0


@dataclass(frozen=True)
class SidecarSettings:
    """How the dev sidecar runs; tokens default to ``DAPR_API_TOKEN`` / ``APP_API_TOKEN``.

    * ``app_url``/``app_id``: the app this sidecar fronts (actors, and invocation of its id).
    * ``namespace``: the sidecar's namespace, from ``NAMESPACE`` as in daprd (``"default"``).
    * ``apps``: other apps reachable by service invocation, ``id`` (in ``namespace``) or
      ``id.other-namespace`` -> base URL.
    * ``resources_path``: a folder of Dapr resource YAML files (``HTTPEndpoint`` is read).
    * ``state_db``: SQLite file for state and reminders, or ``":memory:"``.
    * ``invoke_timeout``: seconds a service invocation may wait for its target, then
      ``500 ERR_DIRECT_INVOKE``; ``None`` waits forever, as daprd does without a resiliency
      policy (docs/protocol.md §13).
    * ``allowed_origins``: origins whose browser pages may call the sidecar (CORS), as
      daprd's ``--allowed-origins``: none by default, ``("*",)`` for any (``cors.py``).
    * ``tracer_provider``: where the ``CallActor/{type}/{method}`` span of each relayed actor
      call goes, as daprd makes one; default: the global provider, if an OpenTelemetry SDK
      installed it before the sidecar started (else nothing is traced).
    """

    app_url: str
    app_id: str = "app"
    state_db: str = "dapr-actors.db"
    namespace: str = field(default_factory=lambda: namespace_from_env(os.environ))
    apps: Mapping[str, str] = field(default_factory=dict)
    resources_path: str | None = None
    api_token: str | None = field(default_factory=lambda: os.environ.get("DAPR_API_TOKEN"))
    app_api_token: str | None = field(default_factory=lambda: os.environ.get("APP_API_TOKEN"))
    max_body_size: int = DEFAULT_MAX_BODY_SIZE
    reminder_retry_interval: float = 1.0  # seconds between redeliveries, as daprd
    invoke_timeout: float | None = DEFAULT_INVOKE_TIMEOUT
    allowed_origins: tuple[str, ...] = ()
    tracer_provider: TracerProvider | None = None


def namespace_from_env(environ: Mapping[str, str]) -> str:
    """daprd's namespace: ``NAMESPACE``, or ``"default"`` when unset or empty (§8.1)."""
    return environ.get("NAMESPACE") or "default"
