"""The dev sidecar's connection to the app: waiting for it, reading its config, calling it.

Mirrors daprd's app channel (docs/protocol.md §1–2): HTTP/1.1 with a keep-alive pool, redirects
never followed, ``dapr-api-token`` set from ``APP_API_TOKEN`` on every request but health
probes, hop-by-hop headers dropped both ways.

The channel sends through the package's lean keep-alive pool (``_client/connection_pool.py``),
not aiohttp: every relayed actor call crosses it, and aiohttp's per-request machinery cost
about 270 µs of CPU there against some 30 µs. The pool sends exactly the headers given (plus
``Host`` and ``Content-Length``), follows no redirect, keeps no cookies and never decompresses,
which is what a relay needs. Service invocation keeps aiohttp (``passthrough_session``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from .._client.connection_pool import HttpPool

logger = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "http2-settings",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-authenticate",
        "content-length",
        "host",
    }
)


# Send only what the caller sent, as daprd's Go client does: no aiohttp defaults (Accept,
# Accept-Encoding, User-Agent, Content-Type: application/octet-stream) nobody asked for. Above
# all no "Accept-Encoding: gzip, deflate": sessions here never decompress (they relay bodies as
# the peer encoded them), so an app behind GZipMiddleware would answer with bodies that neither
# the sidecar (its /dapr/config) nor a caller that asked for no compression could read.
NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def forwardable(headers: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    """``headers`` without hop-by-hop ones (and those a ``Connection`` header names)."""
    return CIMultiDict(relayable(headers))


def relayable(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``forwardable`` as a list of pairs: the app channel's per-request filter, one pass in
    the usual case of no ``Connection`` header."""
    kept = []
    named: set[str] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered in HOP_BY_HOP:
            if lowered == "connection":
                named.update(token.strip().lower() for token in value.split(","))
            continue
        kept.append((name, value))
    if named:
        kept = [(name, value) for name, value in kept if name.lower() not in named]
    return kept


def passthrough_session() -> aiohttp.ClientSession:
    """A client session that relays requests as a sidecar does: a keep-alive pool of up to 1024
    connections per host and none overall (daprd's ``MaxConnsPerHost``, §1), so a target whose
    calls hang cannot take the connections another target needs; bodies left as the peer
    encoded them, no session timeout (daprd has none; callers set their own), no cookies."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=1024),
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None),
        # A cookie jar would replay one caller's cookies on another caller's calls.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


@dataclass(frozen=True, slots=True)
class AppResponse:
    status: int
    headers: CIMultiDict[str]
    body: bytes


APP_CONNECTIONS = 1024


class AppUnreachable(ConnectionError):
    """The app did not answer: refused, reset, timed out, or not in HTTP."""


class PassthroughClient:
    """Holds a ``passthrough_session`` between ``open()`` and ``close()``."""

    _session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = passthrough_session()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class AppChannel:
    """HTTP calls from the sidecar to the app at ``base_url``, between ``open()`` and
    ``close()``."""

    def __init__(self, base_url: str, *, app_id: str, app_api_token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self._app_id = app_id
        self._token = app_api_token
        self._pool: HttpPool | None = None

    async def open(self) -> None:
        token = {} if self._token is None else {"dapr-api-token": self._token}
        # As many idle connections as daprd keeps per host (MaxConnsPerHost 1024, §1): a burst
        # of concurrent actor calls then reuses its connections instead of reconnecting.
        self._pool = HttpPool(self.base_url, token, max_idle=APP_CONNECTIONS)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def wait_until_listening(self, poll_seconds: float = 0.1) -> None:
        """Poll the app's port until it accepts TCP, as daprd does; log while waiting."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        loop = asyncio.get_running_loop()
        started = next_log = loop.time()
        while True:
            try:
                _, writer = await asyncio.open_connection(host, port)
            except OSError:
                if loop.time() >= next_log:
                    waited = loop.time() - started
                    logger.info("waiting for the app at %s (%.0fs so far)", self.base_url, waited)
                    next_log += 5
                await asyncio.sleep(poll_seconds)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def fetch_config(self) -> dict[str, Any] | None:
        """``GET /dapr/config`` once; ``None`` (host no actors) when daprd would give up."""
        headers = {"Content-Type": "application/json", "dapr-app-id": self._app_id}
        try:
            response = await self.request("GET", "/dapr/config", headers.items(), b"")
        except AppUnreachable as error:
            logger.warning("GET /dapr/config failed (%s): hosting no actors", error)
            return None
        if response.status != 200:
            logger.warning(
                "GET /dapr/config answered %d, not 200: hosting no actors", response.status
            )
            return None
        try:
            document = json.loads(response.body)
        except ValueError as error:
            logger.warning("GET /dapr/config is not JSON (%s): hosting no actors", error)
            return None
        if not isinstance(document, dict):
            logger.warning("GET /dapr/config is not a JSON object: hosting no actors")
            return None
        return document

    async def request(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> AppResponse:
        """Send one request to the app; ``AppUnreachable`` when it cannot be reached.

        ``path`` is already percent-encoded (``_wire/paths.py``) and goes out byte for byte, so
        the app reads each name as it was escaped once (``%62`` stays ``%62``). ``body`` goes as
        given: an empty one without ``Content-Length`` on GET and DELETE, as Go's client sends it.
        """
        if self._pool is None:
            raise RuntimeError("AppChannel.open() must be awaited before requests are sent")
        outgoing = relayable(headers)
        if self._token is not None:
            # The channel's own token (sent with every request) replaces a caller's.
            outgoing = [pair for pair in outgoing if pair[0].lower() != "dapr-api-token"]
        try:
            answer = await self._pool.request(method, path, outgoing, body or None)
        except OSError as error:
            # Refused, reset, closed before the answer was complete, or not HTTP at all.
            raise AppUnreachable(f"{method} {self.base_url}{path}: {error}") from error
        relayed = CIMultiDict(relayable(answer.headers.items()))
        return AppResponse(answer.status, relayed, answer.body)
