"""How the dev sidecar routes requests: actor routes on the escaped path, as daprd does, and a
clear 501 for the parts of daprd's API the dev sidecar does not serve.

daprd's router matches the path as the client escaped it and unescapes the parameters after
(docs/protocol.md §7.0, §7.1): ``/v1.0/actors/t/..%2F..%2Fevil/method/m`` matches the invoke
route with the id ``../../evil``, which ``ValidateName`` then refuses with 400. Starlette
matches the unescaped path, where that id is three segments and matches nothing, so actor
routes here match ``scope["raw_path"]`` instead.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from .errors import DaprError

SERVED = (
    "actors (/v1.0/actors/...), service invocation (/v1.0/invoke/... or the dapr-app-id "
    "header), GET /v1.0/healthz and the metadata API (/v1.0/metadata)"
)

# daprd's other building blocks, under the API versions daprd serves them at.
NOT_SERVED_PREFIXES = (
    "/v1.0/state",
    "/v1.0/secrets",
    "/v1.0/publish",
    "/v1.0/bindings",
    "/v1.0/configuration",
    "/v1.0/shutdown",
    "/v1.0/workflows",
    "/v1.0-alpha1",
    "/v1.0-alpha2",
    "/v1.0-beta1",
)


class EscapedPathRoute(Route):
    """A ``Route`` matched against the path as the client escaped it; each parameter is
    unescaped once after matching, so ``%2F`` inside a name never splits the path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        raw_path = scope.get("raw_path")
        if scope["type"] != "http" or raw_path is None:
            return super().matches(scope)
        escaped = {**scope, "path": raw_path.decode("latin-1"), "root_path": ""}
        match, child_scope = super().matches(escaped)
        if match is not Match.NONE:
            child_scope["path_params"] = {
                name: unescape(value) if isinstance(value, str) else value
                for name, value in child_scope["path_params"].items()
            }
        return match, child_scope


def unescape(value: str) -> str:
    """One path segment (raw bytes as latin-1) percent-decoded once, as UTF-8. Bytes that are
    not UTF-8 become lone surrogates, which the name checks refuse."""
    return unquote_to_bytes(value.encode("latin-1")).decode("utf-8", "surrogateescape")


def not_served_paths() -> list[str]:
    """Route paths covering every API under ``NOT_SERVED_PREFIXES``."""
    paths = []
    for prefix in NOT_SERVED_PREFIXES:
        if not prefix.endswith("/"):
            paths.append(prefix)
            prefix += "/"
        paths.append(prefix + "{rest:path}")
    return paths


async def not_served(request: Request) -> Response:
    """501 naming what the dev sidecar serves, rather than a misleading invocation error."""
    raise DaprError(
        501,
        "ERR_NOT_IMPLEMENTED",
        f"the dev sidecar does not implement {request.method} {request.url.path}; it serves "
        f"{SERVED}. Run daprd for the other building blocks.",
    )
