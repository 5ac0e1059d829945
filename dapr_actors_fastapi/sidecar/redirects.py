"""How Go's default HTTP client follows redirects, which daprd's channels to ``HTTPEndpoint``
resources use (docs/protocol.md §8.4; ``pkg/runtime/channels/channels.go``
``getHTTPEndpointAppChannel`` sets no ``CheckRedirect``). The app channel, and the channel for
literal ``http(s)://`` targets, return every redirect to the caller instead (§1).

The rules, from ``go:net/http/client.go`` (``redirectBehavior``, ``defaultCheckRedirect``,
``makeHeadersCopier``, ``shouldCopyHeaderOnRedirect``, ``refererForURL``):

* 301, 302 and 303 are followed; a verb other than GET and HEAD becomes GET, without a body.
* 307 and 308 keep verb and body, but only when Go can replay the body, and daprd hands Go a
  stream it cannot replay (``http_channel.go`` ``constructRequest``), so they come back to the
  caller (inferred from the code).
* A redirect without ``Location`` comes back to the caller.
* At most 10 requests: the 10th redirect is the error ``stopped after 10 redirects``.
* Each hop carries the first request's headers, but ``Authorization``, ``Www-Authenticate``,
  ``Cookie`` and ``Cookie2`` only to the same host and port or a subdomain of it, and a
  ``Referer`` naming the previous URL unless that was https and the next is http.
"""

from __future__ import annotations

from collections.abc import Iterable

import yarl
from multidict import CIMultiDict

MAX_REQUESTS = 10  # Go's defaultCheckRedirect
FOLLOWED = frozenset({301, 302, 303})
_KEEP_VERB = frozenset({"GET", "HEAD"})
_SENSITIVE = frozenset({"authorization", "www-authenticate", "cookie", "cookie2"})


class TooManyRedirects(Exception):
    """The 10th redirect in a row; the message reads as Go's ``url.Error``."""


def next_verb(status: int, verb: str) -> str | None:
    """The verb the redirect ``status`` is followed with, or ``None``: not followed."""
    if status not in FOLLOWED:
        return None
    return verb if verb in _KEEP_VERB else "GET"


def check_redirect(first_verb: str, location: str, requests_sent: int) -> None:
    """``TooManyRedirects`` once ``requests_sent`` reached Go's limit."""
    if requests_sent >= MAX_REQUESTS:
        op = first_verb[:1] + first_verb[1:].lower()  # Go's urlErrorOp: "POST" -> "Post"
        raise TooManyRedirects(f'{op} "{location}": stopped after {MAX_REQUESTS} redirects')


def redirect_headers(
    first: Iterable[tuple[str, str]], previous: yarl.URL, following: yarl.URL
) -> CIMultiDict[str]:
    """The headers of the request to ``following``: the first request's, less the credentials
    Go keeps from another host, plus ``Referer``."""
    same_site = _is_domain_or_subdomain(_host_port(following), _host_port(previous))
    headers = CIMultiDict(
        (name, value) for name, value in first if same_site or name.lower() not in _SENSITIVE
    )
    if not (previous.scheme == "https" and following.scheme == "http"):
        headers["Referer"] = str(previous.with_user(None).with_fragment(None))
    return headers


def _host_port(url: yarl.URL) -> str:
    return f"{(url.host or '').lower()}:{url.port}"


def _is_domain_or_subdomain(sub: str, parent: str) -> bool:
    return sub == parent or sub.endswith("." + parent)
