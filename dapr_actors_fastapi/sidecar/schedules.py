"""When reminders and timers fire: daprd's grammars for ``dueTime``, ``period`` and ``ttl``.

Reminders go through daprd's Scheduler and timers through dapr/kit, which accept slightly
different things (docs/protocol.md §9.5–9.6):

* reminder ``dueTime``/``ttl``: RFC 3339 instant, Go duration, or ISO 8601 duration without
  repetitions; reminder ``period``: Go or ISO 8601 duration with ``Rn/`` but no years, months,
  weeks or days.
* timer ``dueTime``/``ttl``: ISO 8601 duration (calendar parts allowed), Go duration or
  RFC 3339 instant; timer ``period`` allows calendar parts too, and ``R0/`` is an error.

Every error is a ``ValueError`` that names the field, the value and the accepted forms. Times
are Unix seconds (floats). Days are added as exact seconds, as Go's ``AddDate`` does in UTC;
years and months go through ``datetime``, which stops at the year 9999 (Go goes further). So a
time outside years 1–9999 (``P99999999999D``), or a period whose first repeat would be, is
refused as out of range when registering, and a timer whose *later* fire would pass it stops
with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, datetime

from ..durations import SECOND, ISODuration, parse_go_duration, parse_iso8601_duration

SECONDS_PER_DAY = 86_400.0  # in UTC; durations.DAY is the same day in nanoseconds
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 31, tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Period:
    """A repeating interval: calendar parts (timers only) plus an exact part in nanoseconds."""

    years: int = 0
    months: int = 0
    days: int = 0
    nanoseconds: int = 0

    def after(self, moment: float) -> float:
        """``moment`` plus this period, with Go's ``AddDate`` for the calendar parts."""
        if self.years or self.months or self.days:
            moment = add_date(moment, self.years, self.months, self.days)
        return moment + self.nanoseconds / SECOND

    @property
    def is_zero(self) -> bool:
        return not (self.years or self.months or self.days or self.nanoseconds)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed registration: first fire, period, how many fires, and when it expires."""

    first_due: float
    period: Period | None  # None: fire once
    repetitions: int | None  # None: unbounded
    expires_at: float | None


def add_date(moment: float, years: int, months: int, days: int) -> float:
    """Go's ``Time.AddDate`` in UTC: month overflow normalizes (Jan 31 + 1 month = Mar 3).

    ``ValueError`` when years and months lead past the year 9999.
    """
    start = datetime.fromtimestamp(moment, UTC)
    month_index = start.month - 1 + months
    year = start.year + years + month_index // 12
    month = month_index % 12 + 1
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError(f"year {year} is out of range")
    # Take the day as an offset from the first of the month so that overflow rolls forward;
    # in UTC every day is 86,400 s, so days are added as seconds (no datetime overflow).
    first = start.replace(year=year, month=month, day=1)
    return first.timestamp() + (start.day - 1 + days) * SECONDS_PER_DAY


def _rfc3339(text: str) -> float | None:
    # Go's time.Parse(RFC3339Nano) wants an upper-case T and Z (or an offset).
    if len(text) < 20 or text[10] != "T" or not (text.endswith("Z") or text[-6] in "+-"):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _iso_offset(field: str, text: str, iso: ISODuration, start: float) -> float:
    try:
        moment = (
            add_date(start, iso.years, iso.months, iso.days)
            if (iso.years or iso.months or iso.days)
            else start
        )
    except (OverflowError, ValueError):
        raise _out_of_range(field, text) from None
    return _in_range(field, text, moment + iso.nanoseconds / SECOND)


def _in_range(field: str, text: str, moment: float) -> float:
    """``moment`` if it lies within years 1–9999, where times can be computed and stored."""
    if not _EARLIEST <= moment <= _LATEST:
        raise _out_of_range(field, text)
    return moment


def _out_of_range(field: str, text: str) -> ValueError:
    return ValueError(f"{field} {text!r} is out of range: it reaches outside the years 1-9999")


def _check_next_fire(period: Period, text: str, first: float) -> None:
    """Refuse a period whose first repeat is not after the first fire (a negative timer period,
    which daprd accepts and then fires without pause: docs/protocol.md §13) or could not be
    computed (``P9999Y``)."""
    try:
        moment = period.after(first)
    except (OverflowError, ValueError):
        raise _out_of_range("period", text) from None
    if moment <= first:
        raise ValueError(f"period {text!r} must be longer than zero")
    _in_range("period", text, moment)


def reminder_point(field: str, text: str, start: float) -> float:
    """A reminder ``dueTime``/``ttl`` as daprd's Scheduler reads it (``parsePointInTime``)."""
    instant = _rfc3339(text)
    if instant is not None:
        return instant
    try:
        offset = parse_go_duration(text)
    except ValueError:
        pass
    else:
        return _in_range(field, text, start + offset / SECOND)
    try:
        iso = parse_iso8601_duration(text)
    except ValueError:
        raise _invalid(
            field, text, "an RFC 3339 time, a Go duration or an ISO 8601 duration"
        ) from None
    if iso.repetitions > 0:
        raise ValueError(f"{field} {text!r}: repeats not supported for due time")
    return _iso_offset(field, text, iso, start)


def timer_point(field: str, text: str, start: float) -> float:
    """A timer ``dueTime``/``ttl`` as dapr/kit ``ParseTime`` reads it."""
    try:
        iso = parse_iso8601_duration(text)
    except ValueError:
        iso = None
    if iso is not None:
        if iso.repetitions != -1:
            raise ValueError(f"{field} {text!r}: repetitions are not allowed")
        return _iso_offset(field, text, iso, start)
    try:
        offset = parse_go_duration(text)
    except ValueError:
        pass
    else:
        return _in_range(field, text, start + offset / SECOND)
    instant = _rfc3339(text)
    if instant is None:
        raise _invalid(field, text, "an ISO 8601 duration, a Go duration or an RFC 3339 time")
    return instant


def parse_period(text: str, *, allow_calendar: bool) -> tuple[Period, int]:
    """dapr/kit ``ParseDuration``: (period, repetitions), repetitions -1 when unbounded."""
    try:
        iso = parse_iso8601_duration(text)
    except ValueError:
        try:
            return Period(nanoseconds=parse_go_duration(text)), -1
        except ValueError:
            raise _invalid(
                "period",
                text,
                "a Go duration such as '10s' or an ISO 8601 duration such as 'R5/PT10S'",
            ) from None
    if not allow_calendar and (iso.years or iso.months or iso.days):
        raise ValueError(
            f"unsupported period format: {text} (reminder periods cannot use years, months, "
            "weeks or days; use hours, e.g. PT24H)"
        )
    return Period(iso.years, iso.months, iso.days, iso.nanoseconds), iso.repetitions


def reminder_schedule(due_time: str, period: str, ttl: str, now: float) -> Schedule:
    """The schedule of a reminder registration; ``ValueError`` naming the bad field."""
    if not due_time and not period:
        raise ValueError("a reminder needs a dueTime or a period (job must have either)")
    first = reminder_point("dueTime", due_time, now) if due_time else now
    spec: Period | None = None
    repetitions: int | None = None
    if period:
        spec, count = parse_period(period, allow_calendar=False)
        if spec.is_zero or spec.nanoseconds < 0:
            raise ValueError(f"period {period!r} must be longer than zero")
        repetitions = count if count > 0 else None  # R0/ and R-1/ mean unbounded in daprd
        _check_next_fire(spec, period, first)
    expires = None
    if ttl:
        if not period:
            raise ValueError(f"ttl {ttl!r} needs a period (job must have a schedule to have a ttl)")
        expires = reminder_point("ttl", ttl, first)
        if expires < first:
            raise ValueError(f"ttl {ttl!r} must be after the due time")
    return Schedule(first, spec, repetitions, expires)


def timer_schedule(due_time: str, period: str, ttl: str, now: float) -> Schedule:
    """The schedule of a timer registration; ``ValueError`` naming the bad field."""
    first = timer_point("dueTime", due_time, now) if due_time else now
    spec: Period | None = None
    repetitions: int | None = None
    if period:
        spec, count = parse_period(period, allow_calendar=True)
        if count == 0:
            raise ValueError(f"period {period!r} has zero repetitions")
        if spec.is_zero:
            spec, repetitions = None, 1  # Rn with a zero duration fires once (§9.6)
        else:
            repetitions = count if count > 0 else None
            _check_next_fire(spec, period, first)
    expires = None
    if ttl:
        expires = timer_point("ttl", ttl, first)
        if expires <= now or expires <= first:
            raise ValueError(f"ttl {ttl!r}: the timer has already expired")
    return Schedule(first, spec, repetitions, expires)


def _invalid(field: str, text: str, accepted: str) -> ValueError:
    return ValueError(f"{field} {text!r} is not valid: use {accepted}")
