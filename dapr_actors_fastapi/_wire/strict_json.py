"""User values to JSON bytes for the sidecar, with errors that say which value failed.

pydantic serializes models, dataclasses, datetimes and plain data alike, but writes float NaN
and infinities as bare ``NaN``/``Infinity``, which is not JSON: daprd's decoder would refuse the
whole request. They are caught here, on the line that passed the value.
"""

from __future__ import annotations

import json
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
