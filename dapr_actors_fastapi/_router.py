"""The generated router: the routes daprd calls on the app.

The callback routes are Starlette ``Route`` objects whose endpoints are ASGI callables, so a
request reaches ``ActorCallbackEndpoint`` with the raw ``scope/receive/send`` and skips
FastAPI's per-request dependency machinery (the slowest part of an ``APIRoute``; DESIGN.md
"Performance figures"). Decoding and encoding were precomputed per method in
``_definition``.

OpenAPI still shows every actor method as its own typed operation: for each method the router
also holds a documentation-only ``APIRoute`` *after* the callback route. The callback route
matches every PUT/POST first, so the documentation routes are never dispatched to.

Status codes follow protocol.md's policy table: success is exactly 200 (P1); deactivating an
inactive id is 200 (P2), an unknown type 400 (P3); unknown type or handler 404 (P4); bad body
400 naming the field (P5); errors are ``{"errorCode", "message", ...}`` (P6); actor exceptions
500 or 200 + ``X-DaprErrorResponseHeader`` (P7).
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from fastapi import APIRouter, Body, Path, params
from starlette.responses import Response
from starlette.routing import Route

from ._definition import MethodBinding, parse_callback_envelope
from ._host import ActorTypeHost, TurnFailed
from ._scheduling import CANCEL_HEADER, FiringRecurrence
from ._turn import Turn
from .exceptions import (
    ActorError,
    ActorMethodNotFound,
    ActorTypeNotFound,
    InvalidApiToken,
    RequestBodyTooLarge,
)

if TYPE_CHECKING:
    from ._runtime import ActorRuntime

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("dapr_actors_fastapi")

_JSON = b"application/json"
_ERROR_HEADER = (b"x-daprerrorresponseheader", b"true")
_REMIND_PREFIX = "remind/"
_TIMER_PREFIX = "timer/"


class _Headers:
    """The few request headers the runtime reads, found in one pass over the raw list."""

    __slots__ = ("content_length", "reentrancy_id", "token", "traceparent", "tracestate")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.reentrancy_id: str | None = None
        self.traceparent: str | None = None
        self.tracestate: str | None = None
        self.token: bytes | None = None
        self.content_length: int | None = None
        for name, value in raw:
            if name == b"dapr-reentrancy-id":
                self.reentrancy_id = value.decode("latin-1")
            elif name == b"traceparent":
                self.traceparent = value.decode("latin-1")
            elif name == b"tracestate":
                self.tracestate = value.decode("latin-1")
            elif name == b"dapr-api-token":
                self.token = value
            elif name == b"content-length" and value.isdigit():
                self.content_length = int(value)


async def _send_body(
    send: Send, status: int, body: bytes, content_type: bytes | None, *extra: tuple[bytes, bytes]
) -> None:
    headers = [(b"content-length", b"%d" % len(body)), *extra]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, error: ActorError, *extra: tuple[bytes, bytes]) -> None:
    await _send_body(send, error.status_code, json.dumps(error.to_body()).encode(), _JSON, *extra)


async def _read_body(receive: Receive, limit: int, declared_length: int | None) -> bytes:
    if declared_length is not None and declared_length > limit:
        raise RequestBodyTooLarge(limit)
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise RequestBodyTooLarge(limit)
        return body
    chunks, size = [body], len(body)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestBodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _actor_error(error: Exception, type_name: str, actor_id: str, what: str) -> ActorError:
    """The wire error for an exception raised by the actor's own code."""
    if isinstance(error, ActorError):
        return error
    failure = ActorError(str(error) or type(error).__name__, details={"type": type(error).__name__})
    logger.error("%s of %s/%s raised", what, type_name, actor_id, exc_info=error)
    return failure


class ActorCallbackEndpoint:
    """``PUT|POST /actors/{actor_type}/{actor_id}/method/{target}``: methods, reminders, timers."""

    def __init__(self, runtime: ActorRuntime) -> None:
        self._runtime = runtime
        self._hosts = runtime.hosts
        self._limit = runtime.max_body_size
        self._header_errors = runtime.error_style == "header"
        self._token_required = runtime.requires_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path_params = scope["path_params"]
        type_name: str = path_params["actor_type"]
        actor_id: str = path_params["actor_id"]
        target: str = path_params["target"]
        headers = _Headers(scope["headers"])
        try:
            if self._token_required and not self._runtime.token_matches(headers.token):
                raise InvalidApiToken()
            host = self._hosts.get(type_name)
            if host is None:
                raise ActorTypeNotFound(type_name, list(self._hosts))
            if target.startswith(_REMIND_PREFIX):
                name = target[len(_REMIND_PREFIX) :]
                await self._callback(host, actor_id, "reminder", name, headers, receive, send)
            elif target.startswith(_TIMER_PREFIX):
                name = target[len(_TIMER_PREFIX) :]
                await self._callback(host, actor_id, "timer", name, headers, receive, send)
            else:
                await self._method(host, actor_id, target, headers, scope, receive, send)
        except ActorError as error:
            await _send_error(send, error)
        except TurnFailed as failure:
            actor_error = _actor_error(failure.error, type_name, actor_id, target)
            if self._header_errors and not target.startswith((_REMIND_PREFIX, _TIMER_PREFIX)):
                body = json.dumps(actor_error.to_body()).encode()
                await _send_body(send, 200, body, _JSON, _ERROR_HEADER)
            else:
                await _send_error(send, actor_error)

    async def _method(
        self,
        host: ActorTypeHost,
        actor_id: str,
        name: str,
        headers: _Headers,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        binding = host.definition.methods.get(name)
        if binding is None:
            raise ActorMethodNotFound(
                f"actor type {host.actor_type.name!r} has no method {name!r}; "
                f"its methods: {sorted(host.definition.methods)}"
            )
        kwargs = binding.decode(await _read_body(receive, self._limit, headers.content_length))
        reentrancy_id = headers.reentrancy_id
        if reentrancy_id is None and host.reentrant:
            reentrancy_id = str(uuid.uuid4())
        turn = Turn(
            "method",
            name,
            host.actor_type.name,
            actor_id,
            reentrancy_id,
            headers.traceparent,
            headers.tracestate,
        )
        chain = reentrancy_id if host.reentrant else None
        encoded = await host.run_turn(
            actor_id, turn, chain, binding.function, kwargs, binding.encode
        )
        if encoded is None:
            await _send_body(send, 200, b"", None)
        elif isinstance(encoded, bytes):
            await _send_body(send, 200, encoded, binding.content_type)
        else:
            await encoded(scope, receive, send)

    async def _callback(
        self,
        host: ActorTypeHost,
        actor_id: str,
        kind: str,
        name: str,
        headers: _Headers,
        receive: Receive,
        send: Send,
    ) -> None:
        where = f"{host.actor_type.name} {kind} {name!r}"
        if not name:
            raise ActorMethodNotFound(f"{kind} callback for {host.actor_type.name!r} has no name")
        envelope = parse_callback_envelope(
            await _read_body(receive, self._limit, headers.content_length), where
        )
        definition = host.definition
        if kind == "reminder":
            binding = definition.reminders.get(name) or definition.reminder_fallback
            if binding is None:
                raise ActorMethodNotFound(
                    f"actor type {host.actor_type.name!r} has no handler for reminder {name!r}: "
                    f'add @reminder("{name}") or a catch-all @reminder'
                )
        else:
            callback = envelope.get("callback") or name
            binding = definition.timers.get(callback) if isinstance(callback, str) else None
            if binding is None:
                raise ActorMethodNotFound(
                    f"actor type {host.actor_type.name!r} has no @timer callback {callback!r}; "
                    f"its timer callbacks: {sorted(definition.timers)}"
                )
        kwargs = binding.arguments(envelope, name, where)
        turn = Turn(
            "reminder" if kind == "reminder" else "timer",
            name,
            host.actor_type.name,
            actor_id,
            headers.reentrancy_id,
            headers.traceparent,
            headers.tracestate,
        )
        # daprd sends no reentrancy id with reminders and timers (protocol.md §4.2), so they
        # always queue as a turn of their own.
        with FiringRecurrence(turn) as firing:
            await host.run_turn(actor_id, turn, None, binding.function, kwargs, None)
        if firing.cancelled:
            # The handler called cancel_recurrence() and its turn succeeded (P14): delete it
            # through the API, which daprd needs, and say so in the header the dev sidecar reads.
            await firing.delete(self._runtime.sidecar)
            await _send_body(send, 200, b"", None, CANCEL_HEADER)
        else:
            await _send_body(send, 200, b"", None)


class DeactivateEndpoint:
    """``DELETE /actors/{actor_type}/{actor_id}``."""

    def __init__(self, runtime: ActorRuntime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path_params = scope["path_params"]
        type_name, actor_id = path_params["actor_type"], path_params["actor_id"]
        hosts = self._runtime.hosts
        try:
            if not self._runtime.token_matches(_Headers(scope["headers"]).token):
                raise InvalidApiToken()
            host = hosts.get(type_name)
            if host is None:
                # The seed answers "Actor not found" with 400 here (P3).
                raise ActorTypeNotFound(type_name, list(hosts), status_code=400)
            await host.deactivate(actor_id)
            await _send_body(send, 200, b"", None)
        except ActorError as error:
            await _send_error(send, error)
        except TurnFailed as failure:
            await _send_error(
                send, _actor_error(failure.error, type_name, actor_id, "on_deactivate")
            )


class ConfigEndpoint:
    """``GET /dapr/config``: the registration document daprd reads once (protocol.md §2)."""

    def __init__(self, runtime: ActorRuntime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._runtime.token_matches(_Headers(scope["headers"]).token):
            await _send_error(send, InvalidApiToken())
            return
        await _send_body(send, 200, json.dumps(self._runtime.config()).encode(), _JSON)


class HealthEndpoint:
    """``GET /healthz``: 200 without a token, as daprd's probes carry none (protocol.md §3)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _send_body(send, 200, b'{"status":"ok"}', _JSON)


def build_router(runtime: ActorRuntime) -> APIRouter:
    """The router for ``runtime``: callback routes first, documentation routes after."""
    router = APIRouter()
    # The callback route comes first: it carries nearly all traffic, and FastAPI tries routes
    # in order (twice per request for an included router).
    router.routes.extend(
        [
            Route(
                "/actors/{actor_type}/{actor_id}/method/{target:path}",
                ActorCallbackEndpoint(runtime),
                methods=["PUT", "POST"],
                include_in_schema=False,
            ),
            Route(
                "/actors/{actor_type}/{actor_id}",
                DeactivateEndpoint(runtime),
                methods=["DELETE"],
                include_in_schema=False,
            ),
            Route(
                "/dapr/config", ConfigEndpoint(runtime), methods=["GET"], include_in_schema=False
            ),
            Route("/healthz", HealthEndpoint(), methods=["GET"], include_in_schema=False),
        ]
    )
    for host in runtime.hosts.values():
        document_actor_type(router, host)
    return router


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
        )


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
