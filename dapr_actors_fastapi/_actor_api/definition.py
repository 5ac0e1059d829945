"""From a decorated actor class to an immutable description of its handlers.

Everything that can be decided once is decided here, at registration, so that a request only
runs a precomputed decoder, the user's coroutine and a precomputed encoder:

* Method parameters follow FastAPI's body rules (``body_rules.py``). Zero-parameter methods
  accept any body, including none without a Content-Type (gRPC callers). Where a JSON array
  cannot be a value, an array body binds the parameters by position, as the JS SDK's actor
  proxy sends them; that path is only tried once the usual decoding has failed on an array,
  so named bodies pay nothing for it.
* Return values go out through pydantic for the declared return type; ``bytes`` and Starlette
  ``Response`` objects pass through; ``None`` is an empty 200.
* Reminder and timer handlers bind parameters by name: ``data`` (typed), ``name``,
  ``due_time``, ``period``.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, PydanticUserError, TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import from_json
from starlette.responses import Response
from typing_extensions import TypedDict

from .._wire.names import RESERVED_TYPE_PREFIX, checked_name
from .._wire.strict_json import from_go_json
from ..exceptions import ActorConfigError, InvalidActorRequest
from .body_rules import Parameters, body_shape, handler_parameters, takes_positional_array
from .decorators import MARK_ATTRIBUTE, HandlerMark

Handler = Callable[..., Coroutine[Any, Any, Any]]
Decoder = Callable[[bytes], dict[str, Any]]

_CALLBACK_PARAMETERS = frozenset({"data", "name", "due_time", "period"})
# Only these can spell a number float64 cannot hold: an exponent, 309 digits in a row, or the
# constants (a cheap pre-check; a match inside a string only costs a second parse).
_MAYBE_NOT_FLOAT64 = re.compile(rb"[0-9][eE]|[0-9]{309}|NaN|Infinity")


def validate_wire_name(kind: str, name: str) -> str:
    """Return ``name`` if daprd would accept it in a URL, else raise ``ActorConfigError``."""
    try:
        checked_name(f"{kind} name", name)
    except (TypeError, ValueError) as error:
        raise ActorConfigError(str(error)) from None
    if kind == "actor type" and name.startswith(RESERVED_TYPE_PREFIX):
        raise ActorConfigError(f"actor type {name!r} is reserved for Dapr workflows; pick another")
    return name


@dataclass(frozen=True, slots=True)
class MethodBinding:
    """One ``@method``: how to decode its body, call it and encode its result."""

    wire_name: str
    function: Handler
    decode: Decoder
    encode: Callable[[Any], bytes | Response | None]
    body_type: Any  # the body's type for OpenAPI, or None when the method takes no body
    return_type: Any
    # The Content-Type header of encoded results, built once: raw bytes go out as octet-stream.
    content_type_header: tuple[bytes, bytes]
    summary: str


@dataclass(frozen=True, slots=True)
class CallbackBinding:
    """One ``@reminder`` or ``@timer`` handler: parameters bound by name."""

    wire_name: str | None
    function: Handler
    data_adapter: TypeAdapter[Any] | None
    data_default: Any
    parameters: frozenset[str]

    def arguments(self, envelope: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
        """Keyword arguments for the handler from the callback body ``envelope``."""
        kwargs: dict[str, Any] = {}
        if self.data_adapter is not None:
            raw = envelope.get("data", self.data_default)
            try:
                kwargs["data"] = self.data_adapter.validate_python(raw)
            except ValidationError as error:
                raise _invalid_body(where, error, prefix=("data",)) from None
        if "name" in self.parameters:
            kwargs["name"] = name
        if "due_time" in self.parameters:
            kwargs["due_time"] = _string_field(envelope, "dueTime", where)
        if "period" in self.parameters:
            kwargs["period"] = _string_field(envelope, "period", where)
        return kwargs


@dataclass(frozen=True)
class ActorDefinition:
    """The decorated handlers of one actor class, by wire name."""

    methods: Mapping[str, MethodBinding]
    reminders: Mapping[str, CallbackBinding]
    reminder_fallback: CallbackBinding | None
    timers: Mapping[str, CallbackBinding]


def define_actor(actor_class: type, type_name: str) -> ActorDefinition:
    """Read the decorated handlers of ``actor_class``; raise ``ActorConfigError`` on mistakes.

    The caller has checked that it is an ``Actor`` subclass (this layer sits below ``Actor``).
    """
    methods: dict[str, MethodBinding] = {}
    reminders: dict[str, CallbackBinding] = {}
    timers: dict[str, CallbackBinding] = {}
    reminder_fallback: CallbackBinding | None = None
    for attribute, function in _marked_functions(actor_class):
        mark: HandlerMark = getattr(function, MARK_ATTRIBUTE)
        where = f"{actor_class.__name__}.{attribute}"
        _require_coroutine(function, where)
        wire_name = attribute if mark.name is None else mark.name
        if mark.kind == "method":
            validate_wire_name("method", wire_name)
            binding = _bind_method(function, wire_name, type_name, where)
            _add_unique(methods, wire_name, binding, "method", type_name)
        elif mark.kind == "timer":
            callback = _bind_callback(function, wire_name, where)
            _add_unique(timers, wire_name, callback, "timer callback", type_name)
        elif mark.name is None:
            if reminder_fallback is not None:
                raise ActorConfigError(f"{type_name!r} has two catch-all @reminder handlers")
            reminder_fallback = _bind_callback(function, None, where)
        else:
            callback = _bind_callback(function, mark.name, where)
            _add_unique(reminders, mark.name, callback, "reminder", type_name)
    return ActorDefinition(
        methods=methods,
        reminders=reminders,
        reminder_fallback=reminder_fallback,
        timers=timers,
    )


def _marked_functions(actor_class: type) -> list[tuple[str, Any]]:
    found: dict[str, Any] = {}
    # Walk base classes first so that subclasses override their parents' handlers.
    for klass in reversed(actor_class.__mro__):
        for attribute, value in vars(klass).items():
            if hasattr(value, MARK_ATTRIBUTE):
                found[attribute] = value
            else:
                found.pop(attribute, None)
    return list(found.items())


def _require_coroutine(function: Any, where: str) -> None:
    if not inspect.iscoroutinefunction(function):
        raise ActorConfigError(
            f"{where} must be declared 'async def': actor handlers run on the event loop"
        )


def _add_unique(table: dict[str, Any], name: str, value: Any, kind: str, type_name: str) -> None:
    validate_wire_name(kind, name)
    if name in table:
        raise ActorConfigError(f"{type_name!r} has two {kind}s named {name!r}; rename one")
    table[name] = value


def _bind_method(function: Handler, wire_name: str, type_name: str, where: str) -> MethodBinding:
    parameters = handler_parameters(function, where)
    decode, body_type = _body_decoder(parameters, f"{type_name}.{wire_name}")
    return_type = typing.get_type_hints(function, include_extras=True).get("return", Any)
    doc = inspect.getdoc(function) or ""
    return MethodBinding(
        wire_name=wire_name,
        function=function,
        decode=decode,
        encode=_result_encoder(return_type, where),
        body_type=body_type,
        return_type=return_type,
        content_type_header=(
            b"content-type",
            b"application/octet-stream" if return_type is bytes else b"application/json",
        ),
        summary=doc.splitlines()[0] if doc else f"{type_name}.{wire_name}",
    )


def _body_decoder(parameters: Parameters, where: str) -> tuple[Decoder, Any]:
    shape = body_shape(parameters)
    if shape == "none":
        return _no_arguments, None
    positional = (
        _positional_decoder(parameters, where) if takes_positional_array(parameters) else None
    )
    if shape == "keyed":
        return _keyed_body_decoder(parameters, where, positional)
    parameter, annotation = parameters[0]
    if shape == "raw":
        name = parameter.name
        return (lambda body: {name: body}), bytes
    return _whole_body_decoder(parameter, annotation, where, positional), annotation


def _adapter(annotation: Any, where: str) -> TypeAdapter[Any]:
    """A pydantic adapter for ``annotation``; a type pydantic cannot handle is a config error."""
    try:
        return TypeAdapter(annotation)
    except PydanticUserError as error:
        raise ActorConfigError(f"{where}: pydantic cannot handle {annotation!r}: {error}") from None


def _no_arguments(body: bytes) -> dict[str, Any]:
    return {}


def _whole_body_decoder(
    parameter: inspect.Parameter, annotation: Any, where: str, positional: Decoder | None
) -> Decoder:
    validator = _adapter(annotation, where).validator
    name = parameter.name
    default = _default_of(parameter)
    # Python itself fills a plain default; a Body()/Field() default is a marker object that
    # must be replaced by the value it declares.
    missing = {name: default} if isinstance(parameter.default, FieldInfo) else {}

    def decode(body: bytes) -> dict[str, Any]:
        if not body:
            if default is inspect.Parameter.empty:
                raise InvalidActorRequest(
                    f"invalid request body for {where}: a JSON body is required for {name!r}",
                    details={
                        "errors": [{"loc": ["body"], "msg": "Field required", "type": "missing"}]
                    },
                )
            return dict(missing)
        try:
            return {name: validator.validate_json(body)}
        except ValidationError as error:
            if positional is not None and _is_array(body):
                return positional(body)
            raise _invalid_body(where, error, prefix=("body",)) from None

    return decode


def _default_of(parameter: inspect.Parameter) -> Any:
    default = parameter.default
    if isinstance(default, FieldInfo):
        return inspect.Parameter.empty if default.is_required() else default.get_default()
    return default


def _keyed_body_decoder(
    parameters: Parameters, where: str, positional: Decoder | None
) -> tuple[Decoder, Any]:
    """Decode a JSON object keyed by parameter name.

    Validation goes through a TypedDict, which pydantic turns straight into the keyword
    arguments (a model would cost an instance and a copy per call, about three times as much).
    Plain defaults are left to the call; ``Field``/``Body`` defaults are filled in here. The
    equivalent model only documents the body in OpenAPI.
    """
    model_fields: dict[str, Any] = {}
    typed_fields: dict[str, Any] = {}
    filled: dict[str, FieldInfo] = {}
    for parameter, annotation in parameters:
        name, default = parameter.name, parameter.default
        model_fields[name] = (annotation, ... if default is inspect.Parameter.empty else default)
        if isinstance(default, FieldInfo):
            annotation = Annotated[annotation, default]
            if not default.is_required():
                filled[name] = default
        if default is inspect.Parameter.empty or (
            isinstance(default, FieldInfo) and default.is_required()
        ):
            typed_fields[name] = annotation
        else:
            typed_fields[name] = NotRequired[annotation]
    model_name = re.sub(r"\W", "_", where.title().replace(".", "_")) + "Body"
    try:
        model: type[BaseModel] = create_model(model_name, **model_fields)
        arguments = TypedDict(model_name + "Arguments", typed_fields)  # type: ignore[misc]
    except PydanticUserError as error:
        raise ActorConfigError(f"{where}: pydantic cannot handle its parameters: {error}") from None
    validator = _adapter(arguments, where).validator

    def decode(body: bytes) -> dict[str, Any]:
        try:
            kwargs: dict[str, Any] = validator.validate_json(body or b"{}")
        except ValidationError as error:
            if positional is not None and _is_array(body):
                return positional(body)
            raise _invalid_body(where, error, prefix=("body",)) from None
        for name, info in filled.items():
            if name not in kwargs:
                kwargs[name] = info.get_default(call_default_factory=True)
        return kwargs

    return decode, model


def _is_array(body: bytes) -> bool:
    return body.lstrip()[:1] == b"["


def _positional_decoder(parameters: Parameters, where: str) -> Decoder:
    """Decode ``[arg1, arg2, ...]``: item i is parameter i, validated as the same value sent by
    name would be. Trailing parameters with defaults may be left out.

    The JS SDK's ``ActorProxyBuilder`` sends a call's arguments this way (docs/protocol.md
    §11.2; js-sdk ``src/actors/client/ActorProxyBuilder.ts``). A tuple adapter per accepted
    length keeps pydantic's JSON-mode validation, item by item.
    """
    names = [parameter.name for parameter, _ in parameters]
    annotations = [
        Annotated[annotation, parameter.default]
        if isinstance(parameter.default, FieldInfo)
        else annotation
        for parameter, annotation in parameters
    ]
    required = 1 + max(
        (i for i, (parameter, _) in enumerate(parameters) if not _has_default(parameter)),
        default=-1,
    )
    validators = {
        count: _adapter(types.GenericAlias(tuple, tuple(annotations[:count])), where).validator
        for count in range(required, len(names) + 1)
    }
    filled = {
        parameter.name: parameter.default
        for parameter, _ in parameters
        if isinstance(parameter.default, FieldInfo) and not parameter.default.is_required()
    }
    expected = " to ".join(str(count) for count in sorted({required, len(names)}))
    expected += " item" if expected == "1" else " items"

    def decode(body: bytes) -> dict[str, Any]:
        try:
            count = len(from_json(body))
        except ValueError:
            count = len(names)  # not JSON: the full-length validator reports where it breaks
        validator = validators.get(count)
        if validator is None:
            message = (
                f"a JSON array binds by position to ({', '.join(names)}): expected {expected}, "
                f"got {count}"
            )
            raise InvalidActorRequest(
                f"invalid request body for {where}: {message}",
                details={
                    "errors": [
                        {
                            "loc": ["body"],
                            "msg": message,
                            "type": "too_short" if count < required else "too_long",
                        }
                    ]
                },
            )
        try:
            values = validator.validate_json(body)
        except ValidationError as error:
            raise _invalid_body(where, error, prefix=("body",), positions=names) from None
        kwargs = dict(zip(names, values, strict=False))
        for name, info in filled.items():
            if name not in kwargs:
                kwargs[name] = info.get_default(call_default_factory=True)
        return kwargs

    return decode


def _has_default(parameter: inspect.Parameter) -> bool:
    return _default_of(parameter) is not inspect.Parameter.empty


def _result_encoder(return_type: Any, where: str) -> Callable[[Any], bytes | Response | None]:
    if return_type is None or return_type is type(None):
        return lambda result: None
    if return_type is bytes or (
        isinstance(return_type, type) and issubclass(return_type, Response)
    ):
        return lambda result: result
    serializer = _adapter(return_type, where).serializer

    def encode(result: Any) -> bytes | Response | None:
        if isinstance(result, (bytes, Response)) or result is None:
            return result
        # pydantic's default "warn" mode: the "error" mode costs about 1 µs more per call
        # (string-valued options are slow in pydantic-core), a tenth of this hot path.
        return serializer.to_json(result)

    return encode


def _bind_callback(function: Handler, wire_name: str | None, where: str) -> CallbackBinding:
    parameters = handler_parameters(function, where)
    names = {parameter.name for parameter, _ in parameters}
    unknown = names - _CALLBACK_PARAMETERS
    if unknown:
        raise ActorConfigError(
            f"{where} has parameters {sorted(unknown)}; reminder and timer handlers may take "
            f"only {sorted(_CALLBACK_PARAMETERS)}"
        )
    data_adapter: TypeAdapter[Any] | None = None
    data_default: Any = None
    for parameter, annotation in parameters:
        if parameter.name == "data":
            data_adapter = _adapter(annotation, where)
            if parameter.default is not inspect.Parameter.empty:
                data_default = parameter.default
    return CallbackBinding(wire_name, function, data_adapter, data_default, frozenset(names))


def parse_callback_envelope(body: bytes, where: str) -> dict[str, Any]:
    """Decode a reminder/timer callback body (a JSON object, or nothing).

    As strict as method bodies, and with the same decoder: text that is not UTF-8, lone
    surrogates, ``NaN``, nesting past pydantic's limit and numbers beyond float64 are refused
    with 400, rather than handed to the handler, whose first state save would then fail with a
    500 (daprd's envelopes never hold them).
    """
    if not body.strip():
        return {}
    try:
        if _MAYBE_NOT_FLOAT64.search(body):
            from_go_json(body)  # pydantic reads 1e400 as infinity; this refuses it, by name
        envelope = from_json(body, allow_inf_nan=False)
    except ValueError as error:
        raise InvalidActorRequest(
            f"invalid callback body for {where}: not JSON ({error})"
        ) from None
    if not isinstance(envelope, dict):
        raise InvalidActorRequest(
            f"invalid callback body for {where}: expected a JSON object with 'data', "
            f"got {type(envelope).__name__}"
        )
    return envelope


def _string_field(envelope: Mapping[str, Any], key: str, where: str) -> str:
    value = envelope.get(key) or ""
    if not isinstance(value, str):
        raise InvalidActorRequest(f"invalid callback body for {where}: {key!r} must be a string")
    return value


def _invalid_body(
    where: str, error: ValidationError, prefix: tuple[str, ...], positions: Sequence[str] = ()
) -> InvalidActorRequest:
    """400 naming each invalid field; with ``positions``, an array index is reported as the
    name of the parameter at that position."""
    errors = [
        {
            "loc": [*prefix, *_named(entry["loc"], positions)],
            "msg": entry["msg"],
            "type": entry["type"],
        }
        for entry in error.errors(include_url=False, include_input=False)
    ]
    described = "; ".join(
        f"{'.'.join(str(part) for part in entry['loc'])}: {entry['msg']}" for entry in errors
    )
    return InvalidActorRequest(
        f"invalid request body for {where}: {described}", details={"errors": errors}
    )


def _named(loc: tuple[int | str, ...], positions: Sequence[str]) -> list[int | str]:
    if positions and loc and isinstance(loc[0], int) and loc[0] < len(positions):
        return [positions[loc[0]], *loc[1:]]
    return list(loc)
