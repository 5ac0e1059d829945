"""Service invocation in the dev sidecar: daprd's ``/v1.0/invoke`` on one machine (docs/protocol.md §8).

A request names its target in one of three ways (§8.1, in daprd's priority order): a
``dapr-app-id`` header on any path, ``Authorization: Basic base64("dapr-app-id:<target>")``, or
the path ``/v1.0/invoke/<target>/method/<method>``. The target is one of

* an app id: this sidecar's own app (``app_url``) or one of ``apps``, as ``<id>`` (looked up
  in the sidecar's namespace) or ``<id>.<namespace>``; ``apps`` may name other namespaces;
* the name of an ``HTTPEndpoint`` resource (see ``resources.py``);
* a literal ``http://`` or ``https://`` URL (percent-encoded or not).

The request goes on as a reverse proxy would send it (§8.2) and the answer comes back verbatim,
whatever its status (§8.3). Only the sidecar's own failures become Dapr error bodies.

A call ends when its caller goes away, as daprd cancels the request's context, or after
``SidecarSettings.invoke_timeout``: a target that never answers must not keep connections open
until the sidecar runs out of file descriptors.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import yarl
from multidict import CIMultiDict
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .._wire.names import go_path_clean, normalize_method
from .bodies import read_body
from .channel import NO_AUTO_HEADERS, PassthroughClient, forwardable
from .errors import DaprError, direct_invoke_failed
from .redirects import TooManyRedirects, check_redirect, next_verb, redirect_headers
from .resources import HTTPEndpoint, load_http_endpoints
from .settings import SidecarSettings

APP_ID_HEADER = "dapr-app-id"
CALLER_HEADERS = ("dapr-caller-app-id", "dapr-caller-namespace", "dapr-callee-app-id")
# Verbs daprd's HTTPExtension carries; any other verb reaches the target as POST (§8.2).
VERBS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"})
# daprd accepts any number of slashes between the prefix segments (§8.1).
_INVOKE_PREFIX = re.compile(r"/+v1\.0/+invoke/+")
_METHOD_MARK = "/method/"
# RFC 3986 pchar without "%": the decoded method is re-encoded, so "%2F" arrives as a real "/"
# (as in daprd) and a space as "%20".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def no_target() -> DaprError:
    """daprd's answer when a request names no target (§8.1)."""
    return DaprError(
        404,
        "ERR_DIRECT_INVOKE",
        "failed getting app id either from the URL path or the header dapr-app-id",
    )


@dataclass(frozen=True, slots=True)
class Target:
    """Where an invocation goes, resolved from the name the caller used."""

    name: str
    """As the caller wrote it, for error messages."""
    base_url: str
    headers: tuple[tuple[str, str], ...] = ()
    """Set on every request, replacing the caller's (``HTTPEndpoint`` ``spec.headers``)."""
    app_id: str | None = None
    """The callee's app id; ``None`` for external targets, which get no caller/callee headers."""
    api_token: str | None = None
    """``dapr-api-token`` for the callee: the own app's ``APP_API_TOKEN``."""
    follows_redirects: bool = False
    """301/302/303 are followed (``HTTPEndpoint`` resources, see ``redirects.py``)."""


class ServiceInvoker(PassthroughClient):
    """Serves service invocation for a ``Sidecar``: route any path to ``handle``.

    ``HTTPEndpoint`` resources are read when it is built, so a bad file stops the sidecar at
    start-up with a ``ResourceError`` naming it; ``open()``/``close()`` bracket its HTTP pool.
    """

    def __init__(self, settings: SidecarSettings) -> None:
        self.settings = settings
        self.endpoints: dict[str, HTTPEndpoint] = (
            load_http_endpoints(settings.resources_path) if settings.resources_path else {}
        )

    async def handle(self, request: Request) -> Response:
        """Invoke the target the request names; Dapr error bodies for the sidecar's failures."""
        try:
            return await self._invoke(request)
        except DaprError as error:
            return error.response()

    def resolve(self, name: str) -> Target:
        """The target called ``name``; ``DaprError`` (500) when there is none."""
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            return Target(name, endpoint.base_url, endpoint.headers, follows_redirects=True)
        if name.startswith(("http://", "https://")):
            return Target(name, name)
        return self._resolve_app(name)

    async def _invoke(self, request: Request) -> Response:
        name, method = find_target(request.scope["path"], request.headers)
        method = _checked_method(name, method)
        target = self.resolve(name)
        url = _url(target, method, request.scope["query_string"])
        headers = self._outgoing_headers(request.headers.items(), target)
        body = await read_body(request, self.settings.max_body_size)
        verb = request.method.upper()
        sending = self._send(target, verb if verb in VERBS else "POST", url, headers, body)
        return await unless_caller_leaves(request, sending)

    def _resolve_app(self, name: str) -> Target:
        settings = self.settings
        app_id, _, namespace = name.partition(".")
        if "." in namespace:
            raise direct_invoke_failed(
                name, f"invalid app id {name}: use <app-id> or <app-id>.<namespace>"
            )
        namespace = namespace or settings.namespace
        if namespace == settings.namespace and app_id == settings.app_id:
            return Target(name, settings.app_url, app_id=app_id, api_token=settings.app_api_token)
        url = self._peer_url(app_id, namespace)
        if url is not None:
            return Target(name, url, app_id=app_id)
        known = ", ".join(sorted({settings.app_id, *settings.apps, *self.endpoints}))
        where = "" if namespace == settings.namespace else f".{namespace}"
        raise direct_invoke_failed(
            name,
            f"app id {app_id!r} in namespace {namespace!r} is not known to the dev sidecar, "
            f"which serves namespace {settings.namespace!r} (known: {known}); register it with "
            f"--app {app_id}{where}=URL, or add an HTTPEndpoint resource named {app_id!r}",
        )

    def _peer_url(self, app_id: str, namespace: str) -> str | None:
        """The URL of ``--app`` entry ``app_id`` in ``namespace``: ``id.ns``, or plain ``id``
        when ``namespace`` is the sidecar's own."""
        apps = self.settings.apps
        qualified = apps.get(f"{app_id}.{namespace}")
        if qualified is not None or namespace != self.settings.namespace:
            return qualified
        return apps.get(app_id)

    def _outgoing_headers(
        self, incoming: Iterable[tuple[str, str]], target: Target
    ) -> CIMultiDict[str]:
        """The caller's headers as daprd forwards them (§8.2)."""
        headers = forwardable(incoming)
        headers.popall(APP_ID_HEADER, None)
        if self.settings.api_token is not None:
            # The caller's token is for this sidecar; it must not leak to the target.
            headers.popall("dapr-api-token", None)
        if target.api_token is not None:
            headers["dapr-api-token"] = target.api_token
        if target.app_id is not None:
            # Setting replaces every casing of the name, so a caller cannot forge its identity.
            headers["dapr-caller-app-id"] = self.settings.app_id
            headers["dapr-caller-namespace"] = self.settings.namespace
            headers["dapr-callee-app-id"] = target.app_id
        for header, _ in target.headers:
            headers.popall(header, None)
        headers.extend(target.headers)
        return headers

    async def _send(
        self, target: Target, verb: str, url: yarl.URL, headers: CIMultiDict[str], body: bytes
    ) -> Response:
        try:
            async with asyncio.timeout(self.settings.invoke_timeout):  # the redirects included
                return await self._exchange(target, verb, url, headers, body)
        except TimeoutError:
            raise direct_invoke_failed(
                target.name,
                f"context deadline exceeded: no answer within {self.settings.invoke_timeout:g}s, "
                "the dev sidecar's invoke timeout (raise it with --invoke-timeout)",
            ) from None
        except aiohttp.ClientError as error:
            raise direct_invoke_failed(target.name, str(error) or type(error).__name__) from None
        except TooManyRedirects as error:
            raise direct_invoke_failed(target.name, str(error)) from None

    async def _exchange(
        self, target: Target, verb: str, url: yarl.URL, headers: CIMultiDict[str], body: bytes
    ) -> Response:
        """The target's answer, after the redirects ``target`` follows."""
        if self._session is None:
            raise RuntimeError("ServiceInvoker.open() must be awaited before handling requests")
        first_verb, first_headers, sent = verb, list(headers.items()), 0
        while True:
            async with self._session.request(
                verb,
                url,
                headers=headers,
                # No body means no Content-Length: 0 on GET and friends; POST etc. still get one.
                data=body or None,
                allow_redirects=False,
                skip_auto_headers=NO_AUTO_HEADERS,
            ) as answer:
                sent += 1
                location = answer.headers.get("location")
                following = next_verb(answer.status, verb) if target.follows_redirects else None
                if following is None or not location:
                    payload = await answer.read()
                    return _relay(answer.status, answer.headers.items(), payload)
            check_redirect(first_verb, location, sent)
            previous, url = url, _follow(target, url, location)
            headers = redirect_headers(first_headers, previous, url)
            if following != verb:
                verb, body = following, b""


def _follow(target: Target, url: yarl.URL, location: str) -> yarl.URL:
    """``location`` resolved against ``url``, as Go's ``URL.Parse`` resolves a redirect."""
    try:
        return url.join(yarl.URL(location))
    except ValueError as error:
        raise direct_invoke_failed(
            target.name, f"failed to parse Location header {location!r}: {error}"
        ) from None


async def unless_caller_leaves(
    request: Request, answering: Coroutine[Any, Any, Response]
) -> Response:
    """``answering``'s response, or a throwaway one once the caller disconnects, when
    ``answering`` is cancelled: its outgoing call closes, as daprd cancels the request context.

    Call it once the request body is read: from then on uvicorn's ``receive`` only ever yields
    ``http.disconnect``.
    """
    call = asyncio.ensure_future(answering)
    gone = asyncio.ensure_future(_caller_gone(request))
    try:
        await asyncio.wait((call, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        call.cancel()
        gone.cancel()
        await asyncio.wait((call, gone))
    if call.cancelled():
        return Response(status_code=499)  # nobody reads it: nginx's "client closed request"
    return call.result()


async def _caller_gone(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def find_target(path: str, headers: Headers) -> tuple[str, str]:
    """The target and method a request names (§8.1), or the ``no_target()`` error (404) when it names none.

    ``path`` is the percent-decoded request path, as daprd reads ``r.URL.Path``.
    """
    app_id = headers.get(APP_ID_HEADER) or _basic_auth_target(headers.get("authorization"))
    if app_id:
        return app_id, go_path_clean(path).removeprefix("/")
    prefix = _INVOKE_PREFIX.match(path)
    if prefix is not None:
        rest = path[prefix.end() :]
        mark = rest.find(_METHOD_MARK)
        if mark > 0:
            # Unescaped once more, as daprd does, so a target written http%3A%2F%2Fhost works
            # even when the client encoded it twice.
            return unquote(rest[:mark]), go_path_clean(rest[mark + len(_METHOD_MARK) :])
    raise no_target()


def _basic_auth_target(authorization: str | None) -> str | None:
    """``<target>`` from ``Basic base64("dapr-app-id:<target>")``; the user part ignores case."""
    if authorization is None or not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[len("Basic ") :], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None  # ordinary credentials for the target, not an addressing form
    parts = decoded.split(":")
    if len(parts) != 2 or parts[0].lower() != APP_ID_HEADER:
        return None
    return parts[1]


def _checked_method(target: str, method: str) -> str:
    """``method`` as daprd's ``NormalizeMethod`` leaves it (§8.1): dot segments resolved, no
    climbing above the target's root; ``#``, ``?``, NUL and control characters refused with
    500, as daprd refuses them (with gRPC's wording, since its check sits behind a gRPC API)."""
    try:
        cleaned = normalize_method(method)
    except ValueError as error:
        raise direct_invoke_failed(
            target, f"rpc error: code = InvalidArgument desc = invalid method: {error}"
        ) from None
    if not cleaned:
        # Project policy P10 (the seed's 400); daprd would call "/" on the target instead.
        raise DaprError(
            400,
            "ERR_DIRECT_INVOKE",
            f"method name not given for {target!r}: call /v1.0/invoke/{target}/method/<method>, "
            "or a non-root path with the dapr-app-id header",
        )
    return cleaned


def _refuse_percent(target: str, method: str) -> None:
    """daprd puts the decoded method into the target URL as it is, so a ``%`` there starts an
    escape: Go refuses the URL when no two hex digits follow (500), and otherwise the target
    decodes the method a second time. The dev sidecar refuses every ``%`` (docs/protocol.md
    §13.1)."""
    if "%" in method:
        raise direct_invoke_failed(
            target,
            f"invalid method {method!r}: a '%' (sent as %25) cannot be passed on, since daprd "
            "writes the decoded method into the URL, where '%' starts an escape; rename the "
            "method",
        )


def _url(target: Target, method: str, query: bytes) -> yarl.URL:
    try:
        base = yarl.URL(target.base_url)
    except ValueError as error:
        raise direct_invoke_failed(
            target.name, f"invalid URL {target.base_url!r}: {error}"
        ) from None
    if base.scheme not in ("http", "https") or not base.host or base.query_string or base.fragment:
        raise direct_invoke_failed(
            target.name, f"invalid URL {target.base_url!r}: use http://host[:port][/path]"
        )
    _refuse_percent(target.name, method)
    url = f"{str(base).rstrip('/')}/{quote(method, safe=_PATH_SAFE)}"
    if query:
        url += "?" + query.decode("latin-1")
    # encoded=True: the query goes out byte for byte, and yarl does not re-normalize the path.
    return yarl.URL(url, encoded=True)


def _relay(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> Response:
    """The target's answer, verbatim but for hop-by-hop headers and Content-Length (§8.3)."""
    response = Response(body, status_code=status)
    # append, not a dict: repeated headers such as Set-Cookie must all come back.
    for name, value in forwardable(headers).items():
        response.headers.append(name, value)
    return response


class AnyVerb:
    """``endpoint`` as an ASGI app, so a Starlette ``Route`` serves it for every verb.

    Starlette gives a function endpoint only the verbs in ``methods`` and answers 405 to the
    rest, but daprd invokes with any verb (§8.1–8.2: PROPFIND arrives as POST). A ``Route`` whose
    endpoint is an ASGI app and whose ``methods`` is ``None`` matches them all.
    """

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)
