"""Typed actor proxies: an actor class's ``@method`` signatures turned into calls
(docs/protocol.md §7.1).

* ``XWing.proxy("33")`` (or ``runtime.proxy(XWing, "33")``) is typed as ``XWing``; each of its
  ``@method`` attributes binds the call's arguments to the handler's signature, encodes them
  as the hosting side decodes them (``body_rules.py``), hands them to an ``ActorCallSender``
  and decodes the answer with the method's declared return type.
* What can be worked out once per actor class is worked out here, in a proxy class with one
  attribute per method, which the hosting layer caches (``_hosting/outbound.py``), so a proxy
  is one small object.
* Sending, and turning a failed answer into ``ActorInvokeError``, is the sender's job.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol, cast
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError, to_json
from starlette.responses import Response

from .._client.sidecar_client import SidecarResponse
from .._wire.paths import actor_path
from .body_rules import Parameters, body_shape, handler_parameters
from .definition import ActorDefinition, MethodBinding

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"


class OutgoingBody(NamedTuple):
    """A request body and its content type; ``None`` for both sends no body."""

    data: bytes | None
    content_type: str | None


NO_BODY = OutgoingBody(None, None)


class ActorCallSender(Protocol):
    """Sends one actor method call through the sidecar; raises ``ActorInvokeError`` when the
    call failed, whichever error style the callee uses."""

    async def send_actor_call(
        self,
        actor_type: str,
        actor_id: str,
        method: str,
        path: str,
        body: OutgoingBody,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (ActorRuntime.invoke says why)
    ) -> SidecarResponse: ...


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
    parameters = handler_parameters(binding.function, where)
    return MethodPlan(
        wire_name=binding.wire_name,
        quoted_name=quote(binding.wire_name, safe=""),
        where=where,
        signature=_proxy_signature(parameters),
        encode_body=_body_encoder(parameters, where),
        decode_result=_result_decoder(binding.return_type, where),
    )


def _proxy_signature(parameters: Parameters) -> inspect.Signature:
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


def _body_encoder(parameters: Parameters, where: str) -> BodyEncoder:
    """The host's decoder run backwards (``definition._body_decoder``), by the same shape."""
    shape = body_shape(parameters)
    if shape == "none":
        return lambda bound: NO_BODY
    if shape == "keyed":
        return lambda bound: json_body(bound.arguments, where)
    if shape == "raw":
        return _raw_body_encoder(parameters[0][0], where)
    return _whole_body_encoder(parameters[0][0], where)


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

    def __init__(self, calls: ActorCallSender, actor_type: str, actor_id: str) -> None:
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


def build_proxy_class(actor_class: type, definition: ActorDefinition) -> type[ActorProxy]:
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


def _method_attributes(actor_class: type, definition: ActorDefinition) -> dict[str, MethodBinding]:
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


def outgoing_body(value: Any, where: str) -> OutgoingBody:
    """``value`` as it is when it is bytes, else as JSON; ``None`` sends no body."""
    if isinstance(value, bytes | bytearray | memoryview):
        return OutgoingBody(bytes(value), OCTET_STREAM)
    return NO_BODY if value is None else json_body(value, where)
