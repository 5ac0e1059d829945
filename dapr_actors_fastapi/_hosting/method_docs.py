"""What ``/docs`` shows for actor methods: the call a caller makes, on the sidecar.

Callers never send an actor call to the app: they ``POST /v1.0/actors/{type}/{id}/method/{name}``
to their Dapr sidecar, which activates the actor where it is hosted and relays the body to this
app's callback route (docs/protocol.md §4). So each method is documented at the sidecar's path,
with its typed body and result, and with an OpenAPI ``servers`` entry naming the sidecar, so
that "Try it out" sends the call there, through the sidecar as in production.

The operations are FastAPI routes (that is how FastAPI builds the document), registered at
``/v1.0/actors/...`` in the app. A request that reaches the app on that path was sent to the
wrong server; the ``SidecarPathEndpoint`` in front of them answers it with a 404 naming the
sidecar, before FastAPI's validation (whose 422 no caller should see) runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin

from fastapi import APIRouter, Body, Path, params
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._actor_api.definition import MethodBinding
from .type_host import ActorTypeHost

SIDECAR_API_PREFIX = "/v1.0/actors/"
NOT_THE_SIDECAR = "ERR_NOT_THE_SIDECAR"


class DaprErrorBody(BaseModel):
    """An error as daprd and the runtime answer it (docs/protocol.md P6); some errors add keys,
    such as the field errors of a body that does not validate."""

    model_config = ConfigDict(extra="allow")

    errorCode: str
    message: str


# What the caller can get back from the sidecar. A "4XX" entry also keeps FastAPI from listing
# its own 422, which nobody ever answers here.
SIDECAR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": DaprErrorBody,
        "description": "The sidecar refused the call before relaying it, such as a malformed "
        "actor id or method name (400)",
    },
    "401": {
        "description": "No `dapr-api-token` header, or a wrong one, while the sidecar has "
        "`DAPR_API_TOKEN` set (a plain-text body)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "5XX": {
        "model": DaprErrorBody,
        "description": "The method failed, or the app refused its body: daprd answers 500 "
        "`ERR_ACTOR_INVOKE_METHOD` with the app's status and error in `message` (a body that "
        "does not validate is the app's 400 naming the field; an exception in the method its "
        "500 `ERR_ACTOR_METHOD`)",
    },
}


def sidecar_path_route(sidecar_url: str) -> Route:
    """The route that answers requests sent to the app on the documented sidecar paths."""
    return Route(
        SIDECAR_API_PREFIX + "{rest:path}",
        SidecarPathEndpoint(sidecar_url),
        include_in_schema=False,
    )


class SidecarPathEndpoint:
    """404 for a sidecar call sent to the app, saying where to send it."""

    def __init__(self, sidecar_url: str) -> None:
        self._sidecar_url = sidecar_url

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = JSONResponse(
            {
                "errorCode": NOT_THE_SIDECAR,
                "message": (
                    f"{request.method} {request.url.path} is the Dapr sidecar's API, not this "
                    f"app's: send it to the sidecar ({self._sidecar_url}), which calls this app"
                ),
            },
            status_code=404,
        )
        await response(scope, receive, send)


def document_actor_type(router: APIRouter, host: ActorTypeHost, sidecar_url: str) -> None:
    """Add one documentation-only operation per method of ``host``'s actor type, at the path a
    caller sends it to on the sidecar at ``sidecar_url``."""
    type_name = host.actor_type.name
    for binding in host.definition.methods.values():
        router.add_api_route(
            f"{SIDECAR_API_PREFIX}{type_name}/{{actor_id}}/method/{binding.wire_name}",
            _documentation_endpoint(binding),
            methods=["POST"],
            response_model=_response_model(binding.return_type),
            summary=binding.summary,
            description=_description(binding, type_name, sidecar_url),
            operation_id=f"{type_name}.{binding.wire_name}",
            tags=[type_name],
            responses=SIDECAR_RESPONSES,
            openapi_extra={
                "servers": [
                    {"url": sidecar_url, "description": "The Dapr sidecar, which calls this app"}
                ]
            },
        )


def _description(binding: MethodBinding, type_name: str, sidecar_url: str) -> str:
    own = inspect.getdoc(binding.function) or ""
    route = f"`PUT /actors/{type_name}/{{actor_id}}/method/{binding.wire_name}`"
    note = (
        f"Sent to the Dapr sidecar ({sidecar_url}), which activates the actor and relays the "
        f'body to this app\'s {route}. "Try it out" calls the sidecar from this page: '
        "`dapr-actors run` allows that; daprd needs `--allowed-origins` with this page's origin."
    )
    return f"{own}\n\n{note}" if own else note


def _response_model(return_type: Any) -> Any:
    if return_type in (None, type(None), bytes, Any) or (
        isinstance(return_type, type) and issubclass(return_type, Response)
    ):
        return None
    return return_type


def _documentation_endpoint(binding: MethodBinding) -> Callable[..., Any]:
    def documented_operation(**_: Any) -> Any:
        # Unreachable while sidecar_path_route precedes this one in the router.
        raise RuntimeError("the sidecar's paths are answered by SidecarPathEndpoint")

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
