"""Where the app finds its sidecar: the environment daprd and the official SDKs agree on."""

from __future__ import annotations

from collections.abc import Mapping

from .headers import DEFAULT_HTTP_PORT


def sidecar_endpoint(environ: Mapping[str, str]) -> str:
    """The sidecar's base URL from the environment, as the official SDKs read it."""
    endpoint = environ.get("DAPR_HTTP_ENDPOINT")
    if endpoint:
        return endpoint.rstrip("/")
    port = environ.get("DAPR_HTTP_PORT") or str(DEFAULT_HTTP_PORT)
    if not port.isdigit():
        raise ValueError(f"DAPR_HTTP_PORT={port!r} is not a port number; unset it or fix it")
    return f"http://127.0.0.1:{port}"
