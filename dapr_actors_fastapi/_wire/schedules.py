"""Reminder and timer times as the user gives them, validated and written in a form daprd reads
as meant (docs/protocol.md §9.5, §9.6).

Both sides of the wire use one rule, so a time the actor API accepts is one the sidecar takes:
``_actor_api/scheduling.py`` writes registrations with it. The grammars themselves are in
``durations``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ..durations import (
    DAY,
    MAX_DURATION,
    SECOND,
    ISODuration,
    format_go_duration,
    parse_go_duration,
    parse_strict_iso8601_duration,
    timedelta_nanoseconds,
)

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

# Go's time.Parse(RFC3339): upper-case T and Z; a fraction is accepted when parsing.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


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
        nanoseconds = timedelta_nanoseconds(value)
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
    if repetitions > MAX_DURATION:
        raise ValueError(f"repetitions={repetitions!r} is out of range")


def _iso_time(seconds: int) -> str:
    """Whole seconds as an ISO 8601 time duration: 5400 → ``"PT1H30M"``."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = ((hours, "H"), (minutes, "M"), (seconds, "S"))
    return "PT" + "".join(f"{count}{unit}" for count, unit in parts if count)


def _format_timedelta(value: timedelta, field: str, allow_zero: bool) -> str:
    nanoseconds = timedelta_nanoseconds(value)
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
    return iso.nanoseconds + ((iso.years * 12 + iso.months) * 31 + iso.days) * DAY


def _check_length(nanoseconds: int, value: object, field: str, allow_zero: bool) -> None:
    if nanoseconds < 0 or (nanoseconds == 0 and not allow_zero):
        least = "zero or longer" if allow_zero else "longer than zero"
        raise ValueError(f"{field}={value!r} is too short: it must be {least}")
    if nanoseconds > MAX_DURATION:
        raise ValueError(
            f"{field}={value!r} is out of range: daprd's durations end at about 292 years"
        )
