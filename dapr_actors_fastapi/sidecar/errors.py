"""Errors the dev sidecar answers with, in daprd's shape and with daprd's codes (docs/protocol.md §7.6)."""

from __future__ import annotations

import json

from starlette.responses import Response


class DaprError(Exception):
    """An error answered as ``{"errorCode": ..., "message": ...}`` with an HTTP status."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> bytes:
        """The JSON body daprd answers with."""
        return json.dumps({"errorCode": self.error_code, "message": self.message}).encode()

    def response(self) -> Response:
        return Response(self.body(), status_code=self.status, media_type="application/json")


def bad_request(message: str) -> DaprError:
    return DaprError(400, "ERR_BAD_REQUEST", f"invalid request: {message}")


def malformed(message: str) -> DaprError:
    return DaprError(400, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {message}")


def actor_invoke_failed(message: str) -> DaprError:
    """daprd's ``ERR_ACTOR_INVOKE_METHOD`` for an actor call that failed (§7.6)."""
    return DaprError(500, "ERR_ACTOR_INVOKE_METHOD", f"error invoke actor method: {message}")


def direct_invoke_failed(target: str, reason: str, status: int = 500) -> DaprError:
    """daprd's ``ERR_DIRECT_INVOKE`` for a service invocation it could not make (§8.3)."""
    return DaprError(status, "ERR_DIRECT_INVOKE", f"failed to invoke, id: {target}, err: {reason}")


def start_failed(error: Exception) -> DaprError:
    """daprd's answer when its actor runtime is not there (``ERR_ACTOR_RUNTIME_NOT_FOUND``,
    500), with why the dev sidecar's did not start: daprd itself would have exited."""
    return DaprError(
        500,
        "ERR_ACTOR_RUNTIME_NOT_FOUND",
        f"the dev sidecar's actor runtime did not start: {type(error).__name__}: {error}; "
        "fix the cause named in its log and restart it",
    )


INSTANCE_MISSING = DaprError(400, "ERR_ACTOR_INSTANCE_MISSING", "actor instance is missing")
# What daprd answers once its shutdown began (docs/protocol.md §7.0, §7.6): the call did not
# run, so retrying it is safe.
RUNTIME_CLOSED = DaprError(503, "ERR_ACTOR_RUNTIME_CLOSED", "actor runtime is closed")
STACK_DEPTH = DaprError(500, "ERR_ACTOR_STACK_DEPTH", "maximum stack depth exceeded")
