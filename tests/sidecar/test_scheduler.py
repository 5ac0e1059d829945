"""Reminders and timers through the dev sidecar, against a recording app on a real port.

The recording app answers daprd's callbacks itself, so each test sees the exact wire bodies
(P11) and can answer with failures or ``X-DaprReminderCancel`` (P14).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from fastapi import FastAPI, Request, Response

from dapr_actors_fastapi import Actor, ActorRuntime, reminder
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.sidecar.store import StateStore

from ..helpers import make_app, poll_until, serve


class Recorder:
    """A hand-written actor app: records callbacks; answers as each test tells it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.failures_left = 0
        self.cancel_after: int | None = None
        self.idle_timeout = "1h"
        self.hold: asyncio.Event | None = None  # when set, method calls wait for it
        self.park_callbacks = False  # when true, callbacks never answer (see ``callback``)
        self.app = FastAPI()
        self.app.add_api_route("/dapr/config", self.config, methods=["GET"])
        self.app.add_api_route(
            "/actors/{actor_type}/{actor_id}/method/{name}", self.method, methods=["PUT"]
        )
        self.app.add_api_route(
            "/actors/{actor_type}/{actor_id}/method/{kind}/{name}", self.callback, methods=["PUT"]
        )
        self.app.add_api_route(
            "/actors/{actor_type}/{actor_id}", self.deactivate, methods=["DELETE"]
        )

    async def config(self) -> dict[str, Any]:
        return {
            "entities": ["robot"],
            "actorScanInterval": "50ms",
            "actorIdleTimeout": self.idle_timeout,
        }

    async def method(self, actor_id: str, name: str) -> Response:
        self.calls.append((f"method {actor_id} {name}", None))
        if self.hold is not None:
            await asyncio.wait_for(self.hold.wait(), 10)
        return Response(status_code=200)

    async def callback(self, request: Request, actor_id: str, kind: str, name: str) -> Response:
        body = await request.body()
        if self.park_callbacks:
            # Neither record nor answer: wait until the sidecar drops the delivery (it does
            # when it stops), so that no delivery is completed.
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=503)
        self.calls.append((f"{kind} {actor_id} {name}", json.loads(body) if body else None))
        if self.failures_left > 0:
            self.failures_left -= 1
            return Response("not now", status_code=500)
        if self.cancel_after is not None and len(self.fired(name)) >= self.cancel_after:
            return Response(status_code=200, headers={"X-DaprReminderCancel": "true"})
        return Response(status_code=200)

    async def deactivate(self, actor_id: str) -> Response:
        self.calls.append((f"deactivate {actor_id}", None))
        return Response(status_code=200)

    def fired(self, name: str) -> list[Any]:
        return [body for what, body in self.calls if what.endswith(f" {name}")]


@contextlib.asynccontextmanager
async def sidecar_for(app: FastAPI, **settings: Any) -> AsyncIterator[aiohttp.ClientSession]:
    async with serve(app) as app_url:
        options = {"state_db": ":memory:", "reminder_retry_interval": 0.05, **settings}
        async with (
            serve(create_app(SidecarSettings(app_url=app_url, **options))) as url,
            aiohttp.ClientSession(url) as http,
        ):
            yield http


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def put(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    async with http.put(path, json=body) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def test_reminder_fires_with_the_registered_strings(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        registration = {"data": {"b": [1, 2], "a": "<x>"}, "dueTime": "0h0m0s10ms", "period": ""}
        assert await put(http, "/v1.0/actors/robot/1/reminders/wake", registration) == (204, None)
        await poll_until(lambda: recorder.fired("wake"), what="the reminder to fire")
    assert recorder.calls == [
        (
            "remind 1 wake",
            {"data": {"a": "<x>", "b": [1, 2]}, "dueTime": "0h0m0s10ms", "period": ""},
        )
    ]


async def test_reminder_without_data_omits_the_key(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        await put(http, "/v1.0/actors/robot/1/reminders/bare", {"dueTime": "0s"})
        await poll_until(lambda: recorder.fired("bare"), what="the reminder to fire")
    assert recorder.fired("bare") == [{"dueTime": "0s", "period": ""}]


async def until_gone(http: aiohttp.ClientSession, path: str) -> None:
    """Poll GET ``path`` until the sidecar no longer knows the reminder (with a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        async with http.get(path) as response:
            if response.status == 404:
                return
        await asyncio.sleep(0.02)  # the poll interval of a poll with a deadline
    raise AssertionError(f"{path} still exists after 10 s")


async def test_rn_repetitions_fire_exactly_n_times(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        registration = {"dueTime": "0s", "period": "R3/PT1S"}  # ISO allows whole seconds only
        assert (await put(http, "/v1.0/actors/robot/1/reminders/thrice", registration))[0] == 204
        # The reminder is deleted after its last fire, so once it is gone no fire can follow.
        await until_gone(http, "/v1.0/actors/robot/1/reminders/thrice")
    assert len(recorder.fired("thrice")) == 3


async def test_reminders_due_one_after_another_fire_in_due_order_each_once(
    recorder: Recorder,
) -> None:
    names = [f"r{n:02}" for n in range(40)]
    async with sidecar_for(recorder.app) as http:
        # One actor, so the app sees the fires in the order the sidecar started them: each is
        # due 25 ms after the one registered before it.
        for n, name in enumerate(names):
            registration = {"dueTime": f"{300 + 25 * n}ms"}
            assert (await put(http, f"/v1.0/actors/robot/1/reminders/{name}", registration))[
                0
            ] == 204
        await until_gone(http, f"/v1.0/actors/robot/1/reminders/{names[-1]}")
    assert [what for what, _ in recorder.calls] == [f"remind 1 {name}" for name in names]


async def test_the_progress_of_many_reminders_is_saved_and_none_is_lost(
    recorder: Recorder, tmp_path: Path
) -> None:
    database = tmp_path / "state.db"
    robots = [str(n) for n in range(30)]

    def stored_remaining() -> list[int]:
        with contextlib.closing(sqlite3.connect(database)) as db:
            return [row[0] for row in db.execute("SELECT remaining FROM reminders")]

    async with sidecar_for(recorder.app, state_db=str(database)) as http:
        for robot in robots:  # their first fires end together: their progress is saved together
            path = f"/v1.0/actors/robot/{robot}/reminders/thrice"
            assert (await put(http, path, {"dueTime": "0s", "period": "R3/PT1S"}))[0] == 204
        await poll_until(
            lambda: stored_remaining() == [2] * len(robots),
            what="every reminder's progress after its first fire to be stored",
        )
        for robot in robots:
            await until_gone(http, f"/v1.0/actors/robot/{robot}/reminders/thrice")
    assert Counter(what for what, _ in recorder.calls) == {
        f"remind {robot} thrice": 3 for robot in robots
    }
    assert stored_remaining() == []


async def test_failed_deliveries_are_retried_four_times_in_all(recorder: Recorder) -> None:
    recorder.failures_left = 10
    async with sidecar_for(recorder.app) as http:
        await put(http, "/v1.0/actors/robot/1/reminders/stubborn", {"dueTime": "0s"})
        # One-shot: gone after its last attempt, so no fifth can follow.
        await until_gone(http, "/v1.0/actors/robot/1/reminders/stubborn")
    assert len(recorder.fired("stubborn")) == 4


async def test_a_retry_that_succeeds_stops_retrying(recorder: Recorder) -> None:
    recorder.failures_left = 2
    async with sidecar_for(recorder.app) as http:
        await put(http, "/v1.0/actors/robot/1/reminders/flaky", {"dueTime": "0s"})
        await until_gone(http, "/v1.0/actors/robot/1/reminders/flaky")
    assert len(recorder.fired("flaky")) == 3


async def test_cancel_header_stops_a_recurring_reminder(recorder: Recorder) -> None:
    recorder.cancel_after = 2
    async with sidecar_for(recorder.app) as http:
        assert (await put(http, "/v1.0/actors/robot/1/reminders/tick", {"period": "50ms"}))[
            0
        ] == 204
        await until_gone(http, "/v1.0/actors/robot/1/reminders/tick")
    assert len(recorder.fired("tick")) == 2


async def test_get_returns_the_reminder_as_registered(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        body = {"data": "0", "dueTime": "1h", "period": "5s", "ttl": "2h"}
        assert (await put(http, "/v1.0/actors/robot/50/reminders/checkRebels", body))[0] == 204
        async with http.get("/v1.0/actors/robot/50/reminders/checkRebels") as response:
            assert (response.status, await response.json()) == (
                200,
                {
                    "actorID": "50",
                    "actorType": "robot",
                    "data": "0",
                    "dueTime": "1h",
                    "period": "5s",
                    "ttl": "2h",
                },
            )
        async with http.delete("/v1.0/actors/robot/50/reminders/checkRebels") as response:
            assert response.status == 204
        async with http.get("/v1.0/actors/robot/50/reminders/checkRebels") as response:
            assert (response.status, await response.json()) == (
                404,
                {
                    "errorCode": "ERR_ACTOR_REMINDER_NOT_FOUND",
                    "message": "actor reminder not found: checkRebels",
                },
            )


async def test_overwrite_false_refuses_an_existing_reminder(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        first = {"dueTime": "1h"}
        assert (await put(http, "/v1.0/actors/robot/1/reminders/once", first))[0] == 204
        status, body = await put(
            http, "/v1.0/actors/robot/1/reminders/once", {"dueTime": "1h", "overwrite": False}
        )
        assert (status, body["errorCode"]) == (409, "ERR_ACTOR_REMINDER_ALREADY_EXISTS")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"dueTime": "soon"}, "'soon'"),
        ({"period": "P1D"}, "P1D"),
        ({"period": "1d"}, "'1d'"),
        ({"dueTime": "R2/PT1S"}, "repeats not supported"),
        ({"dueTime": "1s", "ttl": "1h"}, "needs a period"),
        ({}, "dueTime or a period"),
        ({"dueTime": 5}, "must be a string"),
        ({"period": "0s"}, "longer than zero"),
    ],
)
async def test_invalid_reminders_are_400_naming_the_value(
    recorder: Recorder, body: dict[str, Any], named: str
) -> None:
    async with sidecar_for(recorder.app) as http:
        status, error = await put(http, "/v1.0/actors/robot/1/reminders/bad", body)
        assert status == 400
        assert named in error["message"]
        async with http.get("/v1.0/actors/robot/1/reminders/bad") as response:
            assert response.status == 404  # nothing half-registered


async def test_reminders_of_unhosted_types_are_403(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        status, error = await put(http, "/v1.0/actors/ghost/1/reminders/r", {"dueTime": "1s"})
        assert (status, error["errorCode"]) == (403, "ERR_ACTOR_REMINDER_NON_HOSTED")


async def test_reminders_survive_a_sidecar_restart(recorder: Recorder, tmp_path: Path) -> None:
    database = str(tmp_path / "state.db")
    # The first sidecar must not complete a delivery: its shutdown can take longer than the
    # due time (under CPU contention it does), so a fire before the restart is parked until
    # the sidecar drops it, and must then be redelivered after the restart.
    recorder.park_callbacks = True
    async with sidecar_for(recorder.app, state_db=database) as http:
        await put(http, "/v1.0/actors/robot/1/reminders/later", {"dueTime": "300ms", "data": 7})
    recorder.park_callbacks = False
    assert recorder.fired("later") == []
    async with sidecar_for(recorder.app, state_db=database) as http:
        await until_gone(http, "/v1.0/actors/robot/1/reminders/later")
    assert recorder.fired("later") == [{"data": 7, "dueTime": "300ms", "period": ""}]


# -- timers -------------------------------------------------------------------------------------


async def test_timer_callback_body_is_exactly_as_registered(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        body = {"dueTime": "0s", "period": "R2/PT1S", "data": "hello", "callback": "cb"}
        assert (await put(http, "/v1.0/actors/robot/1/timers/t", body))[0] == 204
        await poll_until(lambda: len(recorder.fired("t")) == 2, what="two timer fires")
    assert (
        recorder.fired("t")
        == [{"data": "hello", "callback": "cb", "dueTime": "0s", "period": "R2/PT1S"}] * 2
    )


async def test_one_shot_timer_and_delete(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        await put(http, "/v1.0/actors/robot/1/timers/once", {"dueTime": "10ms"})
        await put(http, "/v1.0/actors/robot/1/timers/never", {"dueTime": "1h"})
        async with http.delete("/v1.0/actors/robot/1/timers/never") as response:
            assert response.status == 204
        async with http.delete("/v1.0/actors/robot/1/timers/absent") as response:
            assert response.status == 204
        await poll_until(lambda: recorder.fired("once"), what="the one-shot timer")
    assert recorder.fired("once") == [{"callback": "", "dueTime": "10ms", "period": ""}]


async def test_failed_timers_are_not_retried(recorder: Recorder) -> None:
    recorder.failures_left = 1
    async with sidecar_for(recorder.app) as http:
        await put(http, "/v1.0/actors/robot/1/timers/t", {"dueTime": "0s"})
        await put(http, "/v1.0/actors/robot/1/reminders/after", {"dueTime": "200ms"})
        await poll_until(lambda: recorder.fired("after"), what="a later reminder")
    assert len(recorder.fired("t")) == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"dueTime": "R2/PT1S"}, "repetitions are not allowed"),
        ({"period": "R0/PT1S"}, "zero repetitions"),
        ({"period": "every second"}, "'every second'"),
        ({"dueTime": "1s", "ttl": "0s"}, "already expired"),
        ({"period": "-1s"}, "'-1s' must be longer than zero"),
        ({"period": "P-1D"}, "'P-1D' must be longer than zero"),
        ({"period": "P99999Y"}, "'P99999Y' is out of range"),
        ({"dueTime": "P99999Y"}, "'P99999Y' is out of range"),
    ],
)
async def test_invalid_timers_are_400_naming_the_value(
    recorder: Recorder, body: dict[str, Any], named: str
) -> None:
    async with sidecar_for(recorder.app) as http:
        status, error = await put(http, "/v1.0/actors/robot/1/timers/bad", body)
        assert (status, error["errorCode"]) == (400, "ERR_ACTOR_TIMER_CREATE")
        assert named in error["message"]


async def test_deactivation_stops_the_actors_timers(recorder: Recorder) -> None:
    recorder.idle_timeout = "100ms"
    recorder.hold = asyncio.Event()
    async with sidecar_for(recorder.app) as http:
        # Register the timer while the actor's turn is held, as an actor does in a method:
        # otherwise the idle actor may be deactivated before the timer exists, and a timer
        # registered after its deactivation is not dropped by it.
        wake = asyncio.ensure_future(http.put("/v1.0/actors/robot/1/method/wake"))
        try:
            await poll_until(lambda: recorder.fired("wake"), what="the wake call to hold the turn")
            await put(http, "/v1.0/actors/robot/1/timers/t", {"dueTime": "1s"})
        finally:
            recorder.hold.set()
        async with await wake as response:
            assert response.status == 200
        await poll_until(lambda: ("deactivate 1", None) in recorder.calls, what="deactivation")
        # A reminder due after the timer would have fired: once it has fired, the timer is
        # known to be gone, not late.
        await put(http, "/v1.0/actors/robot/1/reminders/sentinel", {"dueTime": "1s"})
        await poll_until(lambda: recorder.fired("sentinel"), what="the sentinel reminder")
    assert recorder.fired("t") == []


async def test_timers_of_unhosted_types_are_refused(recorder: Recorder) -> None:
    async with sidecar_for(recorder.app) as http:
        status, error = await put(http, "/v1.0/actors/ghost/1/timers/t", {"dueTime": "1s"})
        assert (status, error["errorCode"]) == (500, "ERR_ACTOR_TIMER_CREATE")


async def test_typed_reminder_handler_on_the_runtime() -> None:
    received: list[dict[str, int]] = []
    runtime = ActorRuntime()

    @runtime.actor("robot")
    class Robot(Actor):
        @reminder("charge")
        async def charge(self, data: dict[str, int]) -> None:
            received.append(data)

    async with sidecar_for(make_app(runtime)) as http:
        await put(
            http, "/v1.0/actors/robot/1/reminders/charge", {"dueTime": "0s", "data": {"v": 5}}
        )
        await poll_until(lambda: received, what="the typed reminder")
    assert received == [{"v": 5}]


async def test_a_timer_period_of_millions_of_days_fires_and_fails_nothing(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    async with sidecar_for(recorder.app) as http:
        body = {"dueTime": "0s", "period": "P2000000D"}  # the next fire in ~5,500 years
        assert (await put(http, "/v1.0/actors/robot/1/timers/slow", body))[0] == 204
        await poll_until(lambda: recorder.fired("slow"), what="the timer's first fire")
        # A reminder registered now fires after the timer's first delivery has been settled.
        await put(http, "/v1.0/actors/robot/1/reminders/sentinel", {"dueTime": "0s"})
        await poll_until(lambda: recorder.fired("sentinel"), what="the sentinel reminder")
    gc.collect()  # a task that died with an exception says so when it is collected
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(recorder.fired("slow")) == 1


async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A hand-written actor app that answers reminder ``garbled`` with bytes that are not HTTP,
    and everything else properly."""
    try:
        while request := await reader.readuntil(b"\r\n\r\n"):
            head = request.decode("latin-1")
            length = next(
                (
                    int(line.split(":", 1)[1])
                    for line in head.split("\r\n")
                    if line.lower().startswith("content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            if "/remind/garbled " in head:
                writer.write(b"this is not HTTP\r\n\r\n")
                await writer.drain()
                break
            body = b'{"entities":["robot"]}' if "/dapr/config " in head else b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def test_an_answer_that_is_not_http_fails_the_delivery_and_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await asyncio.start_server(not_http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = SidecarSettings(
        app_url=f"http://127.0.0.1:{port}", state_db=":memory:", reminder_retry_interval=0.05
    )
    try:
        async with (
            serve(create_app(settings)) as url,
            aiohttp.ClientSession(url) as http,
        ):
            await put(http, "/v1.0/actors/robot/1/reminders/garbled", {"dueTime": "0s"})
            await put(http, "/v1.0/actors/robot/1/reminders/fine", {"dueTime": "0s"})
            # Retried as any failed delivery, then gone like any one-shot reminder.
            await until_gone(http, "/v1.0/actors/robot/1/reminders/garbled")
            await until_gone(http, "/v1.0/actors/robot/1/reminders/fine")
    finally:
        server.close()
        await server.wait_closed()
    failures = [r.getMessage() for r in caplog.records if "garbled failed" in r.getMessage()]
    assert len(failures) == 4, failures


def refusing_store(path: Path) -> str:
    """A state file whose reminders table refuses, as a full or broken disk would, to delete
    any row, to insert the reminder named ``refused``, and to store the progress of the
    reminder named ``unsaved``."""
    StateStore(path).close()  # the tables
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TRIGGER no_delete BEFORE DELETE ON reminders "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;"
            "CREATE TRIGGER no_insert BEFORE INSERT ON reminders WHEN NEW.name = 'refused' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;"
            "CREATE TRIGGER no_progress BEFORE INSERT ON reminders WHEN NEW.name = 'unsaved' "
            "AND EXISTS (SELECT 1 FROM reminders WHERE name = 'unsaved') "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;"
        )
    return str(path)


async def test_a_store_that_refuses_a_reminder_change_is_a_dapr_error_and_logged_once(
    recorder: Recorder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.cancel_after = 1
    reminders = "/v1.0/actors/robot/1/reminders"
    async with sidecar_for(recorder.app, state_db=refusing_store(tmp_path / "state.db")) as http:
        # The handler cancels the reminder; its stored record cannot be deleted. The reminder
        # ends all the same, and the log says once why it comes back after a restart.
        assert await put(http, f"{reminders}/once", {"dueTime": "0s", "period": "1h"}) == (
            204,
            None,
        )
        await until_gone(http, f"{reminders}/once")

        # Through the API, the store's refusal is daprd's error, and the reminder stays.
        assert await put(http, f"{reminders}/kept", {"dueTime": "1h"}) == (204, None)
        async with http.delete(f"{reminders}/kept") as response:
            assert response.status == 500
            assert await response.json() == {
                "errorCode": "ERR_ACTOR_REMINDER_DELETE",
                "message": "error deleting actor reminder: disk says no",
            }
        async with http.get(f"{reminders}/kept") as response:
            assert response.status == 200
        assert await put(http, f"{reminders}/refused", {"dueTime": "1h"}) == (
            500,
            {
                "errorCode": "ERR_ACTOR_REMINDER_CREATE",
                "message": "error creating actor reminder: disk says no",
            },
        )
        async with http.get(f"{reminders}/refused") as response:
            assert response.status == 404

        # Progress that cannot be stored is logged at each fire; the reminder keeps firing
        # until its handler cancels it on the third.
        recorder.cancel_after = 3
        assert await put(http, f"{reminders}/unsaved", {"dueTime": "0s", "period": "20ms"}) == (
            204,
            None,
        )
        await until_gone(http, f"{reminders}/unsaved")
    gc.collect()  # a task that died with an exception says so when it is collected
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    once = [message for message in errors if "robot/1/once" in message]
    assert len(once) == 1, errors
    assert "disk says no" in once[0]
    assert "fires again when the sidecar restarts" in once[0]
    assert len(recorder.fired("once")) == 1
    unsaved = [message for message in errors if "robot/1/unsaved" in message]
    assert len(unsaved) == 2 + 1, errors  # two progress saves; deleting its record at the end
    assert "progress could not be stored (disk says no)" in unsaved[0]
    assert len(errors) == len(once) + len(unsaved), errors
    assert len(recorder.fired("unsaved")) == 3
