"""Talking to the servers outside wrk: a free port, one request, a poll with a deadline.

Stdlib only: the harness must not share code with the servers it measures.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable

REQUEST_TIMEOUT = 60.0
BODY = b'{"destination":"Hoth"}'
EXPECTED = {"destination": "Hoth"}


class BenchmarkError(RuntimeError):
    """A run that must not produce numbers: a server that failed, non-2xx, a sidecar call."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, str, bytes]:
    """One request on a fresh connection: (status, content-type, body).

    The deadline is long: the harness asks while wrk keeps the server's queue full on a core
    that other work may crowd, and a server that slow is still measured, not failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def expect_fly(name: str, answer: tuple[int, str, bytes]) -> None:
    """``fly``'s answer must be 200 ``{"destination":"Hoth"}`` from every server."""
    status, content_type, body = answer
    if (
        status != 200
        or not content_type.startswith("application/json")
        or json.loads(body) != EXPECTED
    ):
        raise BenchmarkError(
            f"{name} answered {status} {content_type!r} {body!r}, expected 200 {BODY!r}"
        )


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
