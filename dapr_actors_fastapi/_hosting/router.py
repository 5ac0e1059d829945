"""The generated FastAPI router: daprd's routes, plus one documented operation per method.

The callback routes are Starlette ``Route`` objects around the raw ASGI endpoints
(``endpoints.py``). OpenAPI still shows every actor method as its own typed operation, as
callers send it to the sidecar (``method_docs.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from fastapi import APIRouter
from starlette.routing import Mount, Route

from .._actor_api.actor_type import SidecarRequests
from .endpoints import (
    ActorCallbackEndpoint,
    CallbackPolicy,
    ConfigEndpoint,
    DeactivateEndpoint,
    HealthEndpoint,
)
from .method_docs import document_actor_type, sidecar_path_route
from .serving import ServingState
from .type_host import ActorTypeHost

# daprd reads the registration here, at the root of the app (docs/protocol.md §2).
CONFIG_PATH = "/dapr/config"
# daprd's app health probe (docs/protocol.md §3).
HEALTH_PATH = "/healthz"


def build_router(
    endpoints: DaprdEndpoints, hosts: Mapping[str, ActorTypeHost], sidecar_url: str
) -> APIRouter:
    """The routes daprd calls, for the types in ``hosts`` (a live table: types registered
    later are served too): callback routes first, then the documentation of each method at
    the path callers send it to on the sidecar at ``sidecar_url`` (``method_docs.py``)."""
    router = APIRouter()
    router.routes.extend(callback_routes(endpoints))
    router.routes.append(sidecar_path_route(sidecar_url))
    for host in hosts.values():
        document_actor_type(router, host, sidecar_url)
    return router


class DaprdEndpoints(NamedTuple):
    """The endpoints of daprd's routes for one runtime; the router and the front door
    (``front_door.py``) serve the same ones."""

    callbacks: ActorCallbackEndpoint
    deactivate: DeactivateEndpoint
    config: ConfigEndpoint
    health: HealthEndpoint


def daprd_endpoints(
    hosts: Mapping[str, ActorTypeHost],
    policy: CallbackPolicy,
    sidecar: SidecarRequests,
    config_document: Callable[[], dict[str, Any]],
    serving: ServingState,
) -> DaprdEndpoints:
    """The endpoints for the types in ``hosts`` (a live table)."""
    return DaprdEndpoints(
        ActorCallbackEndpoint(hosts, policy, sidecar),
        DeactivateEndpoint(hosts, policy),
        ConfigEndpoint(config_document, policy),
        HealthEndpoint(serving),
    )


def callback_routes(endpoints: DaprdEndpoints) -> list[Route]:
    """daprd's routes as Starlette routes around the raw ASGI endpoints."""
    # The callback route comes first: it carries nearly all traffic, and routes are tried in
    # order (FastAPI tries them twice per request for an included router).
    return [
        Route(
            "/actors/{actor_type}/{actor_id}/method/{target:path}",
            endpoints.callbacks,
            methods=["PUT", "POST"],
            include_in_schema=False,
        ),
        Route(
            "/actors/{actor_type}/{actor_id}",
            endpoints.deactivate,
            methods=["DELETE"],
            include_in_schema=False,
        ),
        Route(CONFIG_PATH, endpoints.config, methods=["GET"], include_in_schema=False),
        Route(HEALTH_PATH, endpoints.health, methods=["GET"], include_in_schema=False),
    ]


def config_route_paths(app: Any, router: APIRouter) -> list[str]:
    """The full paths at which ``app`` serves ``router``'s ``/dapr/config`` route, through
    included routers and ``Mount``s (none when the router is not part of ``app``)."""
    endpoint = next(
        route.endpoint
        for route in router.routes
        if isinstance(route, Route) and route.path == CONFIG_PATH
    )
    return list(_paths_of(endpoint, getattr(app, "routes", []), ""))


def _paths_of(endpoint: object, routes: Any, prefix: str) -> Iterator[str]:
    for route in routes:
        if isinstance(route, Route) and route.endpoint is endpoint:
            yield prefix + route.path
        elif isinstance(route, Mount):
            yield from _paths_of(endpoint, route.routes, prefix + route.path)
        elif isinstance(getattr(route, "original_router", None), APIRouter):
            # FastAPI 0.16x includes a router as one route that keeps the original router and
            # the prefix it was included with (older versions copied its routes, seen above).
            included = getattr(getattr(route, "include_context", None), "prefix", "")
            yield from _paths_of(endpoint, route.original_router.routes, prefix + included)
