"""Errors raised by dapr-actors-fastapi.

Every error that can reach the wire knows its HTTP status and its Dapr ``errorCode``, so the
router maps all of them through one function and the body always has Dapr's shape
``{"errorCode": ..., "message": ...}``.

Hierarchy::

    DaprActorsError (Exception)
    ├── ActorConfigError (ValueError)            bad settings or decorators, raised at import time
    ├── MultipleWorkersError (RuntimeError)      several worker processes behind one sidecar
    ├── StateKeyNotFound (KeyError)              self.state.get() of a key that is not set
    ├── SidecarError                             the sidecar answered a call with an error
    │   ├── SidecarUnavailable (ConnectionError) the sidecar could not be reached
    │   │   └── SidecarTimeout (TimeoutError)    it did not answer in time
    │   └── ActorInvokeError                     a call to another actor's method failed
    └── ActorError                               anything answered with an HTTP error
        ├── ActorTypeNotFound (LookupError)      404, or 400 on deactivation (P3)
        ├── ActorMethodNotFound (LookupError)    404
        ├── InvalidActorRequest (ValueError)     400, names the offending field
        ├── RequestBodyTooLarge (ValueError)     413
        ├── InvalidApiToken (PermissionError)    401
        ├── StackDepthExceeded (RuntimeError)    500 ERR_ACTOR_STACK_DEPTH
        ├── ActorRuntimeClosed                   503 ERR_ACTOR_RUNTIME_CLOSED, while shutting down
        └── ActorRuntimeNotStarted (RuntimeError) 500, before the runtime's lifespan started (P19)

Users may raise an ``ActorError`` (or a subclass with their own ``status_code`` and
``error_code``) from an actor method to choose the status the caller sees; any other exception
becomes ``500 ERR_ACTOR_METHOD``, except a ``SidecarError`` (not an ``ActorInvokeError``), whose
code names the sidecar's failure (docs/protocol.md P18), and FastAPI's or Starlette's
``HTTPException``, which keeps its status and detail (P20).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ActorConfigError",
    "ActorError",
    "ActorInvokeError",
    "ActorMethodNotFound",
    "ActorRuntimeClosed",
    "ActorRuntimeNotStarted",
    "ActorTypeNotFound",
    "DaprActorsError",
    "InvalidActorRequest",
    "InvalidApiToken",
    "MultipleWorkersError",
    "RequestBodyTooLarge",
    "SidecarError",
    "SidecarTimeout",
    "SidecarUnavailable",
    "StackDepthExceeded",
    "StateKeyNotFound",
]


class DaprActorsError(Exception):
    """Base class of every error this package raises on purpose."""


class ActorConfigError(DaprActorsError, ValueError):
    """A setting, actor class or decorator is invalid; raised when the app is defined."""


class MultipleWorkersError(DaprActorsError, RuntimeError):
    """The app runs as several worker processes behind one sidecar; raised when the runtime's
    lifespan starts, so the server exits instead of losing acknowledged writes."""

    def __init__(self, count: int, evidence: str) -> None:
        super().__init__(
            f"this app runs as {count} worker processes ({evidence}), but each sidecar must "
            "front exactly one: daprd places an actor on one app address and cannot tell the "
            "workers behind it apart, so each worker would keep its own copy of the actor's "
            "state and acknowledged writes would be lost. Run one worker per sidecar (no "
            "--workers or -w, WEB_CONCURRENCY unset or 1) and scale out with more app + "
            "sidecar pairs; or opt in with ActorRuntime(multiple_workers=True), which turns the "
            "state cache off (README, State)"
        )
        self.count = count
        self.evidence = evidence


class StateKeyNotFound(DaprActorsError, KeyError):
    """``self.state.get(key)`` found no value and no ``default`` was given."""

    def __init__(self, key: str, actor_type: str, actor_id: str) -> None:
        super().__init__(key)
        self.key = key
        self.actor_type = actor_type
        self.actor_id = actor_id

    def __str__(self) -> str:
        # KeyError's own __str__ would print just the quoted key.
        return (
            f"state key {self.key!r} of actor {self.actor_type}/{self.actor_id} is not set; "
            "pass default=... to get() or check contains() first"
        )


class ActorError(DaprActorsError):
    """An error with an HTTP status and a Dapr ``errorCode``, answered as JSON.

    ``details`` are extra keys merged into the error body (for example validation errors);
    ``status_code`` and ``error_code`` replace the class's for this one error.
    """

    status_code: int = 500
    error_code: str = "ERR_ACTOR_METHOD"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if status_code is not None:
            self.status_code = status_code
        if error_code is not None:
            self.error_code = error_code

    def to_body(self) -> dict[str, Any]:
        """The JSON error body: Dapr's two keys first, then the details."""
        return {"errorCode": self.error_code, "message": self.message, **self.details}


class ActorTypeNotFound(ActorError, LookupError):
    """The request names an actor type this runtime does not host."""

    status_code = 404
    error_code = "ERR_ACTOR_TYPE_NOT_FOUND"

    def __init__(self, type_name: str, known: list[str], *, status_code: int = 404) -> None:
        hosted = ", ".join(repr(name) for name in known) or "none"
        super().__init__(
            f"actor type {type_name!r} is not registered with this runtime "
            f"(hosted types: {hosted}); register it with @runtime.actor({type_name!r})",
            status_code=status_code,
        )
        self.type_name = type_name


class ActorMethodNotFound(ActorError, LookupError):
    """The request names a method, reminder or timer callback the actor type lacks."""

    status_code = 404
    error_code = "ERR_ACTOR_METHOD_NOT_FOUND"


class InvalidActorRequest(ActorError, ValueError):
    """The request body cannot be decoded or does not match the handler's signature."""

    status_code = 400
    error_code = "ERR_MALFORMED_REQUEST"


class RequestBodyTooLarge(ActorError, ValueError):
    """The request body is larger than the runtime's ``max_body_size``."""

    status_code = 413
    error_code = "ERR_BODY_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"request body is larger than {limit} bytes; raise ActorRuntime(max_body_size=...) "
            "if such bodies are expected"
        )
        self.limit = limit


class InvalidApiToken(ActorError, PermissionError):
    """``APP_API_TOKEN`` is configured and the request's ``dapr-api-token`` does not match."""

    status_code = 401
    error_code = "ERR_API_TOKEN"

    def __init__(self) -> None:
        super().__init__(
            "missing or invalid dapr-api-token header: this app requires the APP_API_TOKEN "
            "that its sidecar was started with"
        )


class StackDepthExceeded(ActorError, RuntimeError):
    """A reentrant chain entered one actor more than ``max_stack_depth`` times at once."""

    status_code = 500
    error_code = "ERR_ACTOR_STACK_DEPTH"

    def __init__(self) -> None:
        # The message is daprd's own (docs/protocol.md §5.3) so callers see one text either way.
        super().__init__("maximum stack depth exceeded")


class ActorRuntimeClosed(ActorError):
    """The app is shutting down and starts no new turns (docs/protocol.md P17).

    The status is retriable, and the code is the one daprd answers its own API with once its
    shutdown began: the call did not run, so trying again is safe.
    """

    status_code = 503
    error_code = "ERR_ACTOR_RUNTIME_CLOSED"

    def __init__(self, actor_type: str, actor_id: str, what: str) -> None:
        super().__init__(
            f"this app is shutting down and starts no new turns, so {what} of actor "
            f"{actor_type}/{actor_id} did not run; retry the call: daprd places the actor on "
            "a running host"
        )
        self.actor_type = actor_type
        self.actor_id = actor_id


class ActorRuntimeNotStarted(ActorError, RuntimeError):
    """A callback arrived before the runtime's lifespan started (docs/protocol.md P19).

    Without the lifespan the sidecar client is closed and shutdown would not drain, so the
    call is refused before it runs, with the fix in the message.
    """

    status_code = 500
    error_code = "ERR_ACTOR_RUNTIME_NOT_STARTED"

    def __init__(self, actor_type: str, actor_id: str, what: str) -> None:
        super().__init__(
            f"the actor runtime's lifespan has not started, so {what} of actor "
            f"{actor_type}/{actor_id} did not run: create the app with "
            "FastAPI(lifespan=runtime.lifespan), or enter 'async with runtime.lifespan(app):' "
            "from your own lifespan. A sub-app mounted with app.mount() never runs its "
            "lifespan: include runtime.router in the app the server runs"
        )
        self.actor_type = actor_type
        self.actor_id = actor_id


class SidecarError(DaprActorsError):
    """The sidecar answered with an error, or could not be reached (``status`` 0)."""

    def __init__(
        self, status: int, error_code: str, message: str, *, method: str, path: str
    ) -> None:
        super().__init__(f"{method} {path} -> {status or 'unreachable'} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message


class SidecarUnavailable(SidecarError, ConnectionError):
    """The sidecar could not be reached (refused, reset or timed out)."""


class SidecarTimeout(SidecarUnavailable, TimeoutError):
    """The sidecar did not answer in time; the request may still have reached its target."""


class ActorInvokeError(SidecarError):
    """A call to an actor method through the sidecar failed (docs/protocol.md §4.5).

    ``status``, ``error_code`` and ``message`` are what the sidecar answered: daprd reports a
    failed method as ``500 ERR_ACTOR_INVOKE_METHOD`` with the actor's answer inside its
    message, or passes it on verbatim with status 200 when the callee answers errors with
    ``X-DaprErrorResponseHeader``. What could be recovered of the actor's own answer is in
    ``remote_status`` (the status the actor's app answered), ``remote_error`` (its JSON error
    body), ``remote_message``, ``remote_error_code`` and ``remote_type`` (the class name of
    the exception the actor raised, when it was not an ``ActorError``).
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        method: str,
        path: str,
        actor_type: str,
        actor_id: str,
        actor_method: str,
        remote_status: int | None = None,
        remote_error: dict[str, Any] | None = None,
        remote_message: str | None = None,
    ) -> None:
        super().__init__(status, error_code, message, method=method, path=path)
        self.actor_type = actor_type
        self.actor_id = actor_id
        self.actor_method = actor_method
        self.remote_status = remote_status
        self.remote_error = remote_error
        self.remote_message = remote_message

    @property
    def remote_error_code(self) -> str | None:
        """The ``errorCode`` of the actor's error body, e.g. ``ERR_ACTOR_METHOD``."""
        code = (self.remote_error or {}).get("errorCode")
        return code if isinstance(code, str) else None

    @property
    def remote_type(self) -> str | None:
        """The class name of the exception the actor raised, when its body names one."""
        name = (self.remote_error or {}).get("type")
        return name if isinstance(name, str) else None

    def __str__(self) -> str:
        kind = self.remote_type or self.remote_error_code or self.error_code
        text = self.remote_message if self.remote_message is not None else self.message
        answered = (
            "" if self.remote_status is None else f" (the actor answered {self.remote_status})"
        )
        return (
            f"actor {self.actor_type}/{self.actor_id} method {self.actor_method!r} failed"
            f"{answered}: {kind}: {text}"
        )
