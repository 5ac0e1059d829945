"""``self.reminders``, ``self.timers`` and ``cancel_recurrence`` (docs/protocol.md §4.7, §7.4, §7.5, §9,
P11–P14), end to end: the app and the dev sidecar over real HTTP (``ActorTestEnv``).

The app's ``SidecarClient`` records every request it sends, so the validation tests can show
that a bad argument never reaches the sidecar, and the cancellation tests can see the DELETE
the runtime sends on the handler's behalf.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import (
    Actor,
    ActorRuntime,
    SidecarClient,
    SidecarResponse,
    SidecarUnavailable,
    method,
    reminder,
    timer,
)
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app, poll_until

FAST = "50ms"  # period of the recurrences a test waits for


class Order(BaseModel):
    item: str
    quantity: int


class RecordingSidecar(SidecarClient):
    """The app's real sidecar client, which also records what it sends; it can be told to
    fail DELETEs as an unreachable sidecar would."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, bytes | None]] = []
        self.fail_deletes = False

    async def request(self, method: str, path: str, **options: Any) -> SidecarResponse:
        self.requests.append((method, path, options.get("body")))
        if self.fail_deletes and method == "DELETE":
            raise SidecarUnavailable(0, "ERR_SIDECAR_UNREACHABLE", "down", method=method, path=path)
        return await super().request(method, path, **options)

    def sent(self, method: str, suffix: str) -> list[bytes | None]:
        return [
            body for verb, path, body in self.requests if verb == method and path.endswith(suffix)
        ]


@dataclass
class Fleet:
    """One app: a runtime hosting ``ship``, its recording client and the handlers' journal."""

    app: FastAPI
    runtime: ActorRuntime
    sidecar: RecordingSidecar
    journal: list[tuple[str, str, Any]] = field(default_factory=list)

    def ship(self, actor_id: str) -> Actor:
        """An instance of ``ship`` made in the test, to call its reminder and timer APIs."""
        actor_type = self.runtime.actor_types["ship"]
        return actor_type.actor_class(actor_id, actor_type)

    def fired(self, what: str, actor_id: str = "1") -> list[Any]:
        return [data for kind, who, data in self.journal if (kind, who) == (what, actor_id)]


def make_fleet() -> Fleet:
    sidecar = RecordingSidecar()
    runtime = ActorRuntime(sidecar=sidecar)
    fleet = Fleet(make_app(runtime), runtime, sidecar)
    journal = fleet.journal

    @runtime.actor("ship")
    class Ship(Actor):
        def note(self, what: str, data: Any) -> int:
            journal.append((what, self.id, data))
            return len(fleet.fired(what, self.id))

        @method
        async def restock_soon(self, order: Order) -> None:
            await self.reminders.register("restock", due_time=timedelta(0), data=order)

        @method
        async def start_pulse(self, fires: int) -> None:
            await self.timers.register("pulse", period=FAST, data=fires)

        @method
        async def stop_from_a_method(self) -> None:
            self.cancel_recurrence()

        @reminder("restock")
        async def restock(self, data: Order) -> None:
            self.note("restock", data)

        @reminder("countdown")
        async def countdown(self, data: int) -> None:
            if self.note("countdown", data) == data:
                self.cancel_recurrence()

        @reminder("phoenix")
        async def phoenix(self, data: str) -> None:
            self.note("phoenix", data)
            self.cancel_recurrence()
            if data == "first":  # rises again under the same name: the last word wins
                await self.reminders.register("phoenix", due_time="1h", data="second")

        @reminder("faulty")
        async def faulty(self) -> None:
            self.cancel_recurrence()
            raise RuntimeError("the hyperdrive failed after cancelling")

        @reminder
        async def any_reminder(self, name: str, data: Any = None) -> None:
            self.note(name, data)

        @timer
        async def pulse(self, data: int) -> None:
            if self.note("pulse", data) == data:
                self.cancel_recurrence()

        @timer
        async def on_tick(self, name: str, data: Order) -> None:
            self.note(f"tick:{name}", data)

        @timer("beacon")
        async def beacon(self) -> None:
            self.note("beacon", None)

    return fleet


@pytest.fixture
def fleet() -> Fleet:
    return make_fleet()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, what: str, seconds: float = 5.0
) -> None:
    """``poll_until`` for conditions that need the sidecar."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.01)


async def let_sentinel_fire(fleet: Fleet, actor_id: str, kind: str) -> None:
    """Let a fresh recurrence with the same period fire three times: a stopped one that was
    still scheduled would have fired in that window too (a deadline, not a bare sleep)."""
    ship = fleet.ship(actor_id)
    if kind == "reminder":
        await ship.reminders.register("sentinel", period=FAST)
        await poll_until(lambda: len(fleet.fired("sentinel", actor_id)) >= 3, what="the sentinel")
        await ship.reminders.delete("sentinel")
    else:
        await ship.timers.register("sentinel", "beacon", period=FAST)
        await poll_until(lambda: len(fleet.fired("beacon", actor_id)) >= 3, what="the sentinel")
        await ship.timers.delete("sentinel")


# -- reminders ----------------------------------------------------------------------------------


async def test_reminder_register_get_delete(fleet: Fleet) -> None:
    order = Order(item="torpedo", quantity=2)
    async with ActorTestEnv(fleet.app):
        reminders = fleet.ship("1").reminders
        await reminders.register("later", due_time="1h", period="PT10M", ttl="PT2H", data=order)
        found = await reminders.get("later", Order)
        assert found is not None
        assert (found.name, found.due_time, found.period, found.ttl) == (
            "later",
            "1h",
            "PT10M",
            "PT2H",
        )
        assert found.data == order  # typed by data_type
        untyped = await reminders.get("later")
        assert untyped is not None
        assert untyped.data == {"item": "torpedo", "quantity": 2}
        await reminders.delete("later")
        assert await reminders.get("later") is None
        await reminders.delete("later")  # deleting what is gone is fine
    assert fleet.sidecar.sent("PUT", "/ship/1/reminders/later") == [
        b'{"dueTime":"1h","period":"PT10M","ttl":"PT2H","data":{"item":"torpedo","quantity":2}}'
    ]


async def test_reminder_fires_its_handler_with_typed_data(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app) as env:
        answer = await env.invoke_actor(
            "ship", "1", "restock_soon", {"item": "fuel", "quantity": 3}
        )
        assert answer.status == 200, answer.text
        await poll_until(lambda: fleet.fired("restock"), what="the reminder to fire")
    assert fleet.fired("restock") == [Order(item="fuel", quantity=3)]


async def test_reminder_names_are_quoted_in_the_url(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app):
        reminders = fleet.ship("a b").reminders
        await reminders.register("at 50%", due_time="1h")
        found = await reminders.get("at 50%")
        assert found is not None
        assert found.name == "at 50%"
    assert [path for _, path, _ in fleet.sidecar.requests] == [
        "/v1.0/actors/ship/a%20b/reminders/at%2050%25"
    ] * 2


# -- timers -------------------------------------------------------------------------------------


async def test_timer_fires_its_callback_with_typed_data(fleet: Fleet) -> None:
    order = Order(item="droid", quantity=1)
    async with ActorTestEnv(fleet.app):
        ship = fleet.ship("1")
        await ship.timers.register("by-function", ship.on_tick, data=order)  # type: ignore[attr-defined]
        await ship.timers.register("by-name", "on_tick", data=order)
        await poll_until(
            lambda: fleet.fired("tick:by-function") and fleet.fired("tick:by-name"),
            what="both timers to fire",
        )
    assert fleet.fired("tick:by-function") == fleet.fired("tick:by-name") == [order]
    assert fleet.sidecar.sent("PUT", "/timers/by-function") == [
        b'{"callback":"on_tick","data":{"item":"droid","quantity":1}}'
    ]


async def test_timer_callback_defaults_to_the_timer_of_its_name(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app):
        ship = fleet.ship("1")
        await ship.timers.register("beacon", due_time=timedelta(milliseconds=10))
        await poll_until(lambda: fleet.fired("beacon"), what="the beacon timer")
        await ship.timers.delete("beacon")
    assert fleet.sidecar.sent("PUT", "/timers/beacon") == [
        b'{"dueTime":"10ms","callback":"beacon"}'
    ]
    assert fleet.sidecar.sent("DELETE", "/timers/beacon") == [None]


async def test_timer_deleted_stops(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app):
        ship = fleet.ship("1")
        await ship.timers.register("pulse", period=FAST, data=1_000)
        await poll_until(lambda: fleet.fired("pulse"), what="the pulse")
        await ship.timers.delete("pulse")
        fired = len(fleet.fired("pulse"))
        await let_sentinel_fire(fleet, "1", "timer")
        # One delivery may have been in flight when the DELETE arrived.
        assert len(fleet.fired("pulse")) <= fired + 1


@pytest.mark.parametrize(
    ("callback", "message"),
    [
        ("nope", "has no @timer named 'nope'; its timer callbacks: ['beacon', 'on_tick', 'pulse']"),
        (None, "timer 'unnamed' has no callback= and actor type 'ship' has no @timer named"),
        ("restock", "has no @timer named 'restock'"),  # a reminder handler is not a timer
        (lambda: None, "is not a @timer handler of actor type 'ship'"),
        ("method:restock_soon", "is not a @timer handler of actor type 'ship'"),
    ],
)
async def test_timer_callback_must_be_a_timer_of_the_actor(
    fleet: Fleet, callback: Any, message: str
) -> None:
    ship = fleet.ship("1")
    if callback == "method:restock_soon":
        callback = ship.restock_soon  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=re.escape(message)):
        await ship.timers.register("unnamed", callback)
    assert fleet.sidecar.requests == []


async def test_timer_callback_of_the_wrong_type(fleet: Fleet) -> None:
    with pytest.raises(TypeError, match="callback must be a @timer handler or its name, got int 7"):
        await fleet.ship("1").timers.register("pulse", 7)  # type: ignore[arg-type]
    assert fleet.sidecar.requests == []


# -- time values --------------------------------------------------------------------------------

IN_AN_HOUR = datetime.now(UTC) + timedelta(hours=1)
TOMORROW_IN_PARIS = datetime.now(timezone(timedelta(hours=2))) + timedelta(days=1)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


# (keyword arguments, what goes on the wire): every form, for reminders (which refuse calendar
# periods) and timers alike unless marked.
ACCEPTED = [
    ({"due_time": timedelta(minutes=90)}, {"dueTime": "1h30m0s"}),
    ({"due_time": timedelta(milliseconds=1500)}, {"dueTime": "1.5s"}),
    ({"due_time": IN_AN_HOUR}, {"dueTime": rfc3339(IN_AN_HOUR)}),
    ({"due_time": TOMORROW_IN_PARIS}, {"dueTime": rfc3339(TOMORROW_IN_PARIS)}),
    ({"due_time": "2h"}, {"dueTime": "2h"}),
    ({"due_time": "1h30m"}, {"dueTime": "1h30m"}),
    ({"due_time": "PT1H"}, {"dueTime": "PT1H"}),
    ({"due_time": "P1DT2H"}, {"dueTime": "P1DT2H"}),
    ({"due_time": "2099-01-01T00:00:00Z"}, {"dueTime": "2099-01-01T00:00:00Z"}),
    ({"due_time": "2099-01-01T00:00:00.5+02:00"}, {"dueTime": "2099-01-01T00:00:00.5+02:00"}),
    ({"due_time": "1h", "period": timedelta(hours=24)}, {"dueTime": "1h", "period": "24h0m0s"}),
    ({"due_time": "1h", "period": "90m"}, {"dueTime": "1h", "period": "90m"}),
    ({"due_time": "1h", "period": "PT24H"}, {"dueTime": "1h", "period": "PT24H"}),
    ({"due_time": "1h", "period": "R5/PT1M"}, {"dueTime": "1h", "period": "R5/PT1M"}),
    (
        {"due_time": "1h", "period": timedelta(minutes=1), "repetitions": 5},
        {"dueTime": "1h", "period": "R5/PT1M"},
    ),
    (
        {"due_time": "1h", "period": "90s", "repetitions": 2},
        {"dueTime": "1h", "period": "R2/PT1M30S"},
    ),
    (
        {"due_time": "1h", "period": "PT1H", "repetitions": 3},
        {"dueTime": "1h", "period": "R3/PT1H"},
    ),
    (
        {"due_time": "1h", "period": "1h", "ttl": timedelta(hours=5)},
        {"dueTime": "1h", "period": "1h", "ttl": "5h0m0s"},
    ),
    (
        {"due_time": "1h", "period": "1h", "ttl": "PT5H"},
        {"dueTime": "1h", "period": "1h", "ttl": "PT5H"},
    ),
    (
        {"due_time": "1h", "period": "1h", "ttl": IN_AN_HOUR + timedelta(days=2)},
        {"dueTime": "1h", "period": "1h", "ttl": rfc3339(IN_AN_HOUR + timedelta(days=2))},
    ),
]
TIMERS_ONLY = [
    ({"due_time": "1h", "period": "P1D"}, {"dueTime": "1h", "period": "P1D"}),
    ({"due_time": "1h", "period": "R3/P1W"}, {"dueTime": "1h", "period": "R3/P1W"}),
    ({"due_time": "1h", "period": "P1M", "repetitions": 2}, {"dueTime": "1h", "period": "R2/P1M"}),
    ({"due_time": "1h", "ttl": "2h"}, {"dueTime": "1h", "ttl": "2h"}),  # a one-shot timer's ttl
]


async def test_every_accepted_time_form_is_taken_by_the_sidecar(fleet: Fleet) -> None:
    """Each form goes out as written in ACCEPTED, and the dev sidecar (daprd's parsers, §9)
    accepts it."""
    async with ActorTestEnv(fleet.app):
        ship = fleet.ship("1")
        for index, (options, wire) in enumerate(ACCEPTED):
            await ship.reminders.register(f"r{index}", **options)
            found = await ship.reminders.get(f"r{index}")
            assert found is not None
            assert (found.due_time, found.period, found.ttl) == (
                wire.get("dueTime"),
                wire.get("period"),
                wire.get("ttl"),
            ), options
        for index, (options, wire) in enumerate(ACCEPTED + TIMERS_ONLY):
            await ship.timers.register(f"t{index}", "beacon", **options)
            assert fleet.sidecar.sent("PUT", f"/timers/t{index}") == [
                _body({**wire, "callback": "beacon"})
            ], options


def _body(fields: dict[str, str]) -> bytes:
    order = ("dueTime", "period", "ttl", "callback", "data")
    return (
        "{" + ",".join(f'"{key}":"{fields[key]}"' for key in order if key in fields) + "}"
    ).encode()


# (keyword arguments, error type, text the message must contain): nothing reaches the sidecar.
REJECTED: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"due_time": "soon"}, ValueError, "due_time='soon' is not valid: use a timedelta"),
    ({"due_time": "-1s"}, ValueError, "due_time='-1s' is too short"),
    (
        {"due_time": timedelta(seconds=-1)},
        ValueError,
        "due_time=datetime.timedelta(days=-1, seconds=86399) is too short",
    ),
    ({"due_time": "R5/PT1S"}, ValueError, "due_time='R5/PT1S' has repetitions"),
    ({"due_time": "PT5s"}, ValueError, "due_time='PT5s' is not valid"),  # daprd: zero!
    ({"due_time": "PT1.5S"}, ValueError, "due_time='PT1.5S' is not valid"),
    ({"due_time": "P1DT"}, ValueError, "due_time='P1DT' is not valid"),
    ({"due_time": "1d"}, ValueError, "due_time='1d' is not valid"),
    (
        {"due_time": "2030-01-01T00:00:00"},
        ValueError,
        "due_time='2030-01-01T00:00:00' is not valid",
    ),
    (
        {"due_time": "2030-02-30T00:00:00Z"},
        ValueError,
        "due_time='2030-02-30T00:00:00Z' is not a valid RFC 3339 time",
    ),
    (
        {"due_time": datetime(2030, 1, 1)},
        ValueError,
        "due_time=datetime.datetime(2030, 1, 1, 0, 0) has no timezone",
    ),
    (
        {"due_time": 5},
        TypeError,
        "due_time must be a timedelta, a timezone-aware datetime, a Go duration such as '30s' or '1h30m', an ISO 8601 duration such as 'PT30S', or an RFC 3339 time such as '2030-01-01T00:00:00Z'; got int 5",
    ),
    ({"due_time": 1.5}, TypeError, "got float 1.5"),
    ({"due_time": date(2030, 1, 1)}, TypeError, "got date datetime.date(2030, 1, 1)"),
    ({"due_time": "P" + "9" * 30 + "D"}, ValueError, "is out of range"),
    (
        {"period": "P1D"},
        ValueError,
        "period='P1D' uses years, months, weeks or days, which daprd does not accept in a reminder period (they are not a fixed length); use hours, e.g. 'PT24H'",
    ),
    ({"period": "P1W"}, ValueError, "period='P1W' uses years, months, weeks or days"),
    ({"period": "P1M"}, ValueError, "period='P1M' uses years"),
    ({"period": "R5/P1Y"}, ValueError, "period='R5/P1Y' uses years"),
    ({"period": "P1DT1H"}, ValueError, "'PT24H'"),
    ({"period": "R0/PT1S"}, ValueError, "period='R0/PT1S' repeats zero times"),
    ({"period": "PT0S"}, ValueError, "period='PT0S' is zero"),
    ({"period": "0s"}, ValueError, "period='0s' is too short: it must be longer than zero"),
    ({"period": timedelta(0)}, ValueError, "period=datetime.timedelta(0) is too short"),
    ({"period": "-5s"}, ValueError, "period='-5s' is too short"),
    (
        {"period": "every minute"},
        ValueError,
        "period='every minute' is not valid: use a timedelta, a Go duration",
    ),
    ({"period": "R5"}, ValueError, "period='R5' is not valid"),
    (
        {"period": IN_AN_HOUR},
        TypeError,
        f"period is a length of time, not an instant: got datetime {IN_AN_HOUR!r}",
    ),
    (
        {"period": 10},
        TypeError,
        "period must be a timedelta, a Go duration such as '10s' or '1h30m', or an ISO 8601 duration such as 'PT10S' ('R5/PT10S' fires 5 times); got int 10",
    ),
    (
        {"period": "R5/PT1S", "repetitions": 2},
        ValueError,
        "period='R5/PT1S' already says how often it repeats",
    ),
    ({"period": "1s", "repetitions": 0}, ValueError, "repetitions=0 must be at least 1"),
    (
        {"period": "1s", "repetitions": True},
        TypeError,
        "repetitions must be an int of at least 1, got True",
    ),
    ({"period": "1.5s", "repetitions": 3}, ValueError, "period='1.5s' has a fraction of a second"),
    (
        {"due_time": "1s", "repetitions": 3},
        ValueError,
        "reminder 'r': repetitions=3 needs a period",
    ),
    (
        {"period": "1s", "ttl": "0s"},
        ValueError,
        "ttl='0s' is too short: it must be longer than zero",
    ),
    ({"period": "1s", "ttl": "R2/PT1S"}, ValueError, "ttl='R2/PT1S' has repetitions"),
    (
        {"period": "1s", "ttl": datetime(2030, 1, 1)},
        ValueError,
        "ttl=datetime.datetime(2030, 1, 1, 0, 0) has no timezone",
    ),
    ({"due_time": "1s", "ttl": "1h"}, ValueError, "reminder 'r': ttl='1h' needs a period"),
    ({}, ValueError, "reminder 'r' needs a due_time or a period"),
    (
        {"due_time": "1s", "data": object()},
        TypeError,
        "data of reminder 'r' is not JSON-serializable (object)",
    ),
    (
        {"due_time": "1s", "data": {"x": float("nan")}},
        ValueError,
        "data of reminder 'r' contains NaN, which JSON cannot carry; use None or a string",
    ),
]


@pytest.mark.parametrize(("options", "error", "message"), REJECTED)
async def test_invalid_reminder_arguments_never_reach_the_sidecar(
    fleet: Fleet, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        await fleet.ship("1").reminders.register("r", **options)
    assert fleet.sidecar.requests == []


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"period": "P1D", "due_time": "soon"}, ValueError, "due_time='soon' is not valid"),
        ({"period": "R0/P1D"}, ValueError, "period='R0/P1D' repeats zero times"),
        ({"period": "PT0S"}, ValueError, "period='PT0S' is zero"),
        ({"ttl": "0s"}, ValueError, "ttl='0s' is too short"),
        ({"repetitions": 2}, ValueError, "timer 'beacon': repetitions=2 needs a period"),
        ({"data": object()}, TypeError, "data of timer 'beacon' is not JSON-serializable"),
    ],
)
async def test_invalid_timer_arguments_never_reach_the_sidecar(
    fleet: Fleet, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        await fleet.ship("1").timers.register("beacon", **options)
    assert fleet.sidecar.requests == []


@pytest.mark.parametrize("name", ["", "a/b", "a#b", "what?", "tab\t", ".", ".."])
async def test_invalid_names_never_reach_the_sidecar(fleet: Fleet, name: str) -> None:
    ship = fleet.ship("1")
    message = f"name {name!r} is not valid"
    with pytest.raises(ValueError, match=re.escape(f"reminder {message}")):
        await ship.reminders.register(name, due_time="1s")
    with pytest.raises(ValueError, match=re.escape(f"reminder {message}")):
        await ship.reminders.get(name)
    with pytest.raises(ValueError, match=re.escape(f"timer {message}")):
        await ship.timers.delete(name)
    with pytest.raises(TypeError, match="timer name must be a str, got int 5"):
        await ship.timers.register(5, "beacon")  # type: ignore[arg-type]
    assert fleet.sidecar.requests == []


# -- cancelling from the handler (P14) ----------------------------------------------------------


async def test_self_cancelling_reminder_fires_exactly_n_times_and_is_gone(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app):
        reminders = fleet.ship("1").reminders
        await reminders.register("countdown", period=FAST, data=3)
        await poll_until(lambda: len(fleet.fired("countdown")) >= 3, what="three fires")
        await eventually(
            lambda: _is_none(reminders.get("countdown")), what="the reminder to be deleted"
        )
        await let_sentinel_fire(fleet, "1", "reminder")
    assert fleet.fired("countdown") == [3, 3, 3]
    # The runtime deleted it through the API (daprd ignores the header for that, §4.7).
    assert fleet.sidecar.sent("DELETE", "/ship/1/reminders/countdown") == [None]


async def _is_none(lookup: Awaitable[Any]) -> bool:
    return await lookup is None


async def test_self_cancelling_timer_stops(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app) as env:
        answer = await env.invoke_actor("ship", "1", "start_pulse", {"fires": 4})
        assert answer.status == 200, answer.text
        await poll_until(lambda: len(fleet.fired("pulse")) >= 4, what="four pulses")
        await let_sentinel_fire(fleet, "1", "timer")
    assert fleet.fired("pulse") == [4, 4, 4, 4]
    assert fleet.sidecar.sent("DELETE", "/ship/1/timers/pulse") == [None]


async def call_app(env: ActorTestEnv, path: str, body: bytes) -> tuple[int, str | None, Any]:
    """Call the app as daprd does: the status, the X-DaprReminderCancel header and the JSON."""
    async with (
        aiohttp.ClientSession(env.app_url) as http,
        http.put(path, data=body, headers={"Content-Type": "application/json"}) as answer,
    ):
        text = await answer.text()
        return answer.status, answer.headers.get("X-DaprReminderCancel"), text and json.loads(text)


async def callback(env: ActorTestEnv, path: str, body: bytes) -> tuple[int, str | None]:
    """A reminder or timer callback: the status and the X-DaprReminderCancel header."""
    status, cancel, _ = await call_app(env, path, body)
    return status, cancel


async def test_the_cancel_answer_on_the_wire(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app) as env:
        reminder_body = b'{"data":1,"dueTime":"","period":""}'  # what daprd sends (§4.2)
        timer_body = b'{"data":1,"callback":"pulse","dueTime":"0s","period":"1s"}'
        assert await callback(env, "/actors/ship/7/method/remind/countdown", reminder_body) == (
            200,
            "true",
        )
        assert await callback(env, "/actors/ship/7/method/timer/heartbeat", timer_body) == (
            200,
            "true",
        )
        reminder_body = b'{"data":5,"dueTime":"","period":""}'  # not yet
        assert await callback(env, "/actors/ship/8/method/remind/countdown", reminder_body) == (
            200,
            None,
        )
    assert [(verb, path) for verb, path, _ in fleet.sidecar.requests] == [
        ("DELETE", "/v1.0/actors/ship/7/reminders/countdown"),
        ("DELETE", "/v1.0/actors/ship/7/timers/heartbeat"),
    ]


async def test_a_failed_handler_cancels_nothing(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app) as env:
        status, cancel = await callback(env, "/actors/ship/1/method/remind/faulty", b"{}")
    assert (status, cancel) == (500, None)
    assert fleet.sidecar.requests == []


async def test_a_failed_delete_is_logged_and_the_header_still_sent(
    fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    async with ActorTestEnv(fleet.app) as env:
        fleet.sidecar.fail_deletes = True
        with caplog.at_level(logging.ERROR, logger="dapr_actors_fastapi"):
            answer = await callback(env, "/actors/ship/1/method/remind/countdown", b'{"data":1}')
    assert answer == (200, "true")
    assert "reminder 'countdown' of ship/1 cancelled itself, but deleting it failed" in caplog.text


async def test_registering_the_same_name_after_cancelling_keeps_the_new_one(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app):
        reminders = fleet.ship("1").reminders
        await reminders.register("phoenix", due_time="0s", data="first")
        await poll_until(lambda: fleet.fired("phoenix"), what="the first fire")
        await eventually(
            lambda: _has_data(reminders.get("phoenix"), "second"), what="the new registration"
        )
    assert fleet.sidecar.sent("DELETE", "/reminders/phoenix") == []


async def _has_data(lookup: Awaitable[Any], data: Any) -> bool:
    found = await lookup
    return found is not None and found.data == data


async def test_cancel_recurrence_in_a_method_is_an_error(fleet: Fleet) -> None:
    async with ActorTestEnv(fleet.app) as env:
        status, cancel, error = await call_app(env, "/actors/ship/1/method/stop_from_a_method", b"")
    assert (status, cancel, error["type"]) == (500, None, "RuntimeError")
    assert error["message"].startswith(
        "cancel_recurrence() ran in the method turn 'stop_from_a_method' of ship/1; only a "
        "@reminder or @timer handler can stop the recurrence that fired it"
    )


def test_cancel_recurrence_outside_a_turn_is_an_error(fleet: Fleet) -> None:
    with pytest.raises(
        RuntimeError, match=re.escape("cancel_recurrence() of ship/1 ran outside any actor turn")
    ):
        fleet.ship("1").cancel_recurrence()
