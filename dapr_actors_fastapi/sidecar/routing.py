"""How the dev sidecar routes requests: actor routes on the escaped path, as daprd does, and a
clear 501 for the parts of daprd's API the dev sidecar does not serve.

daprd's router matches the path as the client escaped it and unescapes the parameters after
(docs/protocol.md §7.0, §7.1): ``/v1.0/actors/t/..%2F..%2Fevil/method/m`` matches the invoke
route with the id ``../../evil``, which ``ValidateName`` then refuses with 400. Starlette
matches the unescaped path, where that id is three segments and matches nothing, so the actor
routes are matched here, on ``scope["raw_path"]``, before Starlette sees the request
(``actor_route``). They are the sidecar's hot routes, so matching is a split and two lookups.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response

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

ACTORS_PREFIX = b"/v1.0/actors/"

# (what follows {type}/{id}/, verb) -> the route; the verbs are daprd's for each route
# (pkg/api/http/actors.go constructActorEndpoints). Any other verb falls through to service
# invocation, as every unmatched request does (docs/protocol.md §7.0).
ACTOR_ROUTES: dict[tuple[bytes, str], str] = {
    **{(b"method", verb): "invoke_actor" for verb in ("GET", "POST", "PUT", "DELETE")},
    **{(b"state", verb): "state_transaction" for verb in ("POST", "PUT")},
    (b"state/", "GET"): "get_state",
    **{(b"reminders", verb): "create_reminder" for verb in ("POST", "PUT")},
    (b"reminders", "GET"): "get_reminder",
    (b"reminders", "DELETE"): "delete_reminder",
    **{(b"timers", verb): "create_timer" for verb in ("POST", "PUT")},
    (b"timers", "DELETE"): "delete_timer",
}


class ActorRoute(NamedTuple):
    """A matched actor route: its name in ``ACTOR_ROUTES`` and its unescaped parameters."""

    name: str
    actor_type: str
    actor_id: str
    rest: str  # the method, state key, reminder or timer name; "" for the state transaction


def actor_route(verb: str, raw_path: bytes) -> ActorRoute | None:
    """The actor route ``verb raw_path`` names, or ``None`` (not an actor route, or a verb the
    route does not take).

    The same matches as the routes ``/v1.0/actors/{type}/{id}/method/{method:path}``,
    ``…/state``, ``…/state/{key:path}``, ``…/reminders/{name}`` and ``…/timers/{name}`` on
    the escaped path: each ``{param}`` is one non-empty segment, ``{param:path}`` the rest,
    possibly empty or holding ``/``.
    """
    if not raw_path.startswith(ACTORS_PREFIX):
        return None
    parts = raw_path[len(ACTORS_PREFIX) :].split(b"/", 3)
    if len(parts) < 3 or not parts[0] or not parts[1]:
        return None
    kind = parts[2]
    if len(parts) == 3:
        if kind != b"state":
            return None
        rest = b""
    else:
        rest = parts[3]
        if kind == b"state":
            kind = b"state/"
        elif kind != b"method" and (not rest or b"/" in rest):
            return None
    name = ACTOR_ROUTES.get((kind, verb))
    if name is None:
        return None
    return ActorRoute(name, unescape(parts[0]), unescape(parts[1]), unescape(rest))


def unescape(value: bytes) -> str:
    """One raw path parameter percent-decoded once, as UTF-8. Bytes that are not UTF-8 become
    lone surrogates, which the name checks refuse."""
    if b"%" not in value:
        return value.decode("utf-8", "surrogateescape")
    return unquote_to_bytes(value).decode("utf-8", "surrogateescape")


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
