"""The dev sidecar's metadata API: the document ``GET /v1.0/metadata`` answers, and the
attributes ``PUT /v1.0/metadata/{key}`` sets (docs/protocol.md §10.1).

The document has daprd's keys in daprd's order (``pkg/api/http/metadata.go``
``metadataResponse``, filled by ``pkg/api/universal/metadata.go`` ``GetMetadata``), and leaves
out what daprd leaves out when empty: ``actors`` without hosted types, ``httpEndpoints``
without ``HTTPEndpoint`` resources, ``appConnectionProperties.health`` without app health
checks (which the dev sidecar never runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

RUNTIME_VERSION = "dapr-actors-fastapi dev sidecar"
# daprd's --app-max-concurrency default: no limit, reported as -1.
UNLIMITED_CONCURRENCY = -1
# The dev sidecar's store, described as daprd describes an actor-capable state store: ETags and
# transactions give the capability "ACTOR" (pkg/runtime/runtime.go getComponentsCapabilitesMap).
STATE_STORE = {
    "name": "dev-sidecar-sqlite",
    "type": "state.sqlite",
    "version": "v1",
    "capabilities": ["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"],
}


@dataclass(frozen=True, slots=True)
class ActorRuntimeStatus:
    """What the actor runtime reports: daprd's ``RuntimeStatus`` (``pkg/actors/actors.go``)."""

    status: str  # "INITIALIZING", "RUNNING" or "DISABLED", as daprd's enum names them
    active: Mapping[str, int] = field(default_factory=dict)  # per hosted type, 0 included


@dataclass
class ExtendedMetadata:
    """The attributes callers set with ``PUT /v1.0/metadata/{key}``, held in memory as daprd
    holds them (lost when the sidecar stops)."""

    attributes: dict[str, str] = field(default_factory=dict)

    def set(self, key: str, value: bytes) -> None:
        """Store ``value`` as text under ``key``; an empty key does nothing, as in daprd."""
        if key:
            # Go's JSON encoder writes invalid UTF-8 as U+FFFD; decoding now gives the same.
            self.attributes[key] = value.decode("utf-8", "replace")


def metadata_document(
    *,
    app_id: str,
    app_url: str,
    endpoint_names: Iterable[str],
    actors: ActorRuntimeStatus,
    extended: Mapping[str, str],
) -> dict[str, Any]:
    """``GET /v1.0/metadata``'s body. ``extended`` is what callers set plus the sidecar's own
    keys, which win, as daprd's ``daprRuntimeVersion`` does."""
    document: dict[str, Any] = {"id": app_id, "runtimeVersion": RUNTIME_VERSION}
    counts = [{"type": name, "count": count} for name, count in actors.active.items()]
    if counts:
        document["actors"] = counts  # daprd's alias of actorRuntime.activeActors
    document["components"] = [STATE_STORE]
    document["extended"] = dict(
        sorted({**extended, "daprRuntimeVersion": RUNTIME_VERSION}.items())  # Go sorts maps
    )
    endpoints = [{"name": name} for name in endpoint_names]
    if endpoints:
        document["httpEndpoints"] = endpoints
    document["appConnectionProperties"] = app_connection_properties(app_url)
    document["actorRuntime"] = _actor_runtime(actors, counts)
    return document


def app_connection_properties(app_url: str) -> dict[str, Any]:
    """How the sidecar reaches its app, as daprd reports its ``--app-port``,
    ``--app-protocol`` and ``--app-channel-address``."""
    parts = urlsplit(app_url)
    default_port = 443 if parts.scheme == "https" else 80
    return {
        "port": parts.port or default_port,
        "protocol": parts.scheme or "http",
        "channelAddress": parts.hostname or "127.0.0.1",
        "maxConcurrency": UNLIMITED_CONCURRENCY,
    }


def _actor_runtime(actors: ActorRuntimeStatus, counts: list[dict[str, Any]]) -> dict[str, Any]:
    if actors.status == "INITIALIZING":
        # daprd says nothing more until its actor runtime has registered.
        return {"runtimeStatus": "INITIALIZING", "hostReady": False}
    running = actors.status == "RUNNING"
    runtime: dict[str, Any] = {"runtimeStatus": actors.status}
    if counts:
        runtime["activeActors"] = counts
    # Ready once running, whether or not the app hosts any actor type: daprd's hostReady says
    # that placement is connected and the runtime ready, not that types are hosted.
    runtime["hostReady"] = running
    runtime["placement"] = "placement: connected" if running else "placement: disconnected"
    return runtime
