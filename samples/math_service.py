"""The seed's ``mathService``: a plain FastAPI app (no actors) to call through service invocation.

Run it, and a dev sidecar that knows it as ``mathService``, then call it as the seed does::

    uvicorn samples.math_service:app --port 3001
    curl http://localhost:3500/v1.0/invoke/mathService/method/add \\
      -H "Content-Type: application/json" -d '{"arg1": 10, "arg2": 23}'
    33

Like the seed's Node handler, it answers the sum as text, written the way JavaScript prints a
number (``33``, not ``33.0``).
"""

from __future__ import annotations

import math

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI(title="mathService")


class Operands(BaseModel):
    """The seed's request body; other keys (such as ``"operator"``) are ignored."""

    arg1: float
    arg2: float


def _as_javascript(number: float) -> str:
    """``String(number)`` for the common cases: whole numbers without a trailing ``.0``."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


@app.post("/add", response_class=PlainTextResponse)
@app.post("/api/v1/add", response_class=PlainTextResponse)  # the seed's nested-path example
async def add(operands: Operands) -> str:
    return _as_javascript(operands.arg1 + operands.arg2)
