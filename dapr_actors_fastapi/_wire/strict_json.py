"""Strict JSON both ways: user values to JSON bytes for the sidecar, and request bodies decoded
only where daprd's decoder would decode them.

pydantic serializes models, dataclasses, datetimes and plain data alike, but writes float NaN
and infinities as bare ``NaN``/``Infinity``, which is not JSON: daprd's decoder would refuse the
whole request. They are caught here, on the line that passed the value.

Python's ``json.loads`` is laxer than Go's ``encoding/json``, which daprd decodes bodies with
into ``any``: it takes ``NaN`` and ``Infinity``, reads ``1e400`` as infinity and keeps integers
of any size, where Go refuses each (a JSON number must fit a float64). ``from_go_json`` refuses
them too, so nothing that is not JSON is stored and handed back later.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic_core import PydanticSerializationError, to_json


def to_strict_json(value: Any, what: str) -> bytes:
    """``value`` as JSON bytes; ``what`` names it in errors ("state value for key 'x'").

    Raises ``TypeError`` when pydantic cannot serialize it and ``ValueError`` when it holds a
    float that JSON cannot carry.
    """
    try:
        encoded = to_json(value)
    except PydanticSerializationError as error:
        raise TypeError(
            f"{what} is not JSON-serializable ({type(value).__name__}): {error}; use a "
            "pydantic model, a dataclass or plain JSON data"
        ) from None
    # Cheap test first: only bytes that mention the constants need a full parse.
    if b"NaN" in encoded or b"Infinity" in encoded:
        json.loads(encoded, parse_constant=_refuse(what))
    return encoded


def _refuse(what: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(
            f"{what} contains {constant}, which JSON cannot carry; use None or a string instead"
        )

    return refuse


def from_go_json(data: bytes | str) -> Any:
    """``data`` decoded as daprd's decoder reads JSON into ``any``; ``ValueError`` naming what it
    refuses: text that is not JSON (``NaN``, ``Infinity``), a number beyond float64 (``1e400``)
    or nesting deeper than this process can follow."""
    try:
        return json.loads(
            data, parse_constant=_not_json, parse_float=_float64, parse_int=_integer_within_float64
        )
    except RecursionError:
        raise ValueError(
            "JSON nested too deeply: arrays and objects may nest a few hundred levels"
        ) from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value; use null or a string instead")


def _float64(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _beyond_float64(text)
    return number


def _integer_within_float64(text: str) -> int:
    number = int(text)
    try:
        float(number)
    except OverflowError:
        raise _beyond_float64(text) from None
    return number


def _beyond_float64(text: str) -> ValueError:
    shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
    return ValueError(
        f"number {shown} is out of range: JSON numbers must fit a 64-bit float (about ±1.8e308)"
    )
