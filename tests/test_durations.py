"""The duration grammars daprd speaks (docs/protocol.md §9), vector by vector.

Vectors come from §9 itself, from Go's own ``time/time_test.go`` (``parseDurationTests``,
``parseDurationErrorTests``, ``durationTests``) and from dapr/kit's ``time/time_test.go``.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from dapr_actors_fastapi.durations import (
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    NANOSECOND,
    SECOND,
    ISODuration,
    format_go_duration,
    parse_go_duration,
    parse_iso8601_duration,
    parse_strict_iso8601_duration,
    to_nanoseconds,
)

MAX_DURATION = 2**63 - 1
MIN_DURATION = -(2**63)
MICRO_SIGN = "\u00b5"  # what Go prints
GREEK_MU = "\u03bc"  # also accepted by Go's parser
DAY = 24 * HOUR


# --- Go time.ParseDuration (§9.1) ---------------------------------------------------------------

GO_VALID = [
    # §9.1 consequences
    ("1h30m", HOUR + 30 * MINUTE),
    ("1m1h", HOUR + MINUTE),
    ("1s1s", 2 * SECOND),
    (".5s", 500 * MILLISECOND),
    ("5.s", 5 * SECOND),
    ("1.5h", 90 * MINUTE),
    ("-1s", -SECOND),
    ("+1s", SECOND),
    ("0", 0),
    ("-0", 0),
    ("+0", 0),
    (f"1h0m0s0ms0{MICRO_SIGN}s", HOUR),
    (f"1h0m0s0ms0{GREEK_MU}s", HOUR),
    # every unit
    ("10ns", 10 * NANOSECOND),
    ("11us", 11 * MICROSECOND),
    (f"12{MICRO_SIGN}s", 12 * MICROSECOND),
    (f"12{GREEK_MU}s", 12 * MICROSECOND),
    ("13ms", 13 * MILLISECOND),
    ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE),
    ("16h", 16 * HOUR),
    ("0s", 0),
    ("0h0m3s0ms", 3 * SECOND),
    # Go's parseDurationTests
    ("5s", 5 * SECOND),
    ("30s", 30 * SECOND),
    ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND),
    ("+5s", 5 * SECOND),
    ("5.0s", 5 * SECOND),
    ("5.6s", 5 * SECOND + 600 * MILLISECOND),
    ("1.0s", SECOND),
    ("1.00s", SECOND),
    ("1.004s", SECOND + 4 * MILLISECOND),
    ("1.0040s", SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + MILLISECOND),
    ("3h30m", 3 * HOUR + 30 * MINUTE),
    ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52763797000),
    ("0.3333333333333333333h", 20 * MINUTE),  # golang.org/issue/6617
    ("9007199254740993ns", 2**53 + 1),  # not exact as a float64
    ("0.100000000000000000000h", 6 * MINUTE),  # issue 15011
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),  # leadingFraction overflow
    # fractions truncate (float64 then uint64 conversion)
    ("1.000000001s", SECOND + 1),
    ("1.0000000019s", SECOND + 1),
    ("0.9999999999s", 999_999_999),
    ("0.5ns", 0),
    (".0001ms", 100),
    (f"1.5{MICRO_SIGN}s", 1500),
    # limits
    ("9223372036854775807ns", MAX_DURATION),
    ("9223372036854775.807us", MAX_DURATION),
    ("9223372036s854ms775us807ns", MAX_DURATION),
    ("2562047h47m16.854775807s", MAX_DURATION),
    ("-9223372036854775807ns", MIN_DURATION + 1),
    ("-9223372036854775808ns", MIN_DURATION),
    ("-9223372036854775.808us", MIN_DURATION),
    ("-9223372036s854ms775us808ns", MIN_DURATION),
    ("-2562047h47m16.854775808s", MIN_DURATION),  # golang.org/issue/48629
    # leading zeros cost nothing in Go; Python's int() would refuse past 4300 digits
    ("0" * 5000 + "1s", SECOND),
    # a fraction longer than float64's range scales to inf in Go and contributes 0
    ("0." + "0" * 400 + "1s", 0),
    # 18 nines are kept, the rest ignored; float64(999999999999999999) is 1e18, so this rounds up
    ("1." + "9" * 5000 + "s", 2 * SECOND),
    # Go sums magnitudes in a uint64: 1<<63 + 1<<63 wraps to exactly 0 and passes the check
    ("9223372036854775808ns9223372036854775808ns", 0),
    ("-9223372036854775808ns9223372036854775808ns", 0),
]

GO_INVALID = [
    # §9.1 consequences
    "",
    "1",
    "1d",
    "1H",
    "1 s",
    " 1s",
    "1s ",
    "1h 2m",
    ".",
    "PT1S",
    # Go's parseDurationErrorTests
    "3",
    "-",
    "+",
    "s",
    "-.",
    ".s",
    "+.s",
    "-.s",
    "\ufffd",
    "\ufffd hello \ufffd world",
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
    # one nanosecond past the largest duration
    "2562047h47m16.854775808s",
    "-2562047h47m16.854775809s",
    "2562048h",
    # other shapes
    "00",
    "1.2.3s",
    "1e3s",
    "1_000s",
    "\uff11s",  # FULLWIDTH DIGIT ONE: only ASCII digits count
    "\u0661s",  # ARABIC-INDIC DIGIT ONE
    "1S",
    "1Ms",
    "1sm",
    "1ms1",
    "1h-1m",
    "--1s",
    "+-1s",
    "1s\n",
    "1" * 5000 + "s",
]


@pytest.mark.parametrize(("text", "expected"), GO_VALID, ids=[t[:40] for t, _ in GO_VALID])
def test_parse_go_duration_accepts(text: str, expected: int) -> None:
    assert parse_go_duration(text) == expected


@pytest.mark.parametrize("text", GO_INVALID, ids=[repr(t[:40]) for t in GO_INVALID])
def test_parse_go_duration_rejects_and_names_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))) as error:
        parse_go_duration(text)
    assert str(error.value).startswith("time: ")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "invalid duration ''"),
        ("1", "missing unit in duration '1'"),
        ("1d", "unknown unit 'd' in duration '1d'"),
        ("1H", "unknown unit 'H' in duration '1H'"),
        ("1h 2m", "unknown unit 'h ' in duration '1h 2m'"),
        (" 1s", "invalid duration ' 1s'"),
        (".s", "invalid duration '.s'"),
        ("9223372036854775808ns", "invalid duration '9223372036854775808ns'"),
    ],
)
def test_parse_go_duration_error_messages_follow_go(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_go_duration(text)


# --- Go Duration.String (§9.2) ------------------------------------------------------------------

GO_STRINGS = [
    # §9.2
    (0, "0s"),
    (1, "1ns"),
    (999, "999ns"),
    (1000, f"1{MICRO_SIGN}s"),
    (1500, f"1.5{MICRO_SIGN}s"),
    (999_999, f"999.999{MICRO_SIGN}s"),
    (MILLISECOND, "1ms"),
    (1500 * MICROSECOND, "1.5ms"),
    (500 * MILLISECOND, "500ms"),
    (999_999_999, "999.999999ms"),
    (SECOND, "1s"),
    (1500 * MILLISECOND, "1.5s"),
    (MINUTE, "1m0s"),
    (90 * SECOND, "1m30s"),
    (HOUR, "1h0m0s"),
    (HOUR + SECOND, "1h0m1s"),
    (26 * HOUR + 3 * MINUTE + 4500 * MILLISECOND, "26h3m4.5s"),
    (-SECOND, "-1s"),
    (-1, "-1ns"),
    (-1500, f"-1.5{MICRO_SIGN}s"),
    (-90 * SECOND, "-1m30s"),
    (-HOUR, "-1h0m0s"),
    # Go's durationTests
    (1100, f"1.1{MICRO_SIGN}s"),
    (2200 * MICROSECOND, "2.2ms"),
    (3300 * MILLISECOND, "3.3s"),
    (4 * MINUTE + 5 * SECOND, "4m5s"),
    (4 * MINUTE + 5001 * MILLISECOND, "4m5.001s"),
    (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, "5h6m7.001s"),
    (8 * MINUTE + 1, "8m0.000000001s"),
    (MAX_DURATION, "2562047h47m16.854775807s"),
    (MIN_DURATION, "-2562047h47m16.854775808s"),
    # trailing zeros trimmed, inner zeros kept
    (SECOND + 10 * MILLISECOND, "1.01s"),
    (SECOND + 1000, "1.000001s"),
    (1_000_010, "1.00001ms"),
]


@pytest.mark.parametrize(("nanoseconds", "expected"), GO_STRINGS, ids=[s for _, s in GO_STRINGS])
def test_format_go_duration(nanoseconds: int, expected: str) -> None:
    assert format_go_duration(nanoseconds) == expected


@pytest.mark.parametrize(("nanoseconds", "expected"), [(d, s) for d, s in GO_STRINGS if d > 0])
def test_format_go_duration_negative_is_minus_positive(nanoseconds: int, expected: str) -> None:
    # Go's TestDurationString checks the same for every positive vector.
    assert format_go_duration(-nanoseconds) == "-" + expected


@pytest.mark.parametrize("nanoseconds", [MAX_DURATION + 1, MIN_DURATION - 1, 10**30])
def test_format_go_duration_refuses_what_go_cannot_hold(nanoseconds: int) -> None:
    with pytest.raises(ValueError, match=str(nanoseconds)):
        format_go_duration(nanoseconds)


def _round_trip_samples() -> list[int]:
    edges = [0, 1, 999, 1000, 1001, 999_999, MILLISECOND, SECOND - 1, SECOND, SECOND + 1]
    edges += [MINUTE - 1, MINUTE, HOUR - 1, HOUR, DAY, MAX_DURATION, MAX_DURATION - 1]
    samples = edges + [-d for d in edges] + [MIN_DURATION, MIN_DURATION + 1]
    rng = random.Random(20_240_601)
    samples += [rng.randint(MIN_DURATION, MAX_DURATION) for _ in range(500)]
    # log-uniform, so every unit and every fraction length shows up
    samples += [rng.choice((-1, 1)) * rng.randrange(2 ** rng.randint(1, 63)) for _ in range(1500)]
    samples += [rng.randrange(2**31) * MILLISECOND for _ in range(100)]  # Go's own round-trip test
    return samples


def test_format_then_parse_round_trips() -> None:
    for nanoseconds in _round_trip_samples():
        text = format_go_duration(nanoseconds)
        assert parse_go_duration(text) == nanoseconds, text


# --- dapr/kit ParseISO8601Duration (§9.3) -------------------------------------------------------

ISO_VALID = [
    # §9.3
    ("PT1S", ISODuration(nanoseconds=SECOND)),
    ("R5/PT1S", ISODuration(nanoseconds=SECOND, repetitions=5)),
    ("R5", ISODuration(repetitions=5)),
    ("R5/", ISODuration(repetitions=5)),
    ("R+5/PT1S", ISODuration(nanoseconds=SECOND, repetitions=5)),
    ("R-1/PT1S", ISODuration(nanoseconds=SECOND, repetitions=-1)),
    ("R005/PT1S", ISODuration(nanoseconds=SECOND, repetitions=5)),
    ("R0/PT1S", ISODuration(nanoseconds=SECOND, repetitions=0)),
    ("R9223372036854775807/PT1S", ISODuration(nanoseconds=SECOND, repetitions=MAX_DURATION)),
    ("PT-5S", ISODuration(nanoseconds=-5 * SECOND)),
    ("PT+5S", ISODuration(nanoseconds=5 * SECOND)),
    ("P-1D", ISODuration(days=-1)),
    ("PT5S123", ISODuration(nanoseconds=5 * SECOND)),
    ("PT", ISODuration()),
    ("P0", ISODuration()),
    ("PX", ISODuration()),
    ("P1d", ISODuration()),
    ("PT5s", ISODuration()),
    ("PT1h", ISODuration()),
    ("P1Y1", ISODuration(years=1)),
    ("P\u00e9", ISODuration()),  # unknown characters, even non-ASCII, are skipped
    ("PT1S1H", ISODuration(nanoseconds=HOUR + SECOND)),
    ("P1D1Y", ISODuration(years=1, days=1)),
    ("PT1HT1M", ISODuration(nanoseconds=HOUR + MINUTE)),
    ("PTT1H", ISODuration(nanoseconds=HOUR)),
    ("PT1HT", ISODuration(nanoseconds=HOUR)),
    ("P1YT", ISODuration(years=1)),
    # Y and date-M assign (last wins); W, D, H, time-M and S accumulate
    ("P1Y2Y", ISODuration(years=2)),
    ("P1M2M", ISODuration(months=2)),
    ("P3M1M", ISODuration(months=1)),
    ("P1W1W", ISODuration(days=14)),
    ("P1D2D", ISODuration(days=3)),
    ("P1W2D", ISODuration(days=9)),
    ("PT1H2H", ISODuration(nanoseconds=3 * HOUR)),
    ("PT1M2M", ISODuration(nanoseconds=3 * MINUTE)),
    ("PT1S2S", ISODuration(nanoseconds=3 * SECOND)),
    ("P1MT1M", ISODuration(months=1, nanoseconds=MINUTE)),
    ("P2MT1M1M", ISODuration(months=2, nanoseconds=2 * MINUTE)),
    # dapr/kit time_test.go
    (
        "R5/P10Y5M3DT30M",
        ISODuration(years=10, months=5, days=3, nanoseconds=30 * MINUTE, repetitions=5),
    ),
    ("P1MT2H10M3S", ISODuration(months=1, nanoseconds=2 * HOUR + 10 * MINUTE + 3 * SECOND)),
    ("P2W", ISODuration(days=14)),
    ("P1M", ISODuration(months=1)),
    ("PT1M", ISODuration(nanoseconds=MINUTE)),
    ("P0D", ISODuration()),
    ("PT0S", ISODuration()),
    ("P1M2D", ISODuration(months=1, days=2)),
    ("P1Y2M3D", ISODuration(years=1, months=2, days=3)),
    # others
    ("PT36H", ISODuration(nanoseconds=36 * HOUR)),
    ("P1DT2H", ISODuration(days=1, nanoseconds=2 * HOUR)),
    ("PT0010S", ISODuration(nanoseconds=10 * SECOND)),
    # kit sums into Go's 64-bit int / time.Duration, which wrap silently
    ("PT2562048H", ISODuration(nanoseconds=2562048 * HOUR - 2**64)),
    ("PT9223372036854775807S", ISODuration(nanoseconds=-SECOND)),
    ("PT9223372036854775807H1H", ISODuration()),
    ("P1317624576693539402W", ISODuration(days=1317624576693539402 * 7 - 2**64)),
]

ISO_INVALID = [
    # §9.3
    "R/PT1S",
    "R",
    "R/",
    "PT1.5S",
    "PT0,5S",
    "PT1H1D",
    "p1D",
    "pT1S",
    " PT1S",
    "P1dT1H",  # "1d" is not cleared before T
    "R5/pT1S",
    "R5/ PT1S",
    # dapr/kit time_test.go
    "",
    "10D1M",
    "P",
    "PM",
    "PT1D",
    "P_D",
    "PTxS",
    "0h30m0s",  # a Go duration: kit's ParseDuration falls back to Go, this parser does not
    "2024-01-02T03:04:05Z",
    # Atoi is Go's strconv.Atoi: optional sign, ASCII digits, int64 range
    "Rx/PT1S",
    "R 5/PT1S",
    "R5 /PT1S",
    "R+/PT1S",
    "R--1/PT1S",
    "R1_0/PT1S",
    "R\u0665/PT1S",  # ARABIC-INDIC DIGIT FIVE
    "R9223372036854775808/PT1S",
    "PT\u0661S",
    "PT1_0S",
    "PT 1S",
    "PT1 S",
    "PT+S",
    "PT9223372036854775808S",
    "P1xD",
    # designators in the wrong half, or without a number
    "PT1Y",
    "PT1W",
    "P1H",
    "P1S",
    "PTS",
    "PTH",
    "PY",
    "PW",
    "PD",
    "P1DT1DT",
    "P1D T1H",
    "1D",
    "\u00b5",
    "X",
]


@pytest.mark.parametrize(("text", "expected"), ISO_VALID, ids=[t for t, _ in ISO_VALID])
def test_parse_iso8601_duration_accepts(text: str, expected: ISODuration) -> None:
    assert parse_iso8601_duration(text) == expected


@pytest.mark.parametrize("text", ISO_INVALID, ids=[repr(t) for t in ISO_INVALID])
def test_parse_iso8601_duration_rejects_and_names_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_iso8601_duration(text)


def test_iso_duration_defaults_to_unbounded_repetitions() -> None:
    assert ISODuration().repetitions == -1
    assert parse_iso8601_duration("PT1S").repetitions == -1


# --- to_nanoseconds: the user-facing form -------------------------------------------------------

TO_NANOSECONDS_VALID: list[tuple[timedelta | str, int]] = [
    (timedelta(0), 0),
    (timedelta(seconds=90), 90 * SECOND),
    (timedelta(microseconds=1), MICROSECOND),
    (timedelta(days=1, seconds=1, microseconds=1), DAY + SECOND + MICROSECOND),
    (timedelta(days=-1), -DAY),
    (timedelta(microseconds=-1), -MICROSECOND),
    (timedelta(microseconds=MAX_DURATION // 1000), MAX_DURATION // 1000 * 1000),
    ("90s", 90 * SECOND),
    ("1h30m", 90 * MINUTE),
    ("1.5s", 1500 * MILLISECOND),
    ("500ms", 500 * MILLISECOND),
    ("1ns", 1),
    ("0", 0),
    ("-1s", -SECOND),
    ("2562047h47m16.854775807s", MAX_DURATION),
    ("PT90S", 90 * SECOND),
    ("PT1M30S", 90 * SECOND),
    ("PT1.5S", 1500 * MILLISECOND),
    ("PT0,5S", 500 * MILLISECOND),
    ("PT36H", 36 * HOUR),
    ("P1D", DAY),
    ("P1W", 7 * DAY),
    ("P1DT2H", DAY + 2 * HOUR),
    ("-PT5S", -5 * SECOND),
]

TO_NANOSECONDS_INVALID: list[timedelta | str] = [
    "",
    "1d",
    "30",
    " 1s",
    "1s ",
    "1s\n",
    "PT1S\n",  # isodate's pattern ends in "$", which also matches before a final newline
    "P",
    "P1Y",
    "P1M",
    "P1Y2D",
    "R5/PT1S",
    "R5",
    "PT5s",  # kit reads this as zero; a setting must not
    "pt5s",
    "P1d",
    "P0003-02-01T04:05:06",  # isodate's alternative format: has years
    "P999999999999D",  # overflows timedelta inside isodate
    "PT" + "9" * 400 + "S",  # float infinity inside isodate
    "2562048h",
    "PT2562048H",  # parses, but is longer than any Go duration
    "P106752D",
    timedelta(days=106752),
    timedelta(days=-106752),
    timedelta.max,
    timedelta.min,
]


@pytest.mark.parametrize(("value", "expected"), TO_NANOSECONDS_VALID, ids=repr)
def test_to_nanoseconds_accepts(value: timedelta | str, expected: int) -> None:
    assert to_nanoseconds(value, field="idle_timeout") == expected


@pytest.mark.parametrize("value", TO_NANOSECONDS_INVALID, ids=repr)
def test_to_nanoseconds_rejects_naming_field_and_value(value: timedelta | str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"drain_timeout={value!r}")):
        to_nanoseconds(value, field="drain_timeout")


@pytest.mark.parametrize("value", [30, 1.5, None, b"30s", True, ["30s"], 30 * SECOND])
def test_to_nanoseconds_type_error_names_field_and_type(value: object) -> None:
    with pytest.raises(TypeError, match=r"^idle_timeout must be") as error:
        to_nanoseconds(value, field="idle_timeout")  # type: ignore[arg-type]
    assert f"{type(value).__name__} {value!r}" in str(error.value)


def test_to_nanoseconds_result_formats_back_to_an_equal_go_duration() -> None:
    for value, expected in TO_NANOSECONDS_VALID:
        text = format_go_duration(to_nanoseconds(value, field="idle_timeout"))
        assert parse_go_duration(text) == expected


# --- the strict ISO 8601 reading of user input (§9.5, §9.6) ------------------------------------

STRICT_ISO_VALID = [
    ("PT1S", ISODuration(nanoseconds=SECOND)),
    ("PT1H30M", ISODuration(nanoseconds=HOUR + 30 * MINUTE)),
    ("PT0S", ISODuration()),
    ("P1D", ISODuration(days=1)),
    ("P1W2D", ISODuration(days=9)),
    ("P1Y2M3DT4H5M6S", ISODuration(1, 2, 3, 4 * HOUR + 5 * MINUTE + 6 * SECOND)),
    ("R5/PT1S", ISODuration(nanoseconds=SECOND, repetitions=5)),
    ("R0/PT1S", ISODuration(nanoseconds=SECOND, repetitions=0)),
    ("R05/P1M", ISODuration(months=1, repetitions=5)),
    ("PT90M", ISODuration(nanoseconds=90 * MINUTE)),
]
# Each of these is read by dapr/kit, but not as it reads to a person (or not at all).
STRICT_ISO_NOT = [
    "PT5s", "pt5s", "PT", "P", "P1DT", "PT1.5S", "PT0,5S", "PT-5S", "P-1D", "PT1S1H", "PT1H1D",
    "P1DT1HT1M", "PT5S123", "R5", "R5/", "R/PT1S", "R-1/PT1S", "R+5/PT1S", " PT1S", "PT1S ",
    "PT1S\n", "PT\u0661S", "1s", "",
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), STRICT_ISO_VALID)
def test_strict_iso8601_reads_as_kit_does(text: str, expected: ISODuration) -> None:
    assert parse_strict_iso8601_duration(text) == expected
    assert parse_iso8601_duration(text) == expected  # the meaning daprd gives it


@pytest.mark.parametrize("text", STRICT_ISO_NOT)
def test_strict_iso8601_refuses_what_kit_reads_otherwise(text: str) -> None:
    assert parse_strict_iso8601_duration(text) is None


@pytest.mark.parametrize(
    "text", ["PT9223372037S", "P106752D", "P293Y", "R99999999999999999999/PT1S"]
)
def test_strict_iso8601_refuses_what_go_cannot_hold(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{text!r} is out of range")):
        parse_strict_iso8601_duration(text)
