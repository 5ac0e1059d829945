"""``SidecarClient``: the app's HTTP client to its Dapr sidecar (docs/protocol.md §7, §10).

* One pool of keep-alive connections per runtime (``connection_pool.py``: lighter than aiohttp's session,
  which dominated a stateful turn), opened and closed by the runtime's lifespan; nothing
  blocks the event loop (no synchronous health wait, unlike the official SDK).
* The address and token are read when the client opens, not at import: ``DAPR_HTTP_ENDPOINT``,
  else ``http://127.0.0.1:$DAPR_HTTP_PORT`` (default 3500), and ``DAPR_API_TOKEN``.
* Every request made during an actor turn carries that turn's ``Dapr-Reentrancy-Id``,
  ``traceparent`` and ``tracestate``, so reentrant chains and traces survive the hop. With an
  OpenTelemetry SDK installed, a request made under a span gets a client span of its own,
  whose context it sends instead, and every request is measured (``_telemetry/``).
* Errors come back as ``SidecarError`` carrying daprd's status, ``errorCode`` and message
  (unless the caller asks for every answer, as service invocation does); only idempotent reads
  are retried, and only when the sidecar could not be reached (not when it was slow).
* Response headers are case-insensitive: Go canonicalizes names (``X-Daprerrorresponseheader``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from multidict import CIMultiDict, CIMultiDictProxy
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from yarl import URL

from .._telemetry.telemetry import Telemetry
from .._turn import current_turn
from .._wire.address import sidecar_endpoint
from .._wire.headers import API_TOKEN, REENTRANCY_ID, TRACEPARENT, TRACESTATE
from ..exceptions import SidecarError, SidecarTimeout, SidecarUnavailable
from .connection_pool import HttpPool

# A path (and query) made only of RFC 3986 characters, with every '%' starting an escape.
_ENCODED_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")


@dataclass(frozen=True, slots=True)
class SidecarResponse:
    """One answer of the sidecar: status, headers (names compared without case) and raw body.

    ``method`` and ``path`` are those of the request, for error messages.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str = field(default="", repr=False)
    path: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, (CIMultiDictProxy, CIMultiDict)):
            # Given a plain dict (tests, stubs): keep lookups case-insensitive all the same.
            headers = CIMultiDictProxy(CIMultiDict(self.headers))
            object.__setattr__(self, "headers", headers)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON; ``None`` when it is empty (204)."""
        return json.loads(self.body) if self.body else None

    def raise_for_status(self) -> Self:
        """``SidecarError`` for a status of 400 or more, else this response (for chaining)."""
        if self.status >= 400:
            raise _error(self, self.method, self.path)
        return self


class SidecarClient:
    """Calls the sidecar's HTTP API; ``open()`` before use and ``close()`` after.

    ``endpoint``/``api_token`` override the environment; ``timeout`` bounds each request in
    seconds; ``read_retries`` is how often an idempotent read is retried after a connection
    failure. ``tracer_provider``/``meter_provider`` receive its spans and measurements
    (default: the global ones, if an OpenTelemetry SDK installed them when it opens).
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        api_token: str | None = None,
        timeout: float = 60.0,
        read_retries: int = 2,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._endpoint_override = endpoint
        self._token_override = api_token
        self._timeout = timeout
        self._read_retries = read_retries
        self._telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=meter_provider)
        self._pool: HttpPool | None = None
        self.endpoint = ""

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    def configured_endpoint(self) -> str:
        """The sidecar's base URL ``open`` connects to: the one given, else the environment's
        (``DAPR_HTTP_ENDPOINT``, or ``DAPR_HTTP_PORT`` on 127.0.0.1)."""
        return self._endpoint_override or sidecar_endpoint(os.environ)

    async def open(self) -> None:
        """Read the address and token from the environment and open the connection pool."""
        if self._pool is not None:
            return
        self.endpoint = self.configured_endpoint()
        token = self._token_override or os.environ.get("DAPR_API_TOKEN")
        headers = {API_TOKEN: token} if token else {}
        self._telemetry.bind()
        self._pool = HttpPool(self.endpoint, headers)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        idempotent: bool = False,
        raise_for_status: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109 (see the docstring)
    ) -> SidecarResponse:
        """Send one request: ``json_body`` as JSON, or ``body`` as it is.

        ``SidecarError`` for any answer of 400 or more, unless ``raise_for_status=False``
        (service invocation passes the target's status through). ``timeout`` (seconds)
        replaces the client's own limit for this request, longer or shorter (which
        ``asyncio.timeout`` could not do); past it, ``SidecarTimeout``.
        """
        if self._pool is None:
            raise RuntimeError(
                "the sidecar client is not open: serve the app with runtime.lifespan, "
                "or await runtime.sidecar.open() first"
            )
        outgoing = self._turn_headers()
        if headers:
            outgoing.update(headers)  # the caller's values win, whatever their case
        data = body
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            content_type = content_type or "application/json"
        if content_type is not None:
            outgoing.setdefault("Content-Type", content_type)
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        limit = self._timeout if timeout is None else timeout
        attempts = 1 + (self._read_retries if idempotent else 0)
        if not self._telemetry.enabled:
            response = await self._send_with_retries(method, path, data, outgoing, limit, attempts)
            return response.raise_for_status() if raise_for_status else response
        call = self._telemetry.sidecar_call(method, path)
        for name, value in call.headers.items():
            if not headers or name not in CIMultiDict(headers):  # the caller's values win
                outgoing[name] = value
        try:
            response = await self._send_with_retries(method, path, data, outgoing, limit, attempts)
        except BaseException as error:
            call.finish(None, error)
            raise
        call.finish(response.status)
        return response.raise_for_status() if raise_for_status else response

    async def _send_with_retries(
        self,
        method: str,
        path: str,
        data: bytes | None,
        headers: CIMultiDict[str],
        limit: float,
        attempts: int,
    ) -> SidecarResponse:
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(method, path, data, headers, limit)
            except SidecarTimeout:
                raise  # the sidecar was reached: asking again would only wait again
            except SidecarUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        headers: CIMultiDict[str],
        limit: float,
    ) -> SidecarResponse:
        assert self._pool is not None
        try:
            async with asyncio.timeout(limit):
                answer = await self._pool.request(method, _target(path), headers, data)
        except TimeoutError as error:
            raise SidecarTimeout(
                0,
                "ERR_SIDECAR_TIMEOUT",
                f"the Dapr sidecar at {self.endpoint} did not answer within {limit}s; "
                "the call may still have reached its target (pass a longer timeout if it "
                "is expected to take this long)",
                method=method,
                path=path,
            ) from error
        except OSError as error:
            raise SidecarUnavailable(
                0,
                "ERR_SIDECAR_UNREACHABLE",
                f"cannot reach the Dapr sidecar at {self.endpoint}: {error or type(error).__name__}; "
                "is it running (dapr run, or dapr-actors run for the dev sidecar)?",
                method=method,
                path=path,
            ) from error
        return SidecarResponse(answer.status, answer.headers, answer.body, method, path)

    @staticmethod
    def _turn_headers() -> CIMultiDict[str]:
        turn = current_turn()
        headers: CIMultiDict[str] = CIMultiDict()
        if turn is None:
            return headers
        if turn.reentrancy_id:
            headers[REENTRANCY_ID] = turn.reentrancy_id
        if turn.traceparent:
            headers[TRACEPARENT] = turn.traceparent
        if turn.tracestate:
            headers[TRACESTATE] = turn.tracestate
        return headers


def _target(path: str) -> str:
    """``path`` percent-encoded for the request line. Paths built by this package already
    are; anything else (a user's own path) is encoded by yarl."""
    if _ENCODED_PATH.fullmatch(path):
        return path
    return URL(path if path.startswith("/") else "/" + path).raw_path_qs


def _error(response: SidecarResponse, method: str, path: str) -> SidecarError:
    """daprd's JSON error body, or its plain-text one (401 'invalid api token')."""
    code, message = f"HTTP_{response.status}", response.body.decode("utf-8", "replace").strip()
    try:
        decoded = json.loads(response.body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        code = str(decoded.get("errorCode", code))
        message = str(decoded.get("message", message))
    return SidecarError(response.status, code, message, method=method, path=path)
