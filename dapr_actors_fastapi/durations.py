"""Duration grammars that daprd speaks, reproduced exactly (protocol.md §9).

* Go ``time.ParseDuration`` / ``Duration.String`` (``"1h30m"``, ``"0h0m3s0ms"``, ``"1.5s"``):
  what ``/dapr/config`` must contain and what daprd echoes for reminder periods.
* dapr/kit ``ParseISO8601Duration`` (``"PT10S"``, ``"R5/PT1S"``, ``"P1DT2H"``): periods of timers
  and reminders, with its quirks (unknown characters are skipped, not rejected).

Durations are kept as integer nanoseconds, like Go's ``time.Duration``; ``timedelta`` is only
the user-facing form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import isodate

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_MAX_DURATION = 2**63 - 1
_GO_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # MICRO SIGN, what Go prints
    "\u03bcs": MICROSECOND,  # GREEK SMALL LETTER MU, what the Python SDK prints
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_ASCII_DIGITS = frozenset("0123456789")


def parse_go_duration(text: str) -> int:
    """Parse a Go duration string (``"1h30m"``) into nanoseconds, exactly as Go does.

    Raises ``ValueError`` naming the text, as Go's error does.
    """
    s, negative = text, False
    if s and s[0] in "+-":
        negative, s = s[0] == "-", s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"time: invalid duration {text!r}")
    total = 0
    while s:
        if s[0] != "." and s[0] not in _ASCII_DIGITS:
            raise ValueError(f"time: invalid duration {text!r}")
        whole, s = _leading_digits(s)
        fraction, scale, has_fraction = 0, 1, False
        if s.startswith("."):
            fraction_digits, s = _leading_digits(s[1:])
            has_fraction = fraction_digits != ""
            fraction, scale = _fraction_value(fraction_digits)
        if whole == "" and not has_fraction:
            raise ValueError(f"time: invalid duration {text!r}")
        unit_end = 0
        while unit_end < len(s) and s[unit_end] != "." and s[unit_end] not in _ASCII_DIGITS:
            unit_end += 1
        unit, s = s[:unit_end], s[unit_end:]
        if unit == "":
            raise ValueError(f"time: missing unit in duration {text!r}")
        if unit not in _GO_UNITS:
            raise ValueError(f"time: unknown unit {unit!r} in duration {text!r}")
        unit_ns = _GO_UNITS[unit]
        value = int(whole or "0") * unit_ns
        if fraction:
            value += int(float(fraction) * (unit_ns / scale))
        total += value
        if total > 2**63:
            raise ValueError(f"time: invalid duration {text!r}")
    if negative:
        return -total
    if total > _MAX_DURATION:
        raise ValueError(f"time: invalid duration {text!r}")
    return total


def _leading_digits(s: str) -> tuple[str, str]:
    end = 0
    while end < len(s) and s[end] in _ASCII_DIGITS:
        end += 1
    return s[:end], s[end:]


def _fraction_value(digits: str) -> tuple[int, int]:
    # Go stops accumulating once more digits would overflow; the rest are consumed but ignored.
    fraction, scale = 0, 1
    for digit in digits:
        if fraction > (2**63 - 1) // 10:
            break
        fraction, scale = fraction * 10 + int(digit), scale * 10
    return fraction, scale


def format_go_duration(nanoseconds: int) -> str:
    """Format nanoseconds like Go's ``Duration.String()`` (``"1h0m0s"``, ``"1.5s"``, ``"500ms"``)."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    d = abs(nanoseconds)
    if d < SECOND:
        for unit, size in (("ns", NANOSECOND), ("\u00b5s", MICROSECOND), ("ms", MILLISECOND)):
            if d < size * 1000:
                return sign + _with_fraction(d, size) + unit
    hours, rest = divmod(d, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    text = _with_fraction(rest, SECOND) + "s"
    if hours:
        text = f"{hours}h{minutes}m{text}"
    elif minutes:
        text = f"{minutes}m{text}"
    return sign + text


def _with_fraction(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


@dataclass(frozen=True)
class ISODuration:
    """A parsed ISO 8601 duration as dapr/kit sees it.

    ``years``, ``months`` and ``days`` are calendar fields (applied with date arithmetic);
    ``nanoseconds`` holds the time part; ``repetitions`` is ``-1`` when there is no ``Rn/``.
    """

    years: int = 0
    months: int = 0
    days: int = 0
    nanoseconds: int = 0
    repetitions: int = -1


_GO_ATOI = re.compile(r"[+-]?[0-9]+\Z")


def _go_atoi(text: str, original: str) -> int:
    # Go's strconv.Atoi: optional sign then ASCII digits; Python's int() is more lenient.
    if not _GO_ATOI.match(text):
        raise ValueError(f"invalid ISO 8601 duration {original!r}: {text!r} is not an integer")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"invalid ISO 8601 duration {original!r}: {text!r} is out of range")
    return value


def parse_iso8601_duration(text: str) -> ISODuration:
    """Parse ``[Rn/]PnYnMnWnDTnHnMnS`` exactly as dapr/kit ``ParseISO8601Duration`` does."""
    if len(text) < 2:
        raise ValueError(f"unsupported ISO 8601 duration format {text!r}")
    repetitions, i = -1, 0
    if text[0] == "R":
        slash = text.find("/")
        i = len(text) if slash < 0 else slash
        if i - 1 < 1:
            raise ValueError(f"unsupported ISO 8601 duration format {text!r}")
        repetitions = _go_atoi(text[1:i], text)
        i += 1
        if i >= len(text):
            return ISODuration(repetitions=repetitions)
    if text[i] != "P":
        raise ValueError(f"unsupported ISO 8601 duration format {text!r}")
    i += 1
    years = months = days = nanos = 0
    start, in_time = i, False
    while i < len(text):
        c = text[i]
        if c in "TYWDHSM":
            if c == "T":
                if start != i:
                    raise ValueError(f"unsupported ISO 8601 duration format {text!r}")
                in_time = True
            else:
                date_field = c in "YWD"
                time_field = c in "HS"
                if start == i or (date_field and in_time) or (time_field and not in_time):
                    raise ValueError(f"unsupported ISO 8601 duration format {text!r}")
                number = _go_atoi(text[start:i], text)
                if c == "Y":
                    years = number
                elif c == "W":
                    days += 7 * number
                elif c == "D":
                    days += number
                elif c == "H":
                    nanos += number * HOUR
                elif c == "S":
                    nanos += number * SECOND
                elif in_time:
                    nanos += number * MINUTE
                else:
                    months = number
            start = i + 1
        i += 1
    return ISODuration(years, months, days, nanos, repetitions)


def to_nanoseconds(value: timedelta | str, *, field: str) -> int:
    """Turn a user-supplied duration into nanoseconds.

    Accepts a ``timedelta``, a Go duration string (``"90s"``, ``"1h30m"``) or an ISO 8601
    duration without calendar parts or repetitions (``"PT90S"``). ``field`` names the setting in
    the error message.
    """
    if isinstance(value, timedelta):
        micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return micros * MICROSECOND
    if not isinstance(value, str):
        raise TypeError(
            f"{field} must be a timedelta or a duration string such as '30s' or 'PT30S', "
            f"got {type(value).__name__} {value!r}"
        )
    try:
        return parse_go_duration(value)
    except ValueError:
        pass
    try:
        # isodate is strict (unlike dapr/kit's parser, which reads "PT5s" as zero), which is
        # what a setting wants; a result with years or months is not a fixed length.
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        parsed = None
    if isinstance(parsed, timedelta):
        return to_nanoseconds(parsed, field=field)
    raise ValueError(
        f"{field}={value!r} is not a duration: use a timedelta, a Go duration such as '30s' or "
        "'1h30m', or an ISO 8601 duration such as 'PT30S' (no months or years)"
    )
