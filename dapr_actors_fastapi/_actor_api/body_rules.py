"""FastAPI's body rules for actor methods, decided once per handler and shared by both ends.

The hosting side decodes a request with them (``definition.py``) and a proxy encodes a call
with them (``proxy.py``), so a proxy always sends what the host expects:

* no parameters: any body, including none;
* one ``bytes`` parameter: the raw body;
* one model-like parameter (a pydantic model, dataclass, TypedDict, dict, list ...) or one
  ``Body()`` parameter: the whole JSON body;
* anything else, or ``Body(embed=True)``: a JSON object keyed by parameter name (actor calls
  have no query parameters, so scalars are body keys too).

The host also takes the arguments as a JSON array, bound by position, where that cannot be
mistaken for a value (``takes_positional_array``): that is what the JS SDK's actor proxy sends
(docs/protocol.md §11.2).

FastAPI's other parameter sources (``Depends``, ``Query``, ``Header``, ``Cookie``, ``Path``,
``Form``, ``File``) are refused when the class is defined: a handler is called with the body's
values only, so they would be read from the body or fail on every call (``_refuse_source``).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import params
from pydantic import BaseModel, RootModel

from ..exceptions import ActorConfigError

BodyShape = Literal["none", "raw", "whole", "keyed"]
Parameters = list[tuple[inspect.Parameter, Any]]

# Types whose JSON is never an array (pydantic refuses an array for each of them).
_SCALARS = (
    str,
    int,
    float,
    bool,
    type(None),
    enum.Enum,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    uuid.UUID,
)


def handler_parameters(function: Any, where: str) -> Parameters:
    """The handler's parameters after ``self`` with their resolved annotations."""
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as error:  # NameError, TypeError: unresolvable annotations
        raise ActorConfigError(f"cannot resolve the annotations of {where}: {error}") from None
    result = []
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise ActorConfigError(
                f"{where} parameter {parameter.name!r} must be a plain named parameter "
                "(no *args, **kwargs or positional-only)"
            )
        annotation = hints.get(parameter.name, Any)
        _refuse_source(parameter, annotation, where)
        result.append((parameter, annotation))
    return result


# What to do instead, by the kind of FastAPI marker (checked in this order: Form is a Body).
_SOURCE_FIXES: tuple[tuple[type, str], ...] = (
    (
        params.Depends,
        "dependencies are not resolved for actor methods: call the function in the method "
        "(or once in on_activate) instead",
    ),
    (
        params.Form,
        "daprd delivers actor calls as JSON, not forms: declare it as a body field",
    ),
    (
        params.Param,
        "actor calls carry no query, path, header or cookie parameters that reach the method: "
        "send the value in the JSON body (current_turn() holds the reentrancy id and "
        "traceparent)",
    ),
)


def _refuse_source(parameter: inspect.Parameter, annotation: Any, where: str) -> None:
    """Raise ``ActorConfigError`` when a parameter asks FastAPI for anything but the body."""
    markers = [parameter.default]
    if get_origin(annotation) is Annotated:
        markers.extend(get_args(annotation)[1:])
    for marker in markers:
        for kind, fix in _SOURCE_FIXES:
            if isinstance(marker, kind):
                raise ActorConfigError(
                    f"{where} parameter {parameter.name!r} uses FastAPI's "
                    f"{type(marker).__name__}(): actor methods bind the JSON body only; {fix}"
                )


def body_shape(parameters: Parameters) -> BodyShape:
    """Which of the rules in the module docstring applies to these parameters."""
    if not parameters:
        return "none"
    if len(parameters) == 1:
        parameter, annotation = parameters[0]
        if annotation is bytes:
            return "raw"
        body_info = body_param_info(parameter, annotation)
        embed = body_info is not None and body_info.embed
        if not embed and (body_info is not None or is_model_like(annotation)):
            return "whole"
    return "keyed"


def takes_positional_array(parameters: Parameters) -> bool:
    """Whether a JSON array body binds these parameters by position (the JS SDK's proxy sends
    ``[arg1, arg2, ...]``, docs/protocol.md §11.2).

    Only where an array can mean nothing else: for keyed bodies, which must be JSON objects,
    and for a whole-body parameter whose JSON is never an array (a model, a dict, a scalar).
    A whole-body list, tuple, ``RootModel``, ``Any`` or union that may hold an array keeps
    taking the array as its value; so do raw bodies and methods without parameters.
    """
    shape = body_shape(parameters)
    if shape == "keyed":
        return True
    return shape == "whole" and never_json_array(parameters[0][1])


def never_json_array(annotation: Any) -> bool:
    """True only for types pydantic never reads from a JSON array; unknown types are False."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return never_json_array(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return all(never_json_array(arg) for arg in get_args(annotation))
    if origin is Literal:
        return True  # its values are scalars or enum members
    if origin is not None:
        return isinstance(origin, type) and issubclass(origin, Mapping)
    if typing.is_typeddict(annotation):
        return True
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, RootModel):
        return False
    return issubclass(annotation, (BaseModel, Mapping, *_SCALARS)) or dataclasses.is_dataclass(
        annotation
    )


def body_param_info(parameter: inspect.Parameter, annotation: Any) -> params.Body | None:
    """The parameter's ``Body()``, given as its default or in ``Annotated``; else ``None``."""
    if isinstance(parameter.default, params.Body):
        return parameter.default
    if get_origin(annotation) is Annotated:
        for extra in get_args(annotation)[1:]:
            if isinstance(extra, params.Body):
                return extra
    return None


def is_model_like(annotation: Any) -> bool:
    """FastAPI's notion of a non-scalar parameter: one that takes the whole body."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return is_model_like(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(is_model_like(arg) for arg in get_args(annotation) if arg is not type(None))
    if origin is not None:
        return origin in (list, set, frozenset, tuple, dict) or (
            isinstance(origin, type) and issubclass(origin, Mapping)
        )
    if not isinstance(annotation, type):
        return typing.is_typeddict(annotation)
    return (
        issubclass(annotation, (BaseModel, dict, list, set, frozenset, tuple))
        or dataclasses.is_dataclass(annotation)
        or typing.is_typeddict(annotation)
    )
