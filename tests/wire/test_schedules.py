"""Reminder and timer times as the app writes them (docs/protocol.md §9.5, §9.6), each checked
against how the dev sidecar, which follows daprd, reads it back."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dapr_actors_fastapi._wire.schedules import format_schedule_period, format_schedule_time
from dapr_actors_fastapi.durations import DAY, HOUR, MILLISECOND, MINUTE, SECOND
from dapr_actors_fastapi.sidecar.schedules import parse_period, reminder_point, timer_point

PARIS = timezone(timedelta(hours=2))
SCHEDULE_TIMES = [
    (timedelta(0), "0s"),
    (timedelta(milliseconds=1500), "1.5s"),
    (timedelta(hours=25, seconds=1), "25h0m1s"),
    (datetime(2030, 1, 1, tzinfo=UTC), "2030-01-01T00:00:00Z"),
    (datetime(2030, 1, 1, 8, 30, 0, 250_000, tzinfo=PARIS), "2030-01-01T06:30:00.250000Z"),
    ("0s", "0s"),
    ("1h30m", "1h30m"),
    ("PT10S", "PT10S"),
    ("P1MT1H", "P1MT1H"),
    ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
    ("2030-01-01T00:00:00.123456789-05:30", "2030-01-01T00:00:00.123456789-05:30"),
]


@pytest.mark.parametrize(("value", "expected"), SCHEDULE_TIMES, ids=repr)
def test_format_schedule_time(value: timedelta | datetime | str, expected: str) -> None:
    assert format_schedule_time(value, field="due_time") == expected


@pytest.mark.parametrize(("value", "_"), SCHEDULE_TIMES, ids=repr)
def test_schedule_times_mean_the_same_to_reminders_and_timers(
    value: timedelta | datetime | str, _: str
) -> None:
    """daprd reads reminder and timer times with different parsers (§9.5); what the app writes
    must mean one instant to both (the dev sidecar's ports of them)."""
    text = format_schedule_time(value, field="due_time")
    start = datetime(2029, 1, 31, tzinfo=UTC).timestamp()
    assert reminder_point("dueTime", text, start) == timer_point("dueTime", text, start)


@pytest.mark.parametrize(
    ("value", "written"), [("0s", "0s"), ("PT0S", "PT0S"), (timedelta(0), "0s")]
)
def test_format_schedule_time_can_refuse_zero(value: timedelta | str, written: str) -> None:
    assert format_schedule_time(value, field="due_time") == written
    with pytest.raises(ValueError, match=re.escape(f"ttl={value!r} is too short")):
        format_schedule_time(value, field="ttl", allow_zero=False)


# (value, repetitions, written, how daprd reads a reminder's: nanoseconds, fires or -1)
SCHEDULE_PERIODS = [
    (timedelta(seconds=10), None, "10s", 10 * SECOND, -1),
    (timedelta(hours=24), None, "24h0m0s", DAY, -1),
    (timedelta(milliseconds=50), None, "50ms", 50 * MILLISECOND, -1),
    ("1m30s", None, "1m30s", 90 * SECOND, -1),
    ("PT24H", None, "PT24H", DAY, -1),
    ("R5/PT1S", None, "R5/PT1S", SECOND, 5),
    (timedelta(seconds=5400), 2, "R2/PT1H30M", 90 * MINUTE, 2),
    (timedelta(hours=2), 1, "R1/PT2H", 2 * HOUR, 1),
    ("61s", 3, "R3/PT1M1S", 61 * SECOND, 3),
    ("PT10S", 4, "R4/PT10S", 10 * SECOND, 4),
]


@pytest.mark.parametrize(
    ("value", "repetitions", "expected", "nanoseconds", "fires"), SCHEDULE_PERIODS, ids=repr
)
def test_format_schedule_period(
    value: timedelta | str, repetitions: int | None, expected: str, nanoseconds: int, fires: int
) -> None:
    assert format_schedule_period(value, repetitions=repetitions, calendar=False) == expected
    period, count = parse_period(expected, allow_calendar=False)
    assert (period.nanoseconds, count) == (nanoseconds, fires)


@pytest.mark.parametrize("value", ["P1D", "P1W", "P1M", "P1Y", "R3/P1DT1H", "P1DT0H"])
def test_reminder_periods_refuse_calendar_parts(value: str) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"period={value!r} uses years, months, weeks or days")
    ) as error:
        format_schedule_period(value, calendar=False)
    assert "'PT24H'" in str(error.value)
    assert format_schedule_period(value, calendar=True) == value  # timers take them (§9.6)


def test_calendar_parts_at_zero_are_no_calendar() -> None:
    # daprd refuses only non-zero years, months and days (§9.6).
    assert format_schedule_period("P0DT1H", calendar=False) == "P0DT1H"
