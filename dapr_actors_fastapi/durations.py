"""Duration grammars that daprd speaks, reproduced exactly (docs/protocol.md §9).

A public leaf module: it imports nothing else of the package, and its ``__all__`` is what it
promises. Use it to check or convert a duration string the way daprd reads it.

* Go ``time.ParseDuration`` / ``Duration.String`` (``"1h30m"``, ``"0h0m3s0ms"``, ``"1.5s"``):
  what ``/dapr/config`` must contain and what daprd echoes for reminder periods.
* dapr/kit ``ParseISO8601Duration`` (``"PT10S"``, ``"R5/PT1S"``, ``"P1DT2H"``): periods of timers
  and reminders, with its quirks (unknown characters are skipped, not rejected), and the strict
  reading of the same form that user input is held to.
* ``to_nanoseconds``: a setting given as a ``timedelta`` or either kind of string.

Durations are kept as integer nanoseconds, like Go's ``time.Duration``; ``timedelta`` is only
the user-facing form. How reminder and timer times are validated and written for daprd lives
with the rest of the wire rules (``_wire/schedules.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import isodate

__all__ = [
    "DAY",
    "HOUR",
    "MAX_DURATION",
    "MICROSECOND",
    "MILLISECOND",
    "MINUTE",
    "NANOSECOND",
    "SECOND",
    "ISODuration",
    "format_go_duration",
    "parse_go_duration",
    "parse_iso8601_duration",
    "parse_strict_iso8601_duration",
    "timedelta_nanoseconds",
    "to_nanoseconds",
]

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

MAX_DURATION = 2**63 - 1
_MIN_DURATION = -(2**63)
_GO_MAGNITUDE_LIMIT = 2**63  # Go parses the magnitude as a uint64 and rejects anything above 1<<63
_UINT64_MODULUS = 2**64
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
        raise _invalid_go_duration(text)
    total = 0
    while s:
        if s[0] != "." and s[0] not in _ASCII_DIGITS:
            raise _invalid_go_duration(text)
        whole_digits, s = _leading_digits(s)
        whole = _leading_int(whole_digits)
        if whole is None:
            raise _invalid_go_duration(text)
        fraction, scale, has_fraction = 0, 1.0, False
        if s.startswith("."):
            fraction_digits, s = _leading_digits(s[1:])
            has_fraction = fraction_digits != ""
            fraction, scale = _fraction_value(fraction_digits)
        if whole_digits == "" and not has_fraction:
            raise _invalid_go_duration(text)
        unit_end = 0
        while unit_end < len(s) and s[unit_end] != "." and s[unit_end] not in _ASCII_DIGITS:
            unit_end += 1
        unit, s = s[:unit_end], s[unit_end:]
        if unit == "":
            raise ValueError(f"time: missing unit in duration {text!r}")
        if unit not in _GO_UNITS:
            raise ValueError(f"time: unknown unit {unit!r} in duration {text!r}")
        unit_ns = _GO_UNITS[unit]
        value = whole * unit_ns
        if fraction:
            # Go goes through float64 here and truncates; int(float) does the same.
            value += int(float(fraction) * (unit_ns / scale))
        if value > _GO_MAGNITUDE_LIMIT:
            raise _invalid_go_duration(text)
        # Go sums into a uint64: 1<<63 + 1<<63 wraps to 0 and passes its overflow check.
        total = (total + value) % _UINT64_MODULUS
        if total > _GO_MAGNITUDE_LIMIT:
            raise _invalid_go_duration(text)
    if negative:
        return -total
    if total > MAX_DURATION:
        raise _invalid_go_duration(text)
    return total


def _invalid_go_duration(text: str) -> ValueError:
    return ValueError(f"time: invalid duration {text!r}")


def _leading_digits(s: str) -> tuple[str, str]:
    end = 0
    while end < len(s) and s[end] in _ASCII_DIGITS:
        end += 1
    return s[:end], s[end:]


def _leading_int(digits: str) -> int | None:
    # Go's leadingInt, digit by digit: fails as soon as the value passes 1<<63, and a long run of
    # leading zeros stays valid (Python's int() would refuse more than 4300 digits).
    value = 0
    for digit in digits:
        value = value * 10 + int(digit)
        if value > _GO_MAGNITUDE_LIMIT:
            return None
    return value


def _fraction_value(digits: str) -> tuple[int, float]:
    # Go stops accumulating once more digits would overflow; the rest are consumed but ignored.
    # The scale is a float64 in Go too: past ~309 digits it becomes inf and the fraction adds 0.
    fraction, scale = 0, 1.0
    for digit in digits:
        if fraction > MAX_DURATION // 10:
            break
        candidate = fraction * 10 + int(digit)
        if candidate > _GO_MAGNITUDE_LIMIT:
            break
        fraction, scale = candidate, scale * 10
    return fraction, scale


def format_go_duration(nanoseconds: int) -> str:
    """Format nanoseconds like Go's ``Duration.String()`` (``"1h0m0s"``, ``"1.5s"``, ``"500ms"``).

    Raises ``ValueError`` outside Go's int64 range: daprd could not parse the result back.
    """
    if not _MIN_DURATION <= nanoseconds <= MAX_DURATION:
        raise ValueError(f"{nanoseconds} ns is outside the range of a Go duration")
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
    if not _MIN_DURATION <= value <= MAX_DURATION:
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
    return ISODuration(years, months, _wrap_int64(days), _wrap_int64(nanos), repetitions)


def _wrap_int64(value: int) -> int:
    # kit sums into Go's 64-bit int and time.Duration, which wrap silently instead of failing.
    return (value - _MIN_DURATION) % _UINT64_MODULUS + _MIN_DURATION


def to_nanoseconds(value: timedelta | str, *, field: str) -> int:
    """Turn a user-supplied duration into nanoseconds.

    Accepts a ``timedelta``, a Go duration string (``"90s"``, ``"1h30m"``) or an ISO 8601
    duration without calendar parts or repetitions (``"PT90S"``). ``field`` names the setting in
    the error message. The result fits a Go duration, as everything built from it goes to daprd.
    """
    if isinstance(value, timedelta):
        nanoseconds: int | None = timedelta_nanoseconds(value)
    elif isinstance(value, str):
        nanoseconds = _string_nanoseconds(value)
    else:
        raise TypeError(
            f"{field} must be a timedelta or a duration string such as '30s' or 'PT30S', "
            f"got {type(value).__name__} {value!r}"
        )
    if nanoseconds is None:
        raise ValueError(
            f"{field}={value!r} is not a duration: use a timedelta, a Go duration such as '30s' or "
            "'1h30m', or an ISO 8601 duration such as 'PT30S' (no months or years)"
        )
    if not _MIN_DURATION <= nanoseconds <= MAX_DURATION:
        raise ValueError(
            f"{field}={value!r} is out of range: a Go duration lies between "
            "-2562047h47m16.854775808s and 2562047h47m16.854775807s"
        )
    return nanoseconds


def timedelta_nanoseconds(value: timedelta) -> int:
    """``value`` in whole nanoseconds (``timedelta`` itself stops at microseconds)."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return micros * MICROSECOND


def _string_nanoseconds(value: str) -> int | None:
    try:
        return parse_go_duration(value)
    except ValueError:
        pass
    if value.endswith("\n"):
        # isodate's pattern ends in "$", which also matches just before a final newline.
        return None
    try:
        # isodate is strict (unlike dapr/kit's parser, which reads "PT5s" as zero), which is
        # what a setting wants; a result with years or months is not a fixed length. Huge
        # fields overflow timedelta (OverflowError) rather than failing to parse.
        parsed = isodate.parse_duration(value)
    except (ValueError, ArithmeticError):
        return None
    if isinstance(parsed, timedelta):
        return timedelta_nanoseconds(parsed)
    return None


# The part of ISO 8601 that dapr/kit reads as ISO 8601 means it: unsigned integers, designators
# upper case, in order, each at most once. kit also reads "PT5s" (as zero), "PT1.5S" (error) or
# "PT1S1H", which is why user strings are checked against this and not against kit's parser.
_STRICT_ISO = re.compile(
    r"(?:R(?P<repetitions>[0-9]+)/)?"
    r"P(?!\Z)(?:(?P<years>[0-9]+)Y)?(?:(?P<months>[0-9]+)M)?(?:(?P<weeks>[0-9]+)W)?"
    r"(?:(?P<days>[0-9]+)D)?"
    r"(?:T(?=[0-9])(?:(?P<hours>[0-9]+)H)?(?:(?P<minutes>[0-9]+)M)?(?:(?P<seconds>[0-9]+)S)?)?",
    re.ASCII,
)
DAY = 24 * HOUR


def parse_strict_iso8601_duration(text: str) -> ISODuration | None:
    """``[Rn/]PnYnMnWnDTnHnMnS`` read strictly, or ``None`` when ``text`` is not of that form.

    Weeks are folded into days, as dapr/kit does. Raises ``ValueError`` when the duration is
    longer than a Go duration can hold (about 292 years, counting a year as 366 days).
    """
    match = _STRICT_ISO.fullmatch(text)
    if match is None:
        return None
    out_of_range = ValueError(
        f"ISO 8601 duration {text!r} is out of range: daprd's durations end at about 292 years"
    )
    groups = match.groupdict(default="0")
    # More than 19 digits cannot fit Go's int64 (and int() refuses thousands of them).
    if any(len(digits) > 19 for digits in groups.values()):
        raise out_of_range
    parts = {key: int(digits) for key, digits in groups.items()}
    days = parts["weeks"] * 7 + parts["days"]
    nanoseconds = parts["hours"] * HOUR + parts["minutes"] * MINUTE + parts["seconds"] * SECOND
    longest = (parts["years"] * 366 + parts["months"] * 31 + days) * DAY + nanoseconds
    if longest > MAX_DURATION or parts["repetitions"] > MAX_DURATION:
        raise out_of_range
    repetitions = parts["repetitions"] if match.group("repetitions") is not None else -1
    return ISODuration(parts["years"], parts["months"], days, nanoseconds, repetitions)
