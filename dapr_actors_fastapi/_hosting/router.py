"""The generated FastAPI router: daprd's routes, plus one documented operation per method.

The callback routes are Starlette ``Route`` objects around the raw ASGI endpoints
(``endpoints.py``). OpenAPI still shows every actor method as its own typed operation: for
each method the router also holds a documentation-only ``APIRoute`` *after* the callback
route. The callback route matches every PUT/POST first, so the documentation routes are
never dispatched to.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, get_args, get_origin

from fastapi import APIRouter, Body, Path, params
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response
from starlette.routing import Mount, Route

from .._actor_api.actor_type import SidecarRequests
from .._actor_api.definition import MethodBinding
from .endpoints import (
    ActorCallbackEndpoint,
    CallbackPolicy,
    ConfigEndpoint,
    DeactivateEndpoint,
    HealthEndpoint,
)
from .serving import ServingState
from .type_host import ActorTypeHost

# daprd reads the registration here, at the root of the app (docs/protocol.md §2).
CONFIG_PATH = "/dapr/config"


def build_router(
    hosts: Mapping[str, ActorTypeHost],
    policy: CallbackPolicy,
    sidecar: SidecarRequests,
    config_document: Callable[[], dict[str, Any]],
    serving: ServingState,
) -> APIRouter:
    """The routes daprd calls, for the types in ``hosts`` (a live table: types registered
    later are served too): callback routes first, documentation routes after."""
    router = APIRouter()
    router.routes.extend(callback_routes(hosts, policy, sidecar, config_document, serving))
    for host in hosts.values():
        document_actor_type(router, host)
    return router


def callback_routes(
    hosts: Mapping[str, ActorTypeHost],
    policy: CallbackPolicy,
    sidecar: SidecarRequests,
    config_document: Callable[[], dict[str, Any]],
    serving: ServingState,
) -> list[Route]:
    """The routes daprd calls, as Starlette routes around the raw ASGI endpoints; the router
    and the front door (``front_door.py``) serve the same ones."""
    # The callback route comes first: it carries nearly all traffic, and routes are tried in
    # order (FastAPI tries them twice per request for an included router).
    return [
        Route(
            "/actors/{actor_type}/{actor_id}/method/{target:path}",
            ActorCallbackEndpoint(hosts, policy, sidecar),
            methods=["PUT", "POST"],
            include_in_schema=False,
        ),
        Route(
            "/actors/{actor_type}/{actor_id}",
            DeactivateEndpoint(hosts, policy),
            methods=["DELETE"],
            include_in_schema=False,
        ),
        Route(
            CONFIG_PATH,
            ConfigEndpoint(config_document, policy),
            methods=["GET"],
            include_in_schema=False,
        ),
        Route("/healthz", HealthEndpoint(serving), methods=["GET"], include_in_schema=False),
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


def document_actor_type(router: APIRouter, host: ActorTypeHost) -> None:
    """Add one documentation-only operation per method of ``host``'s actor type."""
    type_name = host.actor_type.name
    for binding in host.definition.methods.values():
        router.add_api_route(
            f"/actors/{type_name}/{{actor_id}}/method/{binding.wire_name}",
            _documentation_endpoint(binding),
            methods=["PUT"],
            response_model=_response_model(binding.return_type),
            summary=binding.summary,
            description=inspect.getdoc(binding.function) or "",
            operation_id=f"{type_name}.{binding.wire_name}",
            tags=[type_name],
            responses=ERROR_RESPONSES,
        )


class DaprErrorBody(BaseModel):
    """What a callback route answers instead of a result (docs/protocol.md P5–P7); some errors
    add keys, such as the field errors of a body that does not validate."""

    model_config = ConfigDict(extra="allow")

    errorCode: str
    message: str


# FastAPI would otherwise document its own 422 body, which these routes never answer.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": DaprErrorBody,
        "description": "Refused before the method ran: a body that does not validate (400, "
        "naming the field), an unknown actor type or method (404), a body over the size limit "
        "(413)",
    },
    "5XX": {
        "model": DaprErrorBody,
        "description": "The method raised (500, or the status of the ActorError it raised), or "
        "the app is shutting down (503)",
    },
}


def _response_model(return_type: Any) -> Any:
    if return_type in (None, type(None), bytes, Any) or (
        isinstance(return_type, type) and issubclass(return_type, Response)
    ):
        return None
    return return_type


def _documentation_endpoint(binding: MethodBinding) -> Callable[..., Any]:
    def documented_operation(**_: Any) -> Any:
        # Unreachable while the callback route precedes this one in the router.
        raise RuntimeError("actor methods are served by ActorCallbackEndpoint")

    parameters = [
        inspect.Parameter(
            "actor_id", inspect.Parameter.KEYWORD_ONLY, annotation=str, default=Path()
        )
    ]
    if binding.body_type is bytes:
        parameters.append(
            inspect.Parameter(
                "body",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=bytes,
                default=Body(media_type="application/octet-stream"),
            )
        )
    elif binding.body_type is not None:
        # An Annotated[..., Body()] type already says where the value comes from; FastAPI
        # refuses a second Body() as the default.
        says_body = get_origin(binding.body_type) is Annotated and any(
            isinstance(extra, params.Body) for extra in get_args(binding.body_type)[1:]
        )
        parameters.append(
            inspect.Parameter(
                "body",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=binding.body_type,
                default=inspect.Parameter.empty if says_body else Body(),
            )
        )
    documented_operation.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    documented_operation.__name__ = f"{binding.wire_name}_operation"
    return documented_operation
