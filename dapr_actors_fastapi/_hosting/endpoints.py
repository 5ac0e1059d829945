"""The routes daprd calls on the app (daprd → app), as raw ASGI endpoints.

Each endpoint is an ASGI callable object, so a request reaches it with the raw
``scope/receive/send`` and skips FastAPI's per-request dependency machinery (the slowest part
of an ``APIRoute``; benchmarks/README.md). Decoding and encoding were precomputed per method
in ``_actor_api/definition.py``; the endpoint finds the type's host, reads the body, runs the
turn and writes the answer.

Status codes follow the policy table of docs/protocol.md: success is exactly 200 (P1);
deactivating an inactive id is 200 (P2), an unknown type 400 (P3); unknown type or handler 404
(P4); bad body 400 naming the field (P5); errors are ``{"errorCode", "message", ...}`` (P6);
actor exceptions 500 or 200 + ``X-DaprErrorResponseHeader`` (P7), with an ``ERR_SIDECAR_*``
code when the sidecar failed the turn (P18), and the status and detail of an ``HTTPException``
(P20); callbacks that arrive before the runtime's lifespan started 500
``ERR_ACTOR_RUNTIME_NOT_STARTED`` (P19), and while the app shuts down 503
``ERR_ACTOR_RUNTIME_CLOSED`` (P17).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.exceptions import HTTPException

from .._actor_api.actor_type import SidecarRequests
from .._actor_api.definition import parse_callback_envelope
from .._actor_api.scheduling import FiringRecurrence
from .._turn import Turn
from .._wire.headers import (
    API_TOKEN_KEY,
    ERROR_RESPONSE_KEY,
    REENTRANCY_ID_KEY,
    REMINDER_CANCEL_KEY,
    TRACEPARENT_KEY,
    TRACESTATE_KEY,
)
from ..exceptions import (
    ActorError,
    ActorInvokeError,
    ActorMethodNotFound,
    ActorTypeNotFound,
    InvalidApiToken,
    RequestBodyTooLarge,
    SidecarError,
    SidecarUnavailable,
)
from .serving import ServingState
from .type_host import ActorTypeHost, TurnFailed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger(__name__)

_JSON = b"application/json"
_ERROR_HEADER = (ERROR_RESPONSE_KEY, b"true")
_CANCEL_HEADER = (REMINDER_CANCEL_KEY, b"true")
ErrorStyle = Literal["status", "header"]
# A turn failed because the sidecar answered one of its requests with an error (P18).
SIDECAR_ERROR = "ERR_SIDECAR_ERROR"
# Which process answered /dapr/config (see ConfigEndpoint).
PROCESS_KEY = b"x-dapr-actors-process"
_REMIND_PREFIX = "remind/"
_TIMER_PREFIX = "timer/"


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """How the app answers daprd: the token it requires, its body limit, its error style."""

    token: bytes | None
    max_body_size: int
    error_style: ErrorStyle

    def token_matches(self, presented: bytes | None) -> bool:
        """Whether a request's ``dapr-api-token`` is acceptable (always, without a token)."""
        if self.token is None:
            return True
        return presented is not None and hmac.compare_digest(presented, self.token)


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
            if name == REENTRANCY_ID_KEY:
                self.reentrancy_id = value.decode("latin-1")
            elif name == TRACEPARENT_KEY:
                self.traceparent = value.decode("latin-1")
            elif name == TRACESTATE_KEY:
                self.tracestate = value.decode("latin-1")
            elif name == API_TOKEN_KEY:
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
    return await _rest_of_body(receive, await receive(), limit)


async def _rest_of_body(receive: Receive, first: Message, limit: int) -> bytes:
    """The whole body, from its ``first`` message on, refused once it grows over ``limit``."""
    body: bytes = first.get("body", b"")
    if not first.get("more_body", False):
        if len(body) > limit:
            raise RequestBodyTooLarge(limit)
        return body
    chunks, size = [body], len(body)
    message = first
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
    if isinstance(error, HTTPException):
        return _http_exception(error, type_name, actor_id, what)
    if isinstance(error, SidecarError) and not isinstance(error, ActorInvokeError):
        return _sidecar_failure(error, type_name, actor_id, what)
    failure = ActorError(str(error) or type(error).__name__, details={"type": type(error).__name__})
    logger.error("%s of %s/%s raised", what, type_name, actor_id, exc_info=error)
    return failure


def _http_exception(error: HTTPException, type_name: str, actor_id: str, what: str) -> ActorError:
    """FastAPI's (or Starlette's) ``HTTPException`` keeps its status and detail (P20): code
    that also runs in ordinary routes raises it on purpose, so it is an answer, not a crash."""
    detail: Any = error.detail
    details: dict[str, Any] = {"type": type(error).__name__}
    if not isinstance(detail, str):  # FastAPI allows any JSON as the detail
        details["detail"] = detail
        detail = json.dumps(detail)
    if error.status_code >= 500:
        logger.error("%s of %s/%s raised", what, type_name, actor_id, exc_info=error)
    return ActorError(detail, details=details, status_code=error.status_code)


def _sidecar_failure(error: SidecarError, type_name: str, actor_id: str, what: str) -> ActorError:
    """The wire error for a turn that failed because its sidecar did (P18): a code that puts
    the fault there, not in the actor's code, and what the sidecar said."""
    details: dict[str, Any] = {"type": type(error).__name__}
    if isinstance(error, SidecarUnavailable):
        code = error.error_code  # ERR_SIDECAR_UNREACHABLE or ERR_SIDECAR_TIMEOUT
    else:
        code = SIDECAR_ERROR
        details.update(sidecarStatus=error.status, sidecarErrorCode=error.error_code)
    # An outage, not a bug: one line, no traceback.
    logger.error("%s of %s/%s failed at the sidecar: %s", what, type_name, actor_id, error)
    return ActorError(
        f"the Dapr sidecar failed {what!r} of actor {type_name}/{actor_id}: {error}",
        details=details,
        error_code=code,
    )


class ActorCallbackEndpoint:
    """``PUT|POST /actors/{actor_type}/{actor_id}/method/{target}``: methods, reminders, timers."""

    def __init__(
        self, hosts: Mapping[str, ActorTypeHost], policy: CallbackPolicy, sidecar: SidecarRequests
    ) -> None:
        self._hosts = hosts
        self._policy = policy
        self._sidecar = sidecar
        self._limit = policy.max_body_size
        self._header_errors = policy.error_style == "header"
        self._token_required = policy.token is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path_params = scope["path_params"]
        await self.serve(
            scope,
            receive,
            send,
            path_params["actor_type"],
            path_params["actor_id"],
            path_params["target"],
        )

    async def serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        type_name: str,
        actor_id: str,
        target: str,
    ) -> None:
        """Answer one callback whose path the caller already split: the router's route (through
        ``__call__``) and the front door, which splits the path itself, both end here."""
        headers = _Headers(scope["headers"])
        try:
            if self._token_required and not self._policy.token_matches(headers.token):
                raise InvalidApiToken()
            host = self._hosts.get(type_name)
            if host is None:
                raise ActorTypeNotFound(type_name, list(self._hosts))
            # Method names never contain '/' (_wire/names.py), so looking the target up first
            # cannot shadow a reminder or timer, and spares method calls two prefix tests.
            binding = host.definition.methods.get(target)
            if binding is None:
                await self._callback(host, actor_id, target, headers, receive, send)
                return
            # The method call, the one path nearly all traffic takes, is written out here rather
            # than in helpers: each coroutine called costs about as much as a line of it.
            limit, declared = self._limit, headers.content_length
            if declared is not None and declared > limit:
                raise RequestBodyTooLarge(limit)
            message = await receive()
            body = message.get("body", b"")
            if message.get("more_body", False) or len(body) > limit:
                body = await _rest_of_body(receive, message, limit)
            kwargs = binding.decode(body)
            reentrancy_id = headers.reentrancy_id
            reentrant = host.reentrant
            if reentrancy_id is None and reentrant:
                reentrancy_id = str(uuid.uuid4())
            turn = Turn(
                "method",
                binding.wire_name,
                host.actor_type.name,
                actor_id,
                reentrancy_id,
                headers.traceparent,
                headers.tracestate,
            )
            run = host.observed_turn if host.observed else host.run_turn
            encoded = await run(
                actor_id,
                turn,
                reentrancy_id if reentrant else None,
                binding.function,
                kwargs,
                binding.encode,
            )
            if encoded is None:
                await _send_body(send, 200, b"", None)
            elif isinstance(encoded, bytes):
                # Fresh messages and header list: a middleware may append to them (CORS does).
                length = (b"content-length", b"%d" % len(encoded))
                answer = [length, binding.content_type_header]
                await send({"type": "http.response.start", "status": 200, "headers": answer})
                await send({"type": "http.response.body", "body": encoded})
            else:
                await encoded(scope, receive, send)
        except ActorError as error:
            await _send_error(send, error)
        except TurnFailed as failure:
            actor_error = _actor_error(failure.error, type_name, actor_id, target)
            if self._header_errors and not target.startswith((_REMIND_PREFIX, _TIMER_PREFIX)):
                body = json.dumps(actor_error.to_body()).encode()
                await _send_body(send, 200, body, _JSON, _ERROR_HEADER)
            else:
                await _send_error(send, actor_error)

    async def _callback(
        self,
        host: ActorTypeHost,
        actor_id: str,
        target: str,
        headers: _Headers,
        receive: Receive,
        send: Send,
    ) -> None:
        """A reminder or timer fire (``remind/{name}``, ``timer/{name}``), or a 404."""
        if target.startswith(_REMIND_PREFIX):
            await self._fire(
                host, actor_id, "reminder", target[len(_REMIND_PREFIX) :], headers, receive, send
            )
        elif target.startswith(_TIMER_PREFIX):
            await self._fire(
                host, actor_id, "timer", target[len(_TIMER_PREFIX) :], headers, receive, send
            )
        else:
            raise ActorMethodNotFound(
                f"actor type {host.actor_type.name!r} has no method {target!r}; "
                f"its methods: {sorted(host.definition.methods)}"
            )

    async def _fire(
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
        # daprd sends no reentrancy id with reminders and timers (docs/protocol.md §4.2), so they
        # always queue as a turn of their own.
        with FiringRecurrence(turn) as firing:
            run = host.observed_turn if host.observed else host.run_turn
            await run(actor_id, turn, None, binding.function, kwargs, None)
        if firing.cancelled:
            # The handler called cancel_recurrence() and its turn succeeded (P14): delete it
            # through the API, which daprd needs, and say so in the header the dev sidecar reads.
            await firing.delete(self._sidecar)
            await _send_body(send, 200, b"", None, _CANCEL_HEADER)
        else:
            await _send_body(send, 200, b"", None)


class DeactivateEndpoint:
    """``DELETE /actors/{actor_type}/{actor_id}``."""

    def __init__(self, hosts: Mapping[str, ActorTypeHost], policy: CallbackPolicy) -> None:
        self._hosts = hosts
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path_params = scope["path_params"]
        await self.serve(scope, send, path_params["actor_type"], path_params["actor_id"])

    async def serve(self, scope: Scope, send: Send, type_name: str, actor_id: str) -> None:
        """Answer one deactivation whose path the caller already split (router or front door)."""
        hosts = self._hosts
        try:
            headers = _Headers(scope["headers"])
            if not self._policy.token_matches(headers.token):
                raise InvalidApiToken()
            host = hosts.get(type_name)
            if host is None:
                # The seed answers "Actor not found" with 400 here (P3).
                raise ActorTypeNotFound(type_name, list(hosts), status_code=400)
            await host.deactivate(actor_id, headers.traceparent, headers.tracestate)
            await _send_body(send, 200, b"", None)
        except ActorError as error:
            await _send_error(send, error)
        except TurnFailed as failure:
            await _send_error(
                send, _actor_error(failure.error, type_name, actor_id, "on_deactivate")
            )


class ConfigEndpoint:
    """``GET /dapr/config``: the registration document daprd reads once (docs/protocol.md §2).

    ``document`` builds it on each request, so types registered late are included. The answer
    names the process that sent it (``X-Dapr-Actors-Process``, this package's own header):
    ``dapr-actors doctor`` counts them to find several workers behind one port.
    """

    def __init__(self, document: Callable[[], dict[str, Any]], policy: CallbackPolicy) -> None:
        self._document = document
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._policy.token_matches(_Headers(scope["headers"]).token):
            await _send_error(send, InvalidApiToken())
            return
        body = json.dumps(self._document()).encode()
        # Read per request: a worker forked after the app was built has its own pid.
        process = (PROCESS_KEY, str(os.getpid()).encode())
        await _send_body(send, 200, body, _JSON, process)


class HealthEndpoint:
    """``GET /healthz``: 200 without a token, as daprd's probes carry none (docs/protocol.md §3);
    503 once the app drains, so that daprd stops sending it work (P17)."""

    def __init__(self, serving: ServingState) -> None:
        self._serving = serving

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._serving.draining:
            await _send_body(send, 503, b'{"status":"shutting down"}', _JSON)
        else:
            await _send_body(send, 200, b'{"status":"ok"}', _JSON)
