"""The dueTime/period/ttl grammars of reminders and timers (docs/protocol.md §9.5–9.6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dapr_actors_fastapi.sidecar.schedules import (
    Period,
    add_date,
    parse_period,
    reminder_point,
    reminder_schedule,
    timer_point,
    timer_schedule,
)

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC).timestamp()


def at(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("years", "months", "days", "expected"),
    [
        (0, 1, 0, at(2026, 3, 3, 12)),  # Jan 31 + 1 month: Feb 31 normalizes to Mar 3, as Go
        (0, 0, 1, at(2026, 2, 1, 12)),
        (1, 0, 0, at(2027, 1, 31, 12)),
        (0, 13, 0, at(2027, 3, 3, 12)),
        (0, -1, 0, at(2025, 12, 31, 12)),
    ],
)
def test_add_date_normalizes_like_go(years: int, months: int, days: int, expected: float) -> None:
    assert add_date(NOW, years, months, days) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0h0m3s0ms", NOW + 3),
        ("1m", NOW + 60),
        ("PT10S", NOW + 10),
        ("P1D", NOW + 86400),
        ("2026-02-01T00:00:00Z", at(2026, 2, 1)),
        ("2026-02-01T01:00:00+01:00", at(2026, 2, 1)),
        ("2026-02-01T00:00:00.5Z", at(2026, 2, 1) + 0.5),
    ],
)
def test_points_in_time_in_every_form(text: str, expected: float) -> None:
    assert reminder_point("dueTime", text, NOW) == pytest.approx(expected)
    assert timer_point("dueTime", text, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["soon", "2026-02-01", "2026-02-01t00:00:00z", "1 s", ""])
def test_invalid_points_name_the_value(text: str) -> None:
    for parse in (reminder_point, timer_point):
        with pytest.raises(ValueError, match="dueTime"):
            parse("dueTime", text, NOW)


def test_repetitions_in_a_due_time_are_refused() -> None:
    with pytest.raises(ValueError, match="repeats not supported"):
        reminder_point("dueTime", "R2/PT1S", NOW)
    with pytest.raises(ValueError, match="repetitions are not allowed"):
        timer_point("dueTime", "R2/PT1S", NOW)


def test_periods_and_repetitions() -> None:
    assert parse_period("0h0m7s0ms", allow_calendar=False) == (Period(nanoseconds=7 * 10**9), -1)
    assert parse_period("R5/PT1S", allow_calendar=False) == (Period(nanoseconds=10**9), 5)
    assert parse_period("P1MT1H", allow_calendar=True) == (
        Period(months=1, nanoseconds=3600 * 10**9),
        -1,
    )
    with pytest.raises(ValueError, match="unsupported period format: P1W"):
        parse_period("P1W", allow_calendar=False)


def test_reminder_schedule_from_the_seed_examples() -> None:
    every_seven = reminder_schedule("0h0m3s0ms", "0h0m7s0ms", "", NOW)
    assert (every_seven.first_due, every_seven.repetitions) == (NOW + 3, None)
    assert every_seven.period is not None
    assert every_seven.period.after(every_seven.first_due) == NOW + 10
    once = reminder_schedule("0h0m3s0ms", "", "", NOW)
    assert (once.first_due, once.period) == (NOW + 3, None)
    bounded = reminder_schedule("", "R0/PT1S", "PT10S", NOW)
    assert (bounded.repetitions, bounded.expires_at) == (None, NOW + 10)  # R0/ is unbounded


def test_timer_schedule_special_cases() -> None:
    single = timer_schedule("", "R3", "", NOW)  # Rn with a zero duration fires once
    assert (single.period, single.repetitions) == (None, 1)
    monthly = timer_schedule("0s", "P1M", "", NOW)
    assert monthly.period is not None
    assert monthly.period.after(NOW) == at(2026, 3, 3, 12)
