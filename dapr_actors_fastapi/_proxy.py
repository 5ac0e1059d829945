"""Calls from the app to others through its sidecar: typed actor proxies, untyped actor calls
and service invocation (protocol.md §4.5, §7.1, §8).

* ``XWing.proxy("33")`` (or ``runtime.proxy(XWing, "33")``) is typed as ``XWing``; each of its
  ``@method`` attributes binds the call's arguments to the handler's signature, encodes them
  as the hosting side decodes them (FastAPI's body rules, ``_definition``), sends them through
  the sidecar and decodes the answer with the method's declared return type.
* What can be worked out once per actor class is worked out on its first proxy and cached by
  the runtime (a proxy class with one attribute per method), so a proxy is one small object.
* A failed call raises ``ActorInvokeError`` whichever way the callee reports errors: daprd's
  ``500 ERR_ACTOR_INVOKE_METHOD`` with the actor's answer inside the message, or 200 with
  ``X-DaprErrorResponseHeader`` and the actor's body verbatim.
* Every call goes through the runtime's ``SidecarClient``, which adds the current turn's
  ``Dapr-Reentrancy-Id`` and trace headers, so reentrant chains and traces survive the hop.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, cast
from urllib.parse import quote, urlencode

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, from_json, to_json
from starlette.responses import Response

from ._names import checked_name
from ._sidecar import SidecarResponse, actor_path
from ._turn import current_turn
from .exceptions import ActorConfigError, ActorInvokeError

if TYPE_CHECKING:
    from ._actor import Actor, ActorType
    from ._definition import ActorDefinition, MethodBinding
    from ._runtime import ActorRuntime

ActorT = TypeVar("ActorT", bound="Actor")
QueryParams = Mapping[str, Any] | Sequence[tuple[str, Any]]

ERROR_RESPONSE_HEADER = "X-DaprErrorResponseHeader"
JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
# How daprd quotes the actor's non-200 answer in ERR_ACTOR_INVOKE_METHOD, also after a remote
# hop ("rpc error: code = Internal desc = error invoke actor method: error from ...").
_FROM_ACTOR = re.compile(r"error from actor service: \((\d{3})\) (.*)\Z", re.DOTALL)
_METHOD_NOT_FOUND = "actor method not found"


class OutgoingBody(NamedTuple):
    """A request body and its content type; ``None`` for both sends no body."""

    data: bytes | None
    content_type: str | None


NO_BODY = OutgoingBody(None, None)


# -- Actor.proxy ---------------------------------------------------------------------------------


def actor_proxy(actor_class: type[ActorT], actor_id: str) -> ActorT:
    """``ActorClass.proxy(actor_id)``: a proxy through the runtime that registered the class."""
    # The class's own registrations only: a subclass of a registered class is another type.
    registrations = actor_class.__dict__.get("__actor_types__", ())
    if len(registrations) == 1:
        actor_type: ActorType = registrations[0]
        return actor_type.runtime.proxy(actor_class, actor_id, actor_type=actor_type.name)
    name = actor_class.__name__
    if not registrations:
        raise ActorConfigError(
            f"{name} is not registered with an ActorRuntime, so {name}.proxy() knows neither "
            f'its actor type nor a sidecar: decorate it with @runtime.actor("<type name>"), '
            f"or, when another app hosts it, call runtime.proxy({name}, {actor_id!r}, "
            f'actor_type="<type name>")'
        )
    names = ", ".join(repr(registration.name) for registration in registrations)
    raise ActorConfigError(
        f"{name} is registered {len(registrations)} times ({names}), so {name}.proxy() "
        f"cannot choose: call runtime.proxy({name}, {actor_id!r}, actor_type=...) on the "
        "runtime whose sidecar should send the call"
    )


# -- one method: arguments in, result out -------------------------------------------------------

BodyEncoder = Callable[[inspect.BoundArguments], OutgoingBody]
ResultDecoder = Callable[[SidecarResponse], Any]


@dataclass(frozen=True, slots=True)
class MethodPlan:
    """How a proxy sends one ``@method`` and reads its answer."""

    wire_name: str
    quoted_name: str  # the method's path segment
    where: str  # "XWing.fly", for messages
    signature: inspect.Signature  # the handler's, without ``self``
    encode_body: BodyEncoder
    decode_result: ResultDecoder

    def body(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> OutgoingBody:
        """The request body for a call with ``args``/``kwargs``; ``TypeError`` if they do not
        fit the handler's signature or cannot be sent as JSON."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{self.where}({_call_shape(self.signature)}): {error}") from None
        return self.encode_body(bound)


def plan_method(binding: MethodBinding, where: str) -> MethodPlan:
    """The proxy's half of ``binding``: the same body rules, the other direction."""
    # Imported here: _definition imports _actor, which imports this module.
    from ._definition import _parameters

    parameters = _parameters(binding.function, where)
    return MethodPlan(
        wire_name=binding.wire_name,
        quoted_name=quote(binding.wire_name, safe=""),
        where=where,
        signature=_proxy_signature(parameters),
        encode_body=_body_encoder(parameters, where),
        decode_result=_result_decoder(binding.return_type, where),
    )


def _proxy_signature(parameters: list[tuple[inspect.Parameter, Any]]) -> inspect.Signature:
    """The handler's signature without ``self``, where a required ``Body(...)``/``Field(...)``
    default counts as no default: omitting it is a ``TypeError`` here, not a 400 there."""
    plain = [
        parameter.replace(default=inspect.Parameter.empty)
        if isinstance(parameter.default, FieldInfo) and parameter.default.is_required()
        else parameter
        for parameter, _ in parameters
    ]
    try:
        return inspect.Signature(plain)
    except ValueError:  # a required one after an optional one: leave the check to the host
        return inspect.Signature([parameter for parameter, _ in parameters])


def _call_shape(signature: inspect.Signature) -> str:
    """``destination, speed=...``: the parameters, without annotations or default values."""
    return ", ".join(
        name if parameter.default is inspect.Parameter.empty else f"{name}=..."
        for name, parameter in signature.parameters.items()
    )


def _body_encoder(parameters: list[tuple[inspect.Parameter, Any]], where: str) -> BodyEncoder:
    """Mirror of ``_definition._body_decoder``, using its own tests of the parameters."""
    from ._definition import _body_param_info, _is_model_like

    if not parameters:
        return lambda bound: NO_BODY
    if len(parameters) == 1:
        parameter, annotation = parameters[0]
        if annotation is bytes:
            return _raw_body_encoder(parameter, where)
        body_info = _body_param_info(parameter, annotation)
        embed = body_info is not None and body_info.embed
        if not embed and (body_info is not None or _is_model_like(annotation)):
            return _whole_body_encoder(parameter, where)
    return lambda bound: json_body(bound.arguments, where)


def _raw_body_encoder(parameter: inspect.Parameter, where: str) -> BodyEncoder:
    name = parameter.name
    # The hosting side hands the raw body to the handler, so an omitted argument's default
    # has to travel as the body to take effect there.
    default = parameter.default if isinstance(parameter.default, bytes) else b""

    def encode(bound: inspect.BoundArguments) -> OutgoingBody:
        value = bound.arguments.get(name, default)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"{where}: {name!r} takes bytes, got {type(value).__name__}")
        return OutgoingBody(bytes(value), OCTET_STREAM)

    return encode


def _whole_body_encoder(parameter: inspect.Parameter, where: str) -> BodyEncoder:
    name, default = parameter.name, parameter.default

    def encode(bound: inspect.BoundArguments) -> OutgoingBody:
        if name in bound.arguments:
            return json_body(bound.arguments[name], where)
        if isinstance(default, FieldInfo):
            # The host would call the handler with the Body()/Field() object itself, so the
            # default it describes travels as the body.
            return json_body(default.get_default(call_default_factory=True), where)
        return NO_BODY  # an empty body makes the handler use its default

    return encode


def json_body(value: Any, where: str) -> OutgoingBody:
    """``value`` as JSON, models by alias as the hosting side validates them."""
    try:
        return OutgoingBody(to_json(value, by_alias=True), JSON)
    except PydanticSerializationError as error:
        raise TypeError(f"{where}: the arguments cannot be sent as JSON: {error}") from None


def _result_decoder(return_type: Any, where: str) -> ResultDecoder:
    if return_type is None or return_type is type(None):
        return lambda response: None
    if return_type is bytes:
        return lambda response: response.body
    if isinstance(return_type, type) and issubclass(return_type, Response):
        return _as_response
    adapter: TypeAdapter[Any] = TypeAdapter(return_type)

    def decode(response: SidecarResponse) -> Any:
        if not response.body:
            return None  # the handler returned None
        try:
            return adapter.validate_json(response.body)
        except ValidationError as error:
            error.add_note(f"while decoding the answer of {where} as {return_type!r}")
            raise

    return decode


def _as_response(response: SidecarResponse) -> Response:
    """A method declared to return a ``Response`` gets one carrying the actor's answer."""
    return Response(response.body, media_type=response.headers.get("Content-Type"))


# -- proxies -------------------------------------------------------------------------------------


class ActorProxy:
    """Base of the proxy class made for each actor class; an instance stands for one actor.

    The subclass has one attribute per ``@method``, named as in the actor class, so that
    ``proxy.fly(...)`` is an ordinary attribute lookup. Internals are prefixed ``_proxy`` so
    that they do not shadow the actor's own method names.
    """

    __slots__ = ("_proxy_calls", "_proxy_id", "_proxy_prefix", "_proxy_type")

    _proxy_of: ClassVar[str] = "Actor"
    _proxy_methods: ClassVar[tuple[str, ...]] = ()

    def __init__(self, calls: OutboundCalls, actor_type: str, actor_id: str) -> None:
        self._proxy_calls = calls
        self._proxy_type = actor_type
        self._proxy_id = actor_id
        self._proxy_prefix = f"{actor_path(actor_type, actor_id)}/method/"

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the proxy class lacks.
        if name.startswith("__"):
            raise AttributeError(name)  # protocol probes (copy, pickle, ...) stay quiet
        methods = ", ".join(self._proxy_methods) or "none"
        raise AttributeError(
            f"the {self._proxy_of} proxy for {self._proxy_type}/{self._proxy_id} has no actor "
            f"method {name!r}: a proxy calls only @method handlers (here: {methods})"
        )

    def __repr__(self) -> str:
        return f"<{self._proxy_of} proxy {self._proxy_type}/{self._proxy_id}>"

    async def _proxy_call(self, plan: MethodPlan, body: OutgoingBody) -> Any:
        response = await self._proxy_calls.send_actor_call(
            self._proxy_type,
            self._proxy_id,
            plan.wire_name,
            self._proxy_prefix + plan.quoted_name,
            body,
        )
        return plan.decode_result(response)


def _proxy_method(plan: MethodPlan, attribute: str, owner: str, function: Any) -> Any:
    """The proxy's ``attribute``: checks the arguments when called (``TypeError`` at once, as
    calling a coroutine function with wrong arguments does) and returns the coroutine that
    sends them."""

    def call(proxy: ActorProxy, /, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        return proxy._proxy_call(plan, plan.body(args, kwargs))

    call.__name__ = attribute
    call.__qualname__ = f"{owner}.{attribute}"
    call.__doc__ = function.__doc__
    call.__wrapped__ = function  # type: ignore[attr-defined]  # signature() shows the handler's
    mark = getattr(inspect, "markcoroutinefunction", None)  # Python 3.12+
    return call if mark is None else mark(call)


def build_proxy_class(actor_class: type[Actor], definition: ActorDefinition) -> type[ActorProxy]:
    """A proxy class with one attribute per ``@method`` of ``actor_class``."""
    owner = f"{actor_class.__name__}Proxy"
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": actor_class.__module__,
        "_proxy_of": actor_class.__name__,
    }
    attributes = _method_attributes(actor_class, definition)
    for attribute, binding in attributes.items():
        plan = plan_method(binding, f"{actor_class.__name__}.{attribute}")
        namespace[attribute] = _proxy_method(plan, attribute, owner, binding.function)
    namespace["_proxy_methods"] = tuple(sorted(attributes))
    return cast("type[ActorProxy]", type(owner, (ActorProxy,), namespace))


def _method_attributes(
    actor_class: type[Actor], definition: ActorDefinition
) -> dict[str, MethodBinding]:
    """Attribute name -> binding: the definition knows wire names, callers use attributes."""
    by_function = {binding.function: binding for binding in definition.methods.values()}
    found: dict[str, MethodBinding] = {}
    # Base classes first, so that a subclass's attribute replaces its parent's.
    for klass in reversed(actor_class.__mro__):
        for attribute, value in vars(klass).items():
            binding = by_function.get(value) if inspect.isfunction(value) else None
            if binding is not None:
                found[attribute] = binding
            else:
                found.pop(attribute, None)
    return found


# -- addressing ----------------------------------------------------------------------------------


def invocation_path(
    app_id: str, method_path: str, namespace: str | None, params: QueryParams | None
) -> str:
    """``/v1.0/invoke/{target}/method/{method}[?query]`` (protocol.md §8.1)."""
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


# -- errors --------------------------------------------------------------------------------------


def is_actor_error(response: SidecarResponse) -> bool:
    """Whether the sidecar's answer to an actor call reports a failure (§4.5)."""
    return response.status >= 400 or ERROR_RESPONSE_HEADER in response.headers


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

    Holds the proxy classes made so far, one per actor class.
    """

    def __init__(self, runtime: ActorRuntime) -> None:
        self._runtime = runtime
        self._proxy_classes: dict[type[Actor], type[ActorProxy]] = {}

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

    def _type_name(self, actor_class: type[Actor], actor_id: str) -> str:
        """The type name ``actor_class`` is registered under, when that is unambiguous."""
        here = [
            name
            for name, actor_type in self._runtime.actor_types.items()
            if actor_type.actor_class is actor_class
        ]
        if len(here) == 1:
            return here[0]
        elsewhere = getattr(actor_class, "__dict__", {}).get("__actor_types__", ())
        if not here and len(elsewhere) == 1:
            return str(elsewhere[0].name)
        name = getattr(actor_class, "__name__", repr(actor_class))
        raise ActorConfigError(
            f"cannot tell which actor type to call for {name}: pass it, as in "
            f'runtime.proxy({name}, {actor_id!r}, actor_type="<type name>")'
        )

    def _proxy_class(self, actor_class: type[Actor], type_name: str) -> type[ActorProxy]:
        from ._actor import Actor
        from ._definition import define_actor

        if not (isinstance(actor_class, type) and issubclass(actor_class, Actor)):
            raise TypeError(
                f"a proxy is made from a subclass of dapr_actors_fastapi.Actor, got {actor_class!r}"
            )
        # A class this runtime hosts already has its definition; any other (hosted by another
        # app, and imported here for its signatures) is read the same way, once.
        hosted = next(
            (
                host.definition
                for host in self._runtime.hosts.values()
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
        response = await self._runtime.sidecar.request(
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
        host = self._runtime.hosts.get(actor_type)
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
        path = f"{actor_path(actor_type, actor_id)}/method/{quote(method, safe='')}"
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
        return await self._runtime.sidecar.request(
            verb.upper(),
            path,
            body=body.data,
            content_type=body.content_type,
            headers=headers,
            raise_for_status=False,
            timeout=timeout,
        )


def outgoing_body(value: Any, where: str) -> OutgoingBody:
    """``value`` as it is when it is bytes, else as JSON; ``None`` sends no body."""
    if isinstance(value, bytes | bytearray | memoryview):
        return OutgoingBody(bytes(value), OCTET_STREAM)
    return NO_BODY if value is None else json_body(value, where)
