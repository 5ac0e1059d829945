"""Duration grammars that daprd speaks, reproduced exactly (protocol.md §9).

* Go ``time.ParseDuration`` / ``Duration.String`` (``"1h30m"``, ``"0h0m3s0ms"``, ``"1.5s"``):
  what ``/dapr/config`` must contain and what daprd echoes for reminder periods.
* dapr/kit ``ParseISO8601Duration`` (``"PT10S"``, ``"R5/PT1S"``, ``"P1DT2H"``): periods of timers
  and reminders, with its quirks (unknown characters are skipped, not rejected).
* ``format_schedule_time`` / ``format_schedule_period``: what users give for a reminder's or a
  timer's due time, ttl and period, validated and written in a form daprd reads as meant
  (protocol.md §9.5, §9.6).

Durations are kept as integer nanoseconds, like Go's ``time.Duration``; ``timedelta`` is only
the user-facing form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import isodate

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_MAX_DURATION = 2**63 - 1
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
    if total > _MAX_DURATION:
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
        if fraction > _MAX_DURATION // 10:
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
    if not _MIN_DURATION <= nanoseconds <= _MAX_DURATION:
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
    if not _MIN_DURATION <= value <= _MAX_DURATION:
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
        nanoseconds: int | None = _timedelta_nanoseconds(value)
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
    if not _MIN_DURATION <= nanoseconds <= _MAX_DURATION:
        raise ValueError(
            f"{field}={value!r} is out of range: a Go duration lies between "
            "-2562047h47m16.854775808s and 2562047h47m16.854775807s"
        )
    return nanoseconds


def _timedelta_nanoseconds(value: timedelta) -> int:
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
        return _timedelta_nanoseconds(parsed)
    return None


# --- reminder and timer times (protocol.md §9.5, §9.6) -----------------------------------------

ScheduleTime = timedelta | datetime | str
"""A due time or ttl: a length of time from now (from the due time for a ttl) or an instant."""

SchedulePeriod = timedelta | str
"""How often a reminder or timer repeats."""

_ACCEPTED_TIMES = (
    "a timedelta, a timezone-aware datetime, a Go duration such as '30s' or '1h30m', an ISO "
    "8601 duration such as 'PT30S', or an RFC 3339 time such as '2030-01-01T00:00:00Z'"
)
_ACCEPTED_PERIODS = (
    "a timedelta, a Go duration such as '10s' or '1h30m', or an ISO 8601 duration such as "
    "'PT10S' ('R5/PT10S' fires 5 times)"
)

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
# Go's time.Parse(RFC3339): upper-case T and Z; a fraction is accepted when parsing.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_DAY = 24 * HOUR


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
    longest = (parts["years"] * 366 + parts["months"] * 31 + days) * _DAY + nanoseconds
    if longest > _MAX_DURATION or parts["repetitions"] > _MAX_DURATION:
        raise out_of_range
    repetitions = parts["repetitions"] if match.group("repetitions") is not None else -1
    return ISODuration(parts["years"], parts["months"], days, nanoseconds, repetitions)


def format_schedule_time(value: ScheduleTime, *, field: str, allow_zero: bool = True) -> str:
    """A reminder's or timer's due time or ttl, validated, as daprd reads it for both kinds.

    * ``timedelta`` (not negative) → a Go duration (``"1m30s"``);
    * timezone-aware ``datetime`` → RFC 3339 in UTC (``"2030-01-01T08:00:00Z"``);
    * a string: a Go duration, an ISO 8601 duration without ``Rn/``, or an RFC 3339 time, sent
      as given.

    ``field`` names the argument in errors: ``TypeError`` for another type, ``ValueError`` for
    a bad value, each naming the value and the accepted forms. ``allow_zero=False`` refuses a
    zero length (a ttl that expires at once).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{field}={value!r} has no timezone, so the instant it means is unknown: use an "
                "aware datetime such as datetime.now(UTC) + timedelta(minutes=5), or a timedelta"
            )
        try:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        except OverflowError:
            raise ValueError(f"{field}={value!r} is out of range in UTC") from None
    if isinstance(value, timedelta):
        return _format_timedelta(value, field, allow_zero)
    if not isinstance(value, str):
        raise TypeError(f"{field} must be {_ACCEPTED_TIMES}; got {type(value).__name__} {value!r}")
    if _RFC3339.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"{field}={value!r} is not a valid RFC 3339 time: {error}") from None
        return value
    _check_length(_time_length(value, field), value, field, allow_zero)
    return value


def format_schedule_period(
    value: SchedulePeriod,
    *,
    field: str = "period",
    repetitions: int | None = None,
    calendar: bool,
) -> str:
    """A reminder's or timer's period, validated, as daprd reads it.

    * ``timedelta`` (longer than zero) → a Go duration (``"10s"``);
    * a string: a Go duration or an ISO 8601 duration, optionally ``Rn/``-prefixed (n ≥ 1, the
      total number of fires), sent as given;
    * ``repetitions``: the total number of fires, written as ``Rn/`` + an ISO 8601 duration
      (whose seconds are whole, so the period must be whole seconds too).

    ``calendar=False`` (reminders) refuses years, months, weeks and days, which daprd rejects
    in reminder periods (a day is not always 24 hours): use ``PT24H``. Errors as for
    ``format_schedule_time``.
    """
    if isinstance(value, datetime):
        raise TypeError(
            f"{field} is a length of time, not an instant: got datetime {value!r}; use "
            f"{_ACCEPTED_PERIODS}"
        )
    _check_repetitions(repetitions)
    if isinstance(value, timedelta):
        nanoseconds = _timedelta_nanoseconds(value)
        _check_length(nanoseconds, value, field, allow_zero=False)
        text = format_go_duration(nanoseconds)
    elif isinstance(value, str):
        iso = _strict_iso(value, field)
        if iso is not None:
            return _format_iso_period(iso, value, field, repetitions, calendar)
        try:
            nanoseconds = parse_go_duration(value)
        except ValueError:
            raise ValueError(f"{field}={value!r} is not valid: use {_ACCEPTED_PERIODS}") from None
        _check_length(nanoseconds, value, field, allow_zero=False)
        text = value
    else:
        raise TypeError(
            f"{field} must be {_ACCEPTED_PERIODS}; got {type(value).__name__} {value!r}"
        )
    if repetitions is None:
        return text
    # Only an ISO 8601 duration can carry "Rn/", and kit reads its numbers as integers.
    if nanoseconds % SECOND:
        raise ValueError(
            f"{field}={value!r} has a fraction of a second, which the ISO 8601 form that "
            "carries repetitions cannot express; use whole seconds or leave repetitions out"
        )
    return f"R{repetitions}/{_iso_time(nanoseconds // SECOND)}"


def _format_iso_period(
    iso: ISODuration, value: str, field: str, repetitions: int | None, calendar: bool
) -> str:
    if iso.repetitions == 0:
        raise ValueError(
            f"{field}={value!r} repeats zero times: 'Rn/' is the total number of fires, at "
            "least 1; leave it out to repeat without end"
        )
    if not calendar and (iso.years or iso.months or iso.days):
        raise ValueError(
            f"{field}={value!r} uses years, months, weeks or days, which daprd does not accept "
            "in a reminder period (they are not a fixed length); use hours, e.g. 'PT24H' for "
            "a day"
        )
    if not (iso.years or iso.months or iso.days or iso.nanoseconds):
        raise ValueError(
            f"{field}={value!r} is zero; a period must be longer than zero (leave the period "
            "out to fire once)"
        )
    if repetitions is None:
        return value
    if iso.repetitions != -1:
        raise ValueError(
            f"{field}={value!r} already says how often it repeats; pass repetitions= or "
            "'Rn/', not both"
        )
    return f"R{repetitions}/{value}"


def _strict_iso(value: str, field: str) -> ISODuration | None:
    try:
        return parse_strict_iso8601_duration(value)
    except ValueError as error:
        raise ValueError(f"{field}={value!r}: {error}") from None


def _check_repetitions(repetitions: object) -> None:
    if repetitions is None:
        return
    if isinstance(repetitions, bool) or not isinstance(repetitions, int):
        raise TypeError(f"repetitions must be an int of at least 1, got {repetitions!r}")
    if repetitions < 1:
        raise ValueError(
            f"repetitions={repetitions!r} must be at least 1 (the total number of fires); "
            "leave it out to repeat without end"
        )
    if repetitions > _MAX_DURATION:
        raise ValueError(f"repetitions={repetitions!r} is out of range")


def _iso_time(seconds: int) -> str:
    """Whole seconds as an ISO 8601 time duration: 5400 → ``"PT1H30M"``."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = ((hours, "H"), (minutes, "M"), (seconds, "S"))
    return "PT" + "".join(f"{count}{unit}" for count, unit in parts if count)


def _format_timedelta(value: timedelta, field: str, allow_zero: bool) -> str:
    nanoseconds = _timedelta_nanoseconds(value)
    _check_length(nanoseconds, value, field, allow_zero)
    return format_go_duration(nanoseconds)


def _time_length(value: str, field: str) -> int:
    """The length of a Go or strict ISO 8601 duration string; calendar parts are counted
    roughly, only to tell zero and too long from the rest."""
    try:
        return parse_go_duration(value)
    except ValueError:
        pass
    iso = _strict_iso(value, field)
    if iso is None:
        raise ValueError(f"{field}={value!r} is not valid: use {_ACCEPTED_TIMES}")
    if iso.repetitions != -1:
        raise ValueError(
            f"{field}={value!r} has repetitions ('Rn/'), which only a period can have; "
            f"use {_ACCEPTED_TIMES}"
        )
    return iso.nanoseconds + ((iso.years * 12 + iso.months) * 31 + iso.days) * _DAY


def _check_length(nanoseconds: int, value: object, field: str, allow_zero: bool) -> None:
    if nanoseconds < 0 or (nanoseconds == 0 and not allow_zero):
        least = "zero or longer" if allow_zero else "longer than zero"
        raise ValueError(f"{field}={value!r} is too short: it must be {least}")
    if nanoseconds > _MAX_DURATION:
        raise ValueError(
            f"{field}={value!r} is out of range: daprd's durations end at about 292 years"
        )
