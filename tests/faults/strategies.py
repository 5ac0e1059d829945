"""Hypothesis strategies for bad (and good) input, shared by the fault suite."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value Python's ``json.dumps`` writes as strict JSON."""

HUGE_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "1" + "0" * 400, "9" * 30, "-9223372036854775809", "18446744073709551616"]
)
NOT_JSON_NUMBERS = st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "+1", "01", "1."])


@st.composite
def deeply_nested(draw: st.DrawFn) -> str:
    """A JSON text nested from a few levels to far past any recursion limit."""
    depth = draw(st.sampled_from([10, 100, 1_000, 10_000, 100_000]))
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    return opener * depth + draw(st.sampled_from(["1", "null", '"x"'])) + closer * depth


JSON_TEXTS = st.one_of(
    JSON_VALUES.map(json.dumps),
    deeply_nested(),
    HUGE_NUMBERS,
    NOT_JSON_NUMBERS,
    st.builds(lambda n: f'{{"a":[{n}]}}', HUGE_NUMBERS | NOT_JSON_NUMBERS),
)
"""JSON texts and near-JSON texts: valid values, deep nesting, numbers JSON cannot carry."""

BODIES = st.one_of(
    st.binary(max_size=64),
    JSON_TEXTS.map(str.encode),
    st.text(max_size=32).map(lambda text: text.encode("utf-8")),
    st.sampled_from([b"", b" ", b"\xff\xfe", b'"\\ud800"', b'{"a":"\\udfff"}', b"{", b"[1,]"]),
)
"""Request bodies: arbitrary bytes, JSON texts and broken JSON."""

NAMES = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec="ascii"), max_size=20),
    st.sampled_from(["%", "%25", "%2F", "..", ".", "a/b", "a b", "\x00", "\x7f", "é", "日本"]),
    st.integers(min_value=1, max_value=3_000).map(lambda n: "x" * n),
)
"""Actor ids, method and reminder names: arbitrary text incl. ``%``, unicode, control
characters, empty and very long."""

DURATION_LIKE = st.one_of(
    st.text(max_size=16),
    st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{1,3})?(ns|us|µs|ms|s|m|h){1,3}", fullmatch=True),
    st.from_regex(
        r"(R-?[0-9]{0,20}/)?-?P(-?[0-9]{1,20}[YMWD]){0,2}(T(-?[0-9]{1,20}[HMS]){0,2})?",
        fullmatch=True,
    ),
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?",
        fullmatch=True,
    ),
    HUGE_NUMBERS,
    st.sampled_from(
        ["", "0", "0s", "1h", "PT1H", "R5/PT1S", "-1s", "1e9h", "NaN", "P", "PT", "R/"]
    ),
    st.sampled_from(
        [
            "0000-01-01T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "R99999999999999999999/PT1S",
            "9223372036854775808ns",
            "2562048h",
            "\uff11h",  # a fullwidth digit: Python's int() reads it, Go's parser does not
            "\u0661h",  # an Arabic-Indic digit, likewise
        ]
    ),
)
"""Strings that look like daprd's durations (Go, ISO 8601, RFC 3339) and ones that almost do."""


def path_segment(text: str) -> str:
    """``text`` percent-encoded as one path segment (``/`` and ``%`` included)."""
    return quote(text, safe="")


def encoded_bytes(raw: bytes) -> str:
    """Every byte of ``raw`` percent-encoded, so invalid UTF-8 reaches the server's decoder."""
    return "".join(f"%{byte:02X}" for byte in raw)
