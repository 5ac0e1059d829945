"""Cross-origin requests to the dev sidecar, as daprd's ``--allowed-origins`` allows them.

daprd answers no CORS at all by default (an empty ``--allowed-origins``), every origin with
``"*"``, and a comma-separated list of origins otherwise, with the methods HEAD, GET, POST, PUT,
PATCH and DELETE and any request header (``pkg/api/http/server.go`` ``useCors``,
``pkg/cors/cors.go``). A browser page, such as the app's ``/docs`` calling an actor method on
the sidecar ("Try it out"), needs it.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

ALLOWED_METHODS = ("HEAD", "GET", "POST", "PUT", "PATCH", "DELETE")


def parse_allowed_origins(value: str) -> tuple[str, ...]:
    """The origins in daprd's ``--allowed-origins`` syntax: ``""`` none, ``"*"`` any, or a
    comma-separated list such as ``http://localhost:3000,http://127.0.0.1:3000``."""
    origins = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(
                f"allowed origin {origin!r} is not '*' or an http(s):// origin such as "
                "http://localhost:3000"
            )
    return origins


def allowing_origins(app: ASGIApp, origins: tuple[str, ...]) -> ASGIApp:
    """``app`` answering CORS for ``origins`` (as ``parse_allowed_origins`` gives them); ``app``
    itself when there are none, so that nothing is added to any request."""
    if not origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=["*"] if "*" in origins else list(origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=["*"],
    )
