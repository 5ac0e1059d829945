"""Interop with the official Dapr Python SDK, over real loopback HTTP.

1. An app written with the official ``dapr-ext-fastapi`` (``DaprActor``) behind our dev sidecar:
   method calls, actor state, a reminder and a timer registered by the SDK actor.
2. The official SDK's ``ActorProxy`` calling actors of our runtime through our dev sidecar.
3. ``ActorTestEnv`` hosting an app that, like an SDK app, waits for its sidecar at startup.

Two things about the SDK shape these tests:

* The SDK's HTTP client blocks in its constructor until ``GET /v1.0/healthz/outbound`` on the
  sidecar answers (``DaprHealth.wait_for_sidecar``, synchronous ``urllib``). Inside one event
  loop that would freeze the very sidecar it waits for, so the SDK app runs under uvicorn in a
  thread with its own loop (as in production, where it is another process), and the test
  builds its ``ActorProxyFactory`` in a worker thread.
* The SDK reads the sidecar address from ``dapr.conf.settings`` at each call; a value assigned
  on that object wins over the environment, so the tests assign the host and port there and
  remove them again afterwards. Its ``ActorRuntime`` is process-global: the registered types,
  the config and the lock are swapped for fresh ones per test and restored after.
"""

import asyncio
import base64
import contextlib
import datetime
import json
import os
import socket
import threading
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import Actor, ActorError, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app
from dapr_actors_fastapi.testing import ActorTestEnv
from samples import starwars

from .helpers import make_app, poll_until, serve, within

with warnings.catch_warnings():
    # dapr 1.19 warns (FutureWarning) on its first import that dapr-ext-fastapi now ships
    # inside the core wheel. That happens while this module is collected, where a
    # ``pytestmark`` filter does not apply yet, so it is filtered here, for the import only.
    warnings.filterwarnings("ignore", "Legacy Dapr extension", FutureWarning)
    from dapr.actor import Actor as SdkActor
    from dapr.actor import ActorId, ActorInterface, ActorProxy, ActorProxyFactory, actormethod
    from dapr.actor import ActorRuntime as SdkActorRuntime
    from dapr.actor.runtime.config import ActorRuntimeConfig, ActorTypeConfig
    from dapr.actor.runtime.remindable import Remindable
    from dapr.clients.exceptions import DaprHttpError
    from dapr.conf import settings as dapr_settings
    from dapr.ext.fastapi import DaprActor

DEADLINE = 4.0  # seconds; every wait in this module is bounded by it


# -- plumbing ------------------------------------------------------------------------------------


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serve_in_thread(app: FastAPI, sock: socket.socket) -> AsyncIterator[None]:
    """Run ``app`` under uvicorn on ``sock`` in a thread with its own event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as error:  # SystemExit when the lifespan startup fails
            failures.append(error)

    thread = threading.Thread(target=run, name="sdk-app", daemon=True)
    thread.start()
    try:
        await poll_until(
            lambda: server.started or not thread.is_alive(),
            what="the SDK app to start",
            seconds=DEADLINE,
        )
        assert server.started, f"the SDK app did not start: {failures!r}"
        yield
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, DEADLINE)
        sock.close()
    assert not thread.is_alive(), "the SDK app did not stop"


@pytest.fixture
def sdk_globals(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Fresh SDK actor runtime state; returns a function pointing the SDK at a sidecar URL."""
    monkeypatch.setattr(SdkActorRuntime, "_actor_managers", {})
    monkeypatch.setattr(SdkActorRuntime, "_actor_config", ActorRuntimeConfig())
    monkeypatch.setattr(SdkActorRuntime, "_actor_managers_lock", asyncio.Lock())

    def point_at(sidecar_url: str) -> None:
        host, port = sidecar_url.removeprefix("http://").split(":")
        # ``setitem`` on the instance dict, so undoing deletes the keys and the settings go
        # back to reading the environment (``setattr`` would pin the old values instead).
        overrides = {
            "DAPR_HTTP_ENDPOINT": None,
            "DAPR_RUNTIME_HOST": host,
            "DAPR_HTTP_PORT": int(port),
            "DAPR_API_TOKEN": None,
            "DAPR_HEALTH_TIMEOUT": DEADLINE,
        }
        for name, value in overrides.items():
            monkeypatch.setitem(vars(dapr_settings), name, value)

    return point_at


async def sidecar_healthy(http: aiohttp.ClientSession) -> None:
    """Wait until the sidecar has read the app's config (``/v1.0/healthz`` 204)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        async with http.get("/v1.0/healthz") as response:
            if response.status == 204:
                return
        assert loop.time() < deadline, "the dev sidecar did not become healthy"
        await asyncio.sleep(0.01)


async def poll_state(http: aiohttp.ClientSession, path: str, done: Callable[[Any], bool]) -> Any:
    """GET ``path`` until its JSON value satisfies ``done``; returns that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    value: Any = None
    while True:
        async with http.get(path) as response:
            value = await response.json() if response.status == 200 else None
        if value is not None and done(value):
            return value
        assert loop.time() < deadline, f"timed out waiting on {path}; last value {value!r}"
        await asyncio.sleep(0.01)


async def poll_gone(http: aiohttp.ClientSession, path: str) -> None:
    """GET ``path`` until it answers 404, within the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        async with http.get(path) as response:
            if response.status == 404:
                return
        assert loop.time() < deadline, f"{path} still answers {response.status}"
        await asyncio.sleep(0.01)


# -- 1. an app written with the official dapr-ext-fastapi, behind our dev sidecar --------------


class Events:
    """What the SDK actor's reminder and timer handlers saw (written from the app's thread)."""

    def __init__(self) -> None:
        self.reminders: list[tuple[str, bytes, Any, Any]] = []
        self.timers: list[Any] = []
        self.deactivated: list[str] = []


def sdk_app(events: Events) -> FastAPI:
    """A dapr-ext-fastapi app as its docs write one: actor types ``SdkDemoActor`` and
    ``SdkIdleActor`` (the latter deactivated after 150 ms idle)."""

    class DemoActorInterface(ActorInterface):
        @actormethod(name="SetGreeting")
        async def set_greeting(self, data: dict[str, Any]) -> dict[str, Any]: ...

        @actormethod(name="GetGreeting")
        async def get_greeting(self) -> dict[str, Any]: ...

        @actormethod(name="StartReminder")
        async def start_reminder(self, data: dict[str, Any]) -> None: ...

        @actormethod(name="ScheduleLater")
        async def schedule_later(self) -> None: ...

        @actormethod(name="UnscheduleLater")
        async def unschedule_later(self) -> None: ...

        @actormethod(name="StartTimer")
        async def start_timer(self, data: dict[str, Any]) -> None: ...

        @actormethod(name="Explode")
        async def explode(self) -> None: ...

    class SdkDemoActor(SdkActor, DemoActorInterface, Remindable):
        async def set_greeting(self, data: dict[str, Any]) -> dict[str, Any]:
            previous = await self._state_manager.get_or_add_state("greeting", {"text": None})
            await self._state_manager.set_state("greeting", data)
            return {"previous": previous, "actor": self.id.id}

        async def get_greeting(self) -> dict[str, Any]:
            found, value = await self._state_manager.try_get_state("greeting")
            return {"found": found, "value": value}

        async def start_reminder(self, data: dict[str, Any]) -> None:
            await self.register_reminder(
                data["name"],
                json.dumps(data["payload"]).encode(),
                datetime.timedelta(milliseconds=50),
                None,  # one-shot
            )

        async def receive_reminder(
            self,
            name: str,
            state: bytes,
            due_time: datetime.timedelta,
            period: datetime.timedelta,
            ttl: datetime.timedelta | None = None,
        ) -> None:
            events.reminders.append((name, state, due_time, period))
            await self._state_manager.set_state("reminded", json.loads(state))

        async def schedule_later(self) -> None:
            await self.register_reminder(
                "later",
                b'{"k": 1}',
                datetime.timedelta(minutes=1),
                datetime.timedelta(seconds=30),
            )

        async def unschedule_later(self) -> None:
            await self.unregister_reminder("later")

        async def start_timer(self, data: dict[str, Any]) -> None:
            await self.register_timer(
                "ticker",
                self.on_tick,
                data,
                datetime.timedelta(milliseconds=20),
                datetime.timedelta(milliseconds=50),
            )

        async def on_tick(self, data: dict[str, Any]) -> None:
            events.timers.append(data)
            ticks = await self._state_manager.get_or_add_state("ticks", 0) + 1
            await self._state_manager.set_state("ticks", ticks)
            if ticks == 2:
                await self.unregister_timer("ticker")

        async def explode(self) -> None:
            raise RuntimeError("kaboom from the SDK actor")

    class IdleActorInterface(ActorInterface):
        @actormethod(name="Remember")
        async def remember(self, data: dict[str, Any]) -> str: ...

        @actormethod(name="Recall")
        async def recall(self) -> dict[str, Any]: ...

    class SdkIdleActor(SdkActor, IdleActorInterface):
        async def remember(self, data: dict[str, Any]) -> str:
            await self._state_manager.set_state("memo", data)
            return "noted"

        async def recall(self) -> dict[str, Any]:
            found, value = await self._state_manager.try_get_state("memo")
            return {"found": found, "value": value}

        async def _on_deactivate(self) -> None:
            events.deactivated.append(self.id.id)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        SdkActorRuntime.set_actor_config(
            ActorRuntimeConfig(
                actor_scan_interval=datetime.timedelta(milliseconds=50),
                actor_type_configs=[
                    ActorTypeConfig(
                        "SdkIdleActor", actor_idle_timeout=datetime.timedelta(milliseconds=150)
                    )
                ],
            )
        )
        # Blocks (in this app's own thread) until the sidecar's /v1.0/healthz/outbound answers.
        await actor.register_actor(SdkDemoActor)
        await actor.register_actor(SdkIdleActor)
        yield

    app = FastAPI(lifespan=lifespan)
    actor = DaprActor(app)
    return app


@pytest.fixture
async def sdk_cluster(
    sdk_globals: Callable[[str], None],
) -> AsyncIterator[tuple[aiohttp.ClientSession, Events]]:
    """The SDK app (own thread) and our dev sidecar (this loop); a session on the sidecar."""
    events = Events()
    app_sock = _loopback_socket()
    app_url = f"http://127.0.0.1:{app_sock.getsockname()[1]}"
    settings = SidecarSettings(
        app_url=app_url, app_id="sdk-app", state_db=":memory:", reminder_retry_interval=0.05
    )
    # The sidecar first: the SDK app's startup waits for it.
    async with serve(create_app(settings)) as sidecar_url:
        sdk_globals(sidecar_url)
        async with (
            serve_in_thread(sdk_app(events), app_sock),
            aiohttp.ClientSession(sidecar_url) as http,
        ):
            await sidecar_healthy(http)
            yield http, events


ACTOR = "/v1.0/actors/SdkDemoActor/7"


async def test_sdk_app_config_is_read_by_our_sidecar(sdk_cluster: Any) -> None:
    http, _ = sdk_cluster
    # The SDK's /dapr/config ("1h0m0s0ms0μs" durations and all) made SdkDemoActor hosted.
    async with http.post(f"{ACTOR}/method/GetGreeting") as response:
        assert response.status == 200
    async with http.get("/v1.0/metadata") as response:
        assert response.status == 200
        body = await response.json()
    assert body["id"] == "sdk-app"
    actors = sorted(body["actors"], key=lambda entry: entry["type"])
    assert actors == [
        {"type": "SdkDemoActor", "count": 1},
        {"type": "SdkIdleActor", "count": 0},
    ]


async def test_sdk_actor_state_outlives_its_idle_deactivation(sdk_cluster: Any) -> None:
    http, events = sdk_cluster
    idle = "/v1.0/actors/SdkIdleActor/1"
    async with http.post(f"{ACTOR}/method/GetGreeting") as response:
        assert response.status == 200
    memo = {"remember": "the Alamo"}
    async with http.post(f"{idle}/method/Remember", json=memo) as response:
        assert (response.status, await response.json()) == (200, "noted")
    # The SDK's entitiesConfig entry ("0h0m0s150ms0μs") and top-level scan interval apply:
    # our sidecar sends DELETE /actors/SdkIdleActor/1 and the SDK runs _on_deactivate.
    await poll_until(lambda: events.deactivated == ["1"], what="deactivation", seconds=DEADLINE)
    async with http.get("/v1.0/metadata") as response:
        counts = {entry["type"]: entry["count"] for entry in (await response.json())["actors"]}
    assert counts == {"SdkDemoActor": 1, "SdkIdleActor": 0}  # 1 h keeps SdkDemoActor/7
    # A new activation has no cache: the SDK reads the memo back through GET .../state/memo.
    async with http.post(f"{idle}/method/Recall") as response:
        assert (response.status, await response.json()) == (200, {"found": True, "value": memo})


async def test_sdk_actor_methods_and_state_through_our_sidecar(sdk_cluster: Any) -> None:
    http, _ = sdk_cluster
    async with http.post(f"{ACTOR}/method/GetGreeting") as response:
        assert (response.status, await response.json()) == (200, {"found": False, "value": None})

    greeting = {"text": "hello there", "n": 1}
    async with http.post(f"{ACTOR}/method/SetGreeting", json=greeting) as response:
        assert response.status == 200
        assert await response.json() == {"previous": {"text": None}, "actor": "7"}

    # The SDK saved its state through PUT /v1.0/actors/.../state after the method.
    async with http.get(f"{ACTOR}/state/greeting") as response:
        assert (response.status, await response.json()) == (200, greeting)
        assert response.headers["content-type"] == "application/json"

    async with http.put(f"{ACTOR}/method/GetGreeting") as response:
        assert (response.status, await response.json()) == (200, {"found": True, "value": greeting})
    # State is per actor id.
    async with http.get("/v1.0/actors/SdkDemoActor/8/state/greeting") as response:
        assert (response.status, await response.read()) == (204, b"")


async def test_sdk_actor_error_reaches_the_caller_as_daprd_reports_it(sdk_cluster: Any) -> None:
    http, _ = sdk_cluster
    async with http.post(f"{ACTOR}/method/Explode") as response:
        assert response.status == 500
        body = await response.json()
    assert body["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
    assert body["message"].startswith("error invoke actor method: error from actor service: (500)")
    assert "kaboom from the SDK actor" in body["message"]


async def test_sdk_reminder_fires_and_reaches_receive_reminder(sdk_cluster: Any) -> None:
    http, events = sdk_cluster
    request = {"name": "wake-up", "payload": {"say": "hi", "n": 3}}
    async with http.post(f"{ACTOR}/method/StartReminder", json=request) as response:
        assert response.status == 200

    reminded = await poll_state(http, f"{ACTOR}/state/reminded", lambda value: True)
    assert reminded == {"say": "hi", "n": 3}
    assert len(events.reminders) == 1
    name, state, due_time, period = events.reminders[0]
    assert (name, json.loads(state)) == ("wake-up", {"say": "hi", "n": 3})
    # We echo the strings as registered (P11): the SDK decodes its own Go-style duration back.
    assert due_time == datetime.timedelta(milliseconds=50)
    assert period == ""  # registered as null: a one-shot reminder
    # One-shot: the sidecar drops it once the delivery has returned (the state above was
    # saved during the delivery, so poll rather than expect it gone already).
    await poll_gone(http, f"{ACTOR}/reminders/wake-up")


async def test_sdk_reminder_is_stored_as_the_sdk_registered_it(sdk_cluster: Any) -> None:
    http, _ = sdk_cluster
    async with http.post(f"{ACTOR}/method/ScheduleLater") as response:
        assert response.status == 200
    # The SDK sends Go-style durations with "μs" and its data as a base64 string (§11).
    async with http.get(f"{ACTOR}/reminders/later") as response:
        assert response.status == 200
        stored = await response.json()
    assert (stored["dueTime"], stored["period"]) == ("0h1m0s0ms0μs", "0h0m30s0ms0μs")
    assert base64.b64decode(stored["data"]) == b'{"k": 1}'
    async with http.post(f"{ACTOR}/method/UnscheduleLater") as response:
        assert response.status == 200
    async with http.get(f"{ACTOR}/reminders/later") as response:
        assert response.status == 404


async def test_sdk_timer_fires_its_callback_until_it_unregisters(sdk_cluster: Any) -> None:
    http, events = sdk_cluster
    async with http.post(f"{ACTOR}/method/StartTimer", json={"tick": "tock"}) as response:
        assert response.status == 200

    # The SDK saves the actor's state after each timer callback too, and only when the
    # callback succeeded: a saved 2 means its DELETE of the timer was accepted.
    ticks = await poll_state(http, f"{ACTOR}/state/ticks", lambda value: value >= 2)
    assert ticks == 2
    assert events.timers[:2] == [{"tick": "tock"}, {"tick": "tock"}]


# -- 2. the official SDK's ActorProxy calling actors of our runtime through our sidecar ----------


class Flight(BaseModel):
    destination: str
    speed: int = 1


class Route(BaseModel):
    origin: str
    destination: str
    flights: int


class Jammed(ActorError):
    status_code = 409
    error_code = "ERR_JAMMED"


def our_runtime(**options: Any) -> ActorRuntime:
    runtime = ActorRuntime(**options)

    @runtime.actor("x-wing")
    class XWing(Actor):
        async def on_activate(self) -> None:
            self.location = "Yavin 4"
            self.flights = 0

        @method
        async def fly(self, flight: Flight) -> Route:
            self.flights += 1
            origin, self.location = self.location, flight.destination
            return Route(origin=origin, destination=flight.destination, flights=self.flights)

        @method("logBook")
        async def log_book(self, entry: dict[str, Any]) -> dict[str, Any]:
            return {"id": self.id, "entry": entry, "keys": sorted(entry)}

        @method
        async def status(self) -> dict[str, Any]:
            return {"location": self.location, "flights": self.flights}

        @method
        async def eta(self) -> dict[str, str]:
            return {"eta": "1h30m", "launched": "2024-05-04T12:00:00Z", "name": "Red Five"}

        @method
        async def crash(self) -> None:
            raise RuntimeError("hit the Death Star trench")

        @method
        async def jam(self) -> None:
            raise Jammed("comms jammed")

    return runtime


class XWingInterface(ActorInterface):
    @actormethod(name="fly")
    async def fly(self, flight: dict[str, Any]) -> dict[str, Any]: ...

    @actormethod(name="logBook")
    async def log_book(self, entry: dict[str, Any]) -> dict[str, Any]: ...

    @actormethod(name="status")
    async def status(self) -> dict[str, Any]: ...

    @actormethod(name="eta")
    async def eta(self) -> dict[str, Any]: ...

    @actormethod(name="crash")
    async def crash(self) -> None: ...

    @actormethod(name="jam")
    async def jam(self) -> None: ...


@pytest.fixture
async def proxies(sdk_globals: Callable[[str], None]) -> AsyncIterator[Callable[..., Any]]:
    """Our runtime's app and dev sidecar; yields ``make(actor_id, **runtime_options)``."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(actor_id: str, **options: Any) -> Any:
            env = await stack.enter_async_context(
                ActorTestEnv(make_app(our_runtime(**options)), app_id="fleet", set_environ=False)
            )
            sdk_globals(env.sidecar_url)
            # The factory's HTTP client blocks on the sidecar's health check: not in this loop.
            # (ActorProxy.create without a factory would build and cache one, here, blocking.)
            factory = await asyncio.to_thread(ActorProxyFactory)
            return ActorProxy.create("x-wing", ActorId(actor_id), XWingInterface, factory)

        yield make


async def test_proxy_sends_a_model_argument_and_gets_a_model_result(proxies: Any) -> None:
    proxy = await proxies("33")
    first = await within(proxy.fly({"destination": "Hoth", "speed": 3}), DEADLINE)
    assert first == {"origin": "Yavin 4", "destination": "Hoth", "flights": 1}
    second = await within(proxy.fly(Flight(destination="Dagobah").model_dump()), DEADLINE)
    assert second == {"origin": "Hoth", "destination": "Dagobah", "flights": 2}


async def test_proxy_sends_a_dict_argument(proxies: Any) -> None:
    proxy = await proxies("33")
    entry = {"pilot": "Luke", "note": "use the force", "n": [1, 2]}
    # The proxy's attributes are the wire names given to @actormethod, not the Python names.
    with pytest.raises(AttributeError):
        proxy.log_book  # noqa: B018
    answer = await within(proxy.logBook(entry), DEADLINE)
    assert answer == {"id": "33", "entry": entry, "keys": ["n", "note", "pilot"]}


async def test_proxy_calls_a_method_without_argument(proxies: Any) -> None:
    proxy = await proxies("red-5")
    assert await within(proxy.status(), DEADLINE) == {"location": "Yavin 4", "flights": 0}
    await within(proxy.fly({"destination": "Bespin"}), DEADLINE)
    assert await within(proxy.status(), DEADLINE) == {"location": "Bespin", "flights": 1}
    # The non-RPC style: raw bytes in, raw bytes out.
    raw = await within(proxy.invoke_method("status"), DEADLINE)
    assert json.loads(raw) == {"location": "Bespin", "flights": 1}


async def test_proxy_validation_error_is_an_sdk_exception(proxies: Any) -> None:
    proxy = await proxies("33")
    with pytest.raises(DaprHttpError) as raised:
        await within(proxy.fly({"speed": 3}), DEADLINE)
    error = raised.value
    assert error.status_code == 500
    assert error.error_code == "ERR_ACTOR_INVOKE_METHOD"
    assert "(400)" in (error.message or "")
    assert "destination" in (error.message or "")


async def test_actor_exception_surfaces_as_an_sdk_exception(proxies: Any) -> None:
    proxy = await proxies("33")
    with pytest.raises(DaprHttpError) as raised:
        await within(proxy.crash(), DEADLINE)
    error = raised.value
    assert error.status_code == 500
    assert error.error_code == "ERR_ACTOR_INVOKE_METHOD"
    assert "hit the Death Star trench" in (error.message or "")
    assert "ERR_ACTOR_METHOD" in (error.message or "")  # our body, stringified by the sidecar
    # A chosen status and code still reach the SDK, inside the sidecar's message (§4.6).
    with pytest.raises(DaprHttpError) as raised:
        await within(proxy.jam(), DEADLINE)
    assert raised.value.status_code == 500
    assert "(409)" in (raised.value.message or "")
    assert "ERR_JAMMED" in (raised.value.message or "")
    # The actor is still usable after its errors.
    assert await within(proxy.status(), DEADLINE) == {"location": "Yavin 4", "flights": 0}


async def test_header_error_style_is_a_normal_result_to_the_sdk(proxies: Any) -> None:
    # With error_style="header" the caller gets 200 + X-DaprErrorResponseHeader, as from
    # daprd; the SDK's client never looks at that header, so it returns the error body.
    proxy = await proxies("33", error_style="header")
    answer = await within(proxy.crash(), DEADLINE)
    assert answer["errorCode"] == "ERR_ACTOR_METHOD"
    assert "hit the Death Star trench" in answer["message"]


async def test_sdk_decoder_turns_duration_and_date_strings_into_objects(proxies: Any) -> None:
    # Not ours: the SDK's DaprJSONDecoder rewrites any string that looks like a Go duration or
    # starts with a date, so an actor's plain strings come back to an SDK caller as objects.
    proxy = await proxies("33")
    answer = await within(proxy.eta(), DEADLINE)
    assert answer["eta"] == datetime.timedelta(hours=1, minutes=30)
    assert answer["launched"] == datetime.datetime(2024, 5, 4, 12, tzinfo=datetime.UTC)
    assert answer["name"] == "Red Five"


class StarwarsXWing(ActorInterface):
    @actormethod(name="fly")
    async def fly(self, arguments: dict[str, Any]) -> dict[str, Any]: ...

    @actormethod(name="where")
    async def where(self) -> str: ...


class StarwarsStormtrooper(ActorInterface):
    @actormethod(name="shoot")
    async def shoot(self, arguments: dict[str, Any]) -> dict[str, Any]: ...

    @actormethod(name="performAction")
    async def perform_action(self) -> dict[str, Any]: ...


async def test_proxy_calls_the_starwars_sample(sdk_globals: Callable[[str], None]) -> None:
    # The SDK's proxy sends its one argument as the JSON body: an object keyed by parameter
    # name reaches the sample's scalar parameters; a method without parameters gets no body.
    async with ActorTestEnv(starwars.app, app_id="starwars") as env:
        sdk_globals(env.sidecar_url)
        factory = await asyncio.to_thread(ActorProxyFactory)
        xwing = ActorProxy.create("x-wing", ActorId("py-33"), StarwarsXWing, factory)
        trooper = ActorProxy.create("stormtrooper", ActorId("py-1"), StarwarsStormtrooper, factory)
        assert await within(xwing.where(), DEADLINE) == "Yavin 4"
        flown = await within(xwing.fly({"destination": "Hoth"}), DEADLINE)
        assert flown == {"from": "Yavin 4", "location": "Hoth"}
        shot = await within(trooper.shoot({"target": "py-33"}), DEADLINE)
        assert shot == {"shots": 1, "target": "x-wing/py-33", "at": "Hoth"}
        assert await within(trooper.performAction(), DEADLINE) == {"action": "stand guard"}


# -- 3. our test kit hosting an app that waits for its sidecar at startup -----------------------


def sidecar_waiting_app() -> FastAPI:
    """An app whose startup waits for its sidecar's ``/v1.0/healthz/outbound``, as the SDK's
    ``register_actor`` does, but without blocking the loop (the SDK's wait is synchronous
    and could never succeed inside the sidecar's own loop)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        url = f"http://127.0.0.1:{os.environ['DAPR_HTTP_PORT']}/v1.0/healthz/outbound"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        async with aiohttp.ClientSession() as http:
            while True:
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(url) as response:
                        if response.status < 300:
                            break
                if loop.time() > deadline:
                    raise TimeoutError(f"no sidecar at {url}")
                await asyncio.sleep(0.01)
        yield

    return FastAPI(lifespan=lifespan)


async def test_actor_test_env_hosts_an_app_that_waits_for_its_sidecar() -> None:
    async with ActorTestEnv(sidecar_waiting_app(), startup_seconds=DEADLINE) as env:
        assert (await env.request("GET", "/v1.0/healthz/outbound")).status == 204
