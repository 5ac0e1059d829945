"""Paths of the sidecar's HTTP API (docs/protocol.md §7, §8.1) and of the callbacks a sidecar
sends the app (§4), quoted so that a name arrives as exactly that name: every character that
would change the path is escaped once, so ``a%62`` stays ``a%62`` and never becomes ``ab``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlencode

QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]]
Recurrences = Literal["reminders", "timers"]
CallbackRoute = Literal["remind", "timer"]


def actor_path(actor_type: str, actor_id: str) -> str:
    """``/v1.0/actors/{type}/{id}``. An id like "a/b" or "a#b" reaches the sidecar as that id
    (which refuses it, as daprd does, if it is invalid)."""
    return f"/v1.0/actors/{quote(actor_type, safe='')}/{quote(actor_id, safe='')}"


def actor_method_path(actor_type: str, actor_id: str, method: str) -> str:
    """``/v1.0/actors/{type}/{id}/method/{method}`` (§7.1)."""
    return f"{actor_path(actor_type, actor_id)}/method/{quote(method, safe='')}"


def recurrence_path(actor_type: str, actor_id: str, collection: Recurrences, name: str) -> str:
    """``…/reminders/{name}`` or ``…/timers/{name}`` of one actor (§7.4, §7.5)."""
    return f"{actor_path(actor_type, actor_id)}/{collection}/{quote(name, safe='')}"


def actor_callback_path(actor_type: str, actor_id: str) -> str:
    """``/actors/{type}/{id}``, the app's deactivation route (§4.4)."""
    return f"/actors/{quote(actor_type, safe='')}/{quote(actor_id, safe='')}"


def method_callback_path(actor_type: str, actor_id: str, method: str) -> str:
    """``/actors/{type}/{id}/method/{method}`` on the app (§4.1)."""
    return f"{actor_callback_path(actor_type, actor_id)}/method/{quote(method, safe='')}"


def recurrence_callback_path(
    actor_type: str, actor_id: str, route: CallbackRoute, name: str
) -> str:
    """``/actors/{type}/{id}/method/remind/{name}`` or ``…/method/timer/{name}`` (§4.2, §4.3)."""
    return f"{actor_callback_path(actor_type, actor_id)}/method/{route}/{quote(name, safe='')}"


def invocation_path(
    app_id: str, method_path: str, namespace: str | None, params: QueryParams | None
) -> str:
    """``/v1.0/invoke/{target}/method/{method}[?query]`` (§8.1); ``ValueError`` or
    ``TypeError`` naming the argument when the target or path cannot be addressed."""
    target = _invocation_target(app_id, namespace)
    if not isinstance(method_path, str):
        raise TypeError(f"method_path must be a str, got {type(method_path).__name__}")
    method = method_path.lstrip("/")
    if not method:
        raise ValueError(
            f"method_path {method_path!r} names no path on the target: pass one such as "
            "'add' or 'api/v1/add'"
        )
    if "?" in method or "#" in method:
        raise ValueError(
            f"method_path {method_path!r} contains '?' or '#': it is encoded as part of the "
            "path; pass the query as params={...}"
        )
    # A URL target is quoted whole ("http%3A%2F%2Fhost"), which daprd unescapes (§8.1).
    path = f"/v1.0/invoke/{quote(target, safe='')}/method/{quote(method, safe='/')}"
    if params:
        path += "?" + urlencode(params, doseq=True)
    return path


def _invocation_target(app_id: str, namespace: str | None) -> str:
    if not isinstance(app_id, str) or not app_id:
        raise ValueError(
            f"app_id {app_id!r} names no target: pass an app id, 'app-id.namespace', the "
            "name of an HTTPEndpoint resource, or an http(s):// URL"
        )
    if app_id.startswith(("http://", "https://")):
        if namespace is not None:
            raise ValueError(f"the URL target {app_id!r} has no namespace; drop namespace=")
        return app_id
    if "/" in app_id:
        raise ValueError(
            f"app_id {app_id!r} contains '/': pass an app id, 'app-id.namespace', the name "
            "of an HTTPEndpoint resource, or an http(s):// URL"
        )
    if namespace is None:
        return app_id
    if "." in app_id:
        raise ValueError(
            f"app_id {app_id!r} already names a namespace; drop namespace={namespace!r}"
        )
    if not namespace or "." in namespace or "/" in namespace:
        raise ValueError(f"namespace {namespace!r} is not a namespace name")
    return f"{app_id}.{namespace}"
