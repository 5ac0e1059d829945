"""The runtime's outbound calls: typed proxies, untyped actor calls and service invocation,
sent through its sidecar client (docs/protocol.md §4.5, §7.1, §8).

* A failed actor call raises ``ActorInvokeError`` whichever way the callee reports errors:
  daprd's ``500 ERR_ACTOR_INVOKE_METHOD`` with the actor's answer inside the message, or 200
  with ``X-DaprErrorResponseHeader`` and the actor's body verbatim.
* Every call goes through the runtime's ``SidecarClient``, which adds the current turn's
  ``Dapr-Reentrancy-Id`` and trace headers, so reentrant chains and traces survive the hop.
* An actor calling itself from its own turn with reentrancy off would wait for that turn
  forever; it is refused at once instead (the type's host knows the turn).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from pydantic_core import from_json

from .._actor_api.actor import Actor, registrations_of
from .._actor_api.definition import define_actor
from .._actor_api.proxy import (
    NO_BODY,
    OCTET_STREAM,
    ActorProxy,
    OutgoingBody,
    build_proxy_class,
    json_body,
    outgoing_body,
)
from .._client.sidecar_client import SidecarClient, SidecarResponse
from .._turn import current_turn
from .._wire.headers import ERROR_RESPONSE
from .._wire.names import checked_name
from .._wire.paths import QueryParams, actor_method_path, invocation_path
from ..exceptions import ActorConfigError, ActorInvokeError
from .type_host import ActorTypeHost

ActorT = TypeVar("ActorT")

# How daprd quotes the actor's non-200 answer in ERR_ACTOR_INVOKE_METHOD, also after a remote
# hop ("rpc error: code = Internal desc = error invoke actor method: error from ...").
_FROM_ACTOR = re.compile(r"error from actor service: \((\d{3})\) (.*)\Z", re.DOTALL)
_METHOD_NOT_FOUND = "actor method not found"


# -- errors --------------------------------------------------------------------------------------


def is_actor_error(response: SidecarResponse) -> bool:
    """Whether the sidecar's answer to an actor call reports a failure (§4.5)."""
    return response.status >= 400 or ERROR_RESPONSE in response.headers


def actor_invoke_error(
    response: SidecarResponse, actor_type: str, actor_id: str, method: str
) -> ActorInvokeError:
    """The failure of an actor call, with what can be recovered of the actor's own answer."""
    decoded = _json_object(response.body)
    text = response.text.strip()
    code = str(decoded.get("errorCode", f"HTTP_{response.status}"))
    message = str(decoded.get("message", text)) if decoded else text
    remote_status: int | None = None
    remote_error: dict[str, Any] | None = None
    remote_message: str | None = None
    if response.status < 400:  # X-DaprErrorResponseHeader: the actor's own body, verbatim
        remote_status, remote_error, remote_message = response.status, decoded or None, message
    elif (quoted := _FROM_ACTOR.search(message)) is not None:
        remote_status = int(quoted[1])
        remote_error = _json_object(quoted[2].encode()) or None
        remote_message = str(remote_error.get("message", quoted[2])) if remote_error else quoted[2]
    elif _METHOD_NOT_FOUND in message:
        remote_status = 404
    return ActorInvokeError(
        response.status,
        code,
        message,
        method=response.method,
        path=response.path,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_method=method,
        remote_status=remote_status,
        remote_error=remote_error,
        remote_message=remote_message,
    )


def _json_object(body: bytes) -> dict[str, Any]:
    """``body`` decoded when it is a JSON object, else ``{}``."""
    if not body.lstrip().startswith(b"{"):
        return {}
    try:
        decoded = from_json(body)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


# -- the runtime's outbound calls ----------------------------------------------------------------


class OutboundCalls:
    """A runtime's calls to other actors and apps, sent by its sidecar client.

    ``hosts`` is the runtime's live table of hosted types: it tells which type a class is
    registered as, gives hosted classes their definitions, and shows whether a call would
    wait for the turn it is made from. Holds the proxy classes made so far, one per class.
    """

    def __init__(self, sidecar: SidecarClient, hosts: Mapping[str, ActorTypeHost]) -> None:
        self._sidecar = sidecar
        self._hosts = hosts
        self._proxy_classes: dict[type, type[ActorProxy]] = {}

    def proxy(self, actor_class: type[ActorT], actor_id: str, actor_type: str | None) -> ActorT:
        type_name = self._type_name(actor_class, actor_id) if actor_type is None else actor_type
        checked_name("actor type", type_name)
        checked_name("actor id", actor_id)
        proxy_class = self._proxy_classes.get(actor_class)
        if proxy_class is None:
            proxy_class = self._proxy_classes[actor_class] = self._proxy_class(
                actor_class, type_name
            )
        return cast("ActorT", proxy_class(self, type_name, actor_id))

    def _type_name(self, actor_class: type, actor_id: str) -> str:
        """The type name ``actor_class`` is registered under, when that is unambiguous."""
        here = [
            name for name, host in self._hosts.items() if host.actor_type.actor_class is actor_class
        ]
        if len(here) == 1:
            return here[0]
        elsewhere = registrations_of(actor_class) if isinstance(actor_class, type) else ()
        if not here and len(elsewhere) == 1:
            return str(elsewhere[0].name)
        name = getattr(actor_class, "__name__", repr(actor_class))
        raise ActorConfigError(
            f"cannot tell which actor type to call for {name}: pass it, as in "
            f'runtime.proxy({name}, {actor_id!r}, actor_type="<type name>")'
        )

    def _proxy_class(self, actor_class: type, type_name: str) -> type[ActorProxy]:
        if not (isinstance(actor_class, type) and issubclass(actor_class, Actor)):
            raise TypeError(
                f"a proxy is made from a subclass of dapr_actors_fastapi.Actor, got {actor_class!r}"
            )
        # A class this runtime hosts already has its definition; any other (hosted by another
        # app, and imported here for its signatures) is read the same way, once.
        hosted = next(
            (
                host.definition
                for host in self._hosts.values()
                if host.actor_type.actor_class is actor_class
            ),
            None,
        )
        definition = hosted if hosted is not None else define_actor(actor_class, type_name)
        return build_proxy_class(actor_class, definition)

    async def send_actor_call(
        self,
        actor_type: str,
        actor_id: str,
        method: str,
        path: str,
        body: OutgoingBody,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see ActorRuntime.invoke)
    ) -> SidecarResponse:
        """``POST`` an actor method call; ``ActorInvokeError`` if it failed (§4.5, §7.1)."""
        self._refuse_self_deadlock(actor_type, actor_id, method)
        response = await self._sidecar.request(
            "POST",
            path,
            body=body.data,
            content_type=body.content_type,
            headers=headers,
            raise_for_status=False,
            timeout=timeout,
        )
        if is_actor_error(response):
            raise actor_invoke_error(response, actor_type, actor_id, method)
        return response

    def _refuse_self_deadlock(self, actor_type: str, actor_id: str, method: str) -> None:
        """An actor calling itself through the sidecar from inside its own turn, with
        reentrancy off, waits for the turn it holds: it would hang until the timeout."""
        turn = current_turn()
        if turn is None or (turn.actor_type, turn.actor_id) != (actor_type, actor_id):
            return
        host = self._hosts.get(actor_type)
        if host is None or host.reentrant or not host.runs_turn(actor_id, turn):
            return
        raise RuntimeError(
            f"actor {actor_type}/{actor_id} called its own method {method!r} through the "
            "sidecar inside its turn; with reentrancy off that call would wait for this very "
            f"turn forever. Call the method directly (await self.<method>(...)), or enable "
            f'reentrancy: @runtime.actor("{actor_type}", reentrancy=True)'
        )

    async def invoke_actor(
        self,
        actor_type: str,
        actor_id: str,
        method: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None,
        timeout: float | None,  # noqa: ASYNC109 (see ActorRuntime.invoke)
    ) -> SidecarResponse:
        checked_name("actor type", actor_type)
        checked_name("actor id", actor_id)
        if not isinstance(method, str) or not method:
            raise ValueError(f"method {method!r} names no actor method")
        path = actor_method_path(actor_type, actor_id, method)
        return await self.send_actor_call(
            actor_type,
            actor_id,
            method,
            path,
            outgoing_body(body, f"{actor_type}.{method}"),
            headers=headers,
            timeout=timeout,
        )

    async def invoke(
        self,
        app_id: str,
        method_path: str,
        *,
        verb: str,
        json: Any,
        data: bytes | None,
        params: QueryParams | None,
        headers: Mapping[str, str] | None,
        namespace: str | None,
        timeout: float | None,  # noqa: ASYNC109 (see ActorRuntime.invoke)
    ) -> SidecarResponse:
        if data is None:
            body = NO_BODY if json is None else json_body(json, f"{app_id}/{method_path}")
        elif json is not None:
            raise TypeError("pass the body as json= or as data=, not both")
        elif isinstance(data, bytes | bytearray | memoryview):
            body = OutgoingBody(bytes(data), OCTET_STREAM)
        else:
            raise TypeError(f"data= takes bytes, got {type(data).__name__}; use json= for JSON")
        path = invocation_path(app_id, method_path, namespace, params)
        return await self._sidecar.request(
            verb.upper(),
            path,
            body=body.data,
            content_type=body.content_type,
            headers=headers,
            raise_for_status=False,
            timeout=timeout,
        )
