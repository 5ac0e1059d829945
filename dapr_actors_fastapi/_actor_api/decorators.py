"""The ``@method``, ``@reminder`` and ``@timer`` decorators.

Each decorator only marks the function (an attribute holding a ``HandlerMark``) and returns it
unchanged, as FastAPI's ``api_route`` does, so the class still reads and tests like plain
Python. ``@runtime.actor`` reads the marks when it builds the actor type's definition.
Every decorator works bare (``@method``) and called (``@method("wireName")``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

HandlerKind = Literal["method", "reminder", "timer"]
F = TypeVar("F", bound=Callable[..., Any])

MARK_ATTRIBUTE = "__dapr_actor_handler__"


@dataclass(frozen=True)
class HandlerMark:
    """What a decorator says about a function: its kind and its wire name.

    ``name`` is ``None`` when the decorator was used bare: methods and timers then use the
    function's name; a bare ``@reminder`` is the catch-all for reminders without a handler.
    """

    kind: HandlerKind
    name: str | None


def _decorator(kind: HandlerKind, name_or_function: Any, name: str | None) -> Any:
    def mark(function: F, wire_name: str | None) -> F:
        if not callable(function):
            raise TypeError(f"@{kind} decorates a function, got {function!r}")
        setattr(function, MARK_ATTRIBUTE, HandlerMark(kind, wire_name))
        return function

    if callable(name_or_function):
        return mark(name_or_function, name)
    if name_or_function is not None and name is not None:
        raise TypeError(f"@{kind} takes the name once: positionally or as name=, not both")
    wire_name = name if name_or_function is None else name_or_function
    if wire_name is not None and not isinstance(wire_name, str):
        raise TypeError(f"@{kind} name must be a string, got {wire_name!r}")
    return lambda function: mark(function, wire_name)


@overload
def method(name_or_function: F, /) -> F: ...
@overload
def method(
    name_or_function: str | None = None, /, *, name: str | None = None
) -> Callable[[F], F]: ...
def method(name_or_function: Any = None, /, *, name: str | None = None) -> Any:
    """Expose an async actor method at ``PUT /actors/{type}/{id}/method/{name}``.

    The wire name defaults to the function's name; pass one to match existing callers,
    e.g. ``@method("performAction")``.
    """
    return _decorator("method", name_or_function, name)


@overload
def reminder(name_or_function: F, /) -> F: ...
@overload
def reminder(
    name_or_function: str | None = None, /, *, name: str | None = None
) -> Callable[[F], F]: ...
def reminder(name_or_function: Any = None, /, *, name: str | None = None) -> Any:
    """Handle the reminder called ``name`` (``PUT .../method/remind/{name}``).

    Without a name the handler is the catch-all for reminders that have no handler of their
    own; give it a ``name: str`` parameter to learn which one fired.
    """
    return _decorator("reminder", name_or_function, name)


@overload
def timer(name_or_function: F, /) -> F: ...
@overload
def timer(
    name_or_function: str | None = None, /, *, name: str | None = None
) -> Callable[[F], F]: ...
def timer(name_or_function: Any = None, /, *, name: str | None = None) -> Any:
    """Make an async method a timer callback, addressed by the ``callback`` name daprd sends.

    The callback name defaults to the function's name.
    """
    return _decorator("timer", name_or_function, name)
