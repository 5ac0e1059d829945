"""Calling others: typed actor proxies, untyped actor calls and service invocation.

Everything runs end to end over real loopback HTTP: the runtime's sidecar client calls the dev
sidecar of an ``ActorTestEnv``, which calls the app (or another app) back.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from dapr_actors_fastapi import (
    Actor,
    ActorConfigError,
    ActorError,
    ActorRuntime,
    SidecarClient,
    SidecarError,
    SidecarResponse,
    SidecarUnavailable,
    current_turn,
    method,
)
from dapr_actors_fastapi.exceptions import ActorInvokeError, SidecarTimeout
from dapr_actors_fastapi.testing import ActorTestEnv
from samples import math_service

from ..helpers import make_app, serve, within

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class RecordingSidecar(SidecarClient):
    """A real sidecar client that also records each request it sends."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sent: list[tuple[str, str]] = []

    async def request(self, method: str, path: str, **options: Any) -> SidecarResponse:
        self.sent.append((method, path))
        return await super().request(method, path, **options)


class Flight(BaseModel):
    destination: str
    passengers: list[str] = []


class Fleet(Actor):
    """Methods covering each way a body is bound (FastAPI's rules) and each return type."""

    @method
    async def fly(self, destination: str, speed: int = 1) -> dict[str, Any]:
        return {"id": self.id, "destination": destination, "speed": speed}

    @method
    async def book(self, flight: Flight) -> Flight:  # one model: the whole body
        return flight.model_copy(update={"passengers": [*flight.passengers, "R2-D2"]})

    @method
    async def book_embedded(self, flight: Annotated[Flight, Body(embed=True)]) -> str:
        return flight.destination

    @method
    async def rename(self, name: str = Body("Red Five")) -> str:  # Body(): the whole body
        return name.upper()

    @method
    async def ping(self) -> str:
        return "pong"

    @method
    async def idle(self) -> None:
        pass

    @method
    async def echo_bytes(self, payload: bytes = b"default") -> bytes:
        return payload[::-1]

    @method
    async def maybe(self, present: bool) -> Flight | None:
        return Flight(destination="Hoth") if present else None

    @method("performAction")  # a wire name that differs from the attribute
    async def perform_action(self, action: str, times: int, loud: bool = False) -> list[str]:
        return [action.upper() if loud else action] * times


@pytest.fixture
async def fleet() -> AsyncIterator[tuple[ActorRuntime, RecordingSidecar, ActorTestEnv]]:
    sidecar = RecordingSidecar()
    runtime = ActorRuntime(sidecar=sidecar)

    # A fresh subclass per test hosts the type, so that ``Fleet`` itself stays unregistered
    # and its proxies are made from the class alone, as for a type another app hosts.
    @runtime.actor("fleet")
    class HostedFleet(Fleet):
        pass

    async with ActorTestEnv(make_app(runtime), app_id="rebels") as env:
        yield runtime, sidecar, env


# -- typed proxies ------------------------------------------------------------------------------


async def test_a_proxy_binds_arguments_as_a_python_call_does(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, _, _ = fleet
    ship = runtime.proxy(Fleet, "red-5", actor_type="fleet")
    assert await ship.fly(destination="Hoth") == {"id": "red-5", "destination": "Hoth", "speed": 1}
    assert await ship.fly("Dagobah", 9) == {"id": "red-5", "destination": "Dagobah", "speed": 9}
    assert await ship.fly("Bespin", speed=2) == {"id": "red-5", "destination": "Bespin", "speed": 2}
    assert await ship.perform_action("scan", 2) == ["scan", "scan"]
    assert await ship.perform_action(action="jump", times=1, loud=True) == ["JUMP"]


async def test_bodies_follow_the_hosting_sides_rules_and_results_are_typed(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, _, _ = fleet
    ship = runtime.proxy(Fleet, "red-5", actor_type="fleet")
    booked = await ship.book(Flight(destination="Yavin", passengers=["Luke"]))
    assert booked == Flight(destination="Yavin", passengers=["Luke", "R2-D2"])
    assert isinstance(booked, Flight)
    assert await ship.book_embedded(Flight(destination="Endor")) == "Endor"
    assert await ship.rename("gold leader") == "GOLD LEADER"
    assert await ship.rename() == "RED FIVE"  # omitted: the handler's default applies there
    assert await ship.ping() == "pong"
    assert await ship.idle() is None  # type: ignore[func-returns-value]
    assert await ship.echo_bytes(b"\x00\xffabc") == b"cba\xff\x00"
    assert await ship.echo_bytes() == b"tluafed"
    assert await ship.maybe(True) == Flight(destination="Hoth")
    assert await ship.maybe(present=False) is None


async def test_wrong_arguments_raise_type_error_at_the_call_and_send_nothing(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, sidecar, env = fleet
    ship = runtime.proxy(Fleet, "red-5", actor_type="fleet")
    with pytest.raises(TypeError, match=r"Fleet\.fly\(destination, speed=\.\.\.\): missing"):
        ship.fly()  # type: ignore[call-arg, unused-coroutine]  # raised before any await
    with pytest.raises(TypeError, match="unexpected keyword argument 'altitude'"):
        ship.fly("Hoth", altitude=3)  # type: ignore[call-arg, unused-coroutine]
    with pytest.raises(TypeError, match="too many positional arguments"):
        ship.ping(1)  # type: ignore[call-arg, unused-coroutine]
    with pytest.raises(TypeError, match="'payload' takes bytes, got str"):
        ship.echo_bytes("text")  # type: ignore[arg-type, unused-coroutine]
    with pytest.raises(TypeError, match="cannot be sent as JSON"):
        ship.fly(destination=object())  # type: ignore[arg-type, unused-coroutine]
    assert sidecar.sent == []
    assert await env.active_actors() == {"fleet": 0}


async def test_an_unknown_attribute_lists_the_methods_a_proxy_can_call(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, _, _ = fleet
    ship = runtime.proxy(Fleet, "red-5", actor_type="fleet")
    with pytest.raises(AttributeError, match=r"no actor method 'state'.*\bfly\b.*\bping\b"):
        ship.state  # noqa: B018
    assert repr(ship) == "<Fleet proxy fleet/red-5>"


async def test_the_result_is_decoded_with_the_declared_return_type() -> None:
    runtime = ActorRuntime()

    @runtime.actor("oracle")
    class Oracle(Actor):
        @method
        async def answer(self) -> Any:
            return {"destination": 42}  # not a Flight

    class OracleClient(Actor):  # what a caller believes the method returns
        @method
        async def answer(self) -> Flight:
            raise NotImplementedError

    async with ActorTestEnv(make_app(runtime)):
        assert await Oracle.proxy("1").answer() == {"destination": 42}
        with pytest.raises(ValidationError) as raised:
            await runtime.proxy(OracleClient, "1", actor_type="oracle").answer()
    assert "OracleClient.answer" in "\n".join(raised.value.__notes__)


async def test_actor_class_proxy_goes_through_the_registering_runtime() -> None:
    runtime = ActorRuntime()

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self, destination: str) -> str:
            return f"{self.id} to {destination}"

    async with ActorTestEnv(make_app(runtime)):
        assert await XWing.proxy("33").fly(destination="Hoth") == "33 to Hoth"
        # The proxy class is made once per actor class.
        assert type(XWing.proxy("1")) is type(XWing.proxy("2"))


def test_an_unregistered_class_says_how_to_register_it_or_name_its_type() -> None:
    class TieFighter(Actor):
        @method
        async def fly(self) -> None: ...

    with pytest.raises(ActorConfigError, match=r"@runtime\.actor.*runtime\.proxy\(TieFighter"):
        TieFighter.proxy("1")

    runtime = ActorRuntime()
    runtime.actor("tie")(TieFighter)

    class TieInterceptor(TieFighter):  # registrations are not inherited
        pass

    with pytest.raises(ActorConfigError, match="TieInterceptor is not registered"):
        TieInterceptor.proxy("1")


def test_a_class_registered_twice_needs_runtime_proxy() -> None:
    class Shuttle(Actor):
        pass

    ActorRuntime().actor("shuttle")(Shuttle)
    ActorRuntime().actor("lambda")(Shuttle)
    with pytest.raises(ActorConfigError, match=r"registered 2 times \('shuttle', 'lambda'\)"):
        Shuttle.proxy("1")


def test_invalid_actor_ids_and_types_are_refused_before_sending() -> None:
    runtime = ActorRuntime()

    class Probe(Actor):
        pass

    with pytest.raises(
        ValueError, match=r"actor id 'a/b' is not valid: it must be a non-empty string"
    ):
        runtime.proxy(Probe, "a/b", actor_type="probe")
    with pytest.raises(ValueError, match=r"actor type '' is not valid"):
        runtime.proxy(Probe, "1", actor_type="")
    with pytest.raises(TypeError, match="actor id must be a str, got int 33"):
        runtime.proxy(Probe, 33, actor_type="probe")  # type: ignore[arg-type]
    with pytest.raises(ActorConfigError, match=r'runtime\.proxy\(Probe, \'1\', actor_type="'):
        runtime.proxy(Probe, "1")


async def test_runtime_proxy_calls_a_type_through_a_class_registered_nowhere() -> None:
    """Another app hosts the type; the caller only has (a copy of) its class."""
    runtime = ActorRuntime()

    @runtime.actor("droid")
    class Droid(Actor):
        @method("beep")
        async def beep(self, times: int) -> str:
            return "beep " * times

    class DroidInterface(Actor):  # the caller's view: same wire names, its own attributes
        @method("beep")
        async def say(self, times: int) -> str:
            raise NotImplementedError

    async with ActorTestEnv(make_app(runtime)):
        droid = runtime.proxy(DroidInterface, "r2", actor_type="droid")
        assert await droid.say(2) == "beep beep "
        # A registered class may be named without its type.
        assert await runtime.proxy(Droid, "r2").beep(times=1) == "beep "


# -- untyped actor calls ------------------------------------------------------------------------


async def test_invoke_actor_sends_json_bytes_or_nothing(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, _, _ = fleet
    answer = await runtime.invoke_actor("fleet", "red 5", "fly", {"destination": "Hoth"})
    assert (answer.status, answer.json()) == (
        200,
        {"id": "red 5", "destination": "Hoth", "speed": 1},
    )
    assert answer.headers["content-type"] == answer.headers["Content-Type"] == "application/json"
    raw = await runtime.invoke_actor("fleet", "red 5", "echo_bytes", b"xyz")
    assert raw.body == b"zyx"
    assert (await runtime.invoke_actor("fleet", "red 5", "ping")).json() == "pong"
    assert (
        await runtime.invoke_actor("fleet", "red 5", "performAction", {"action": "a", "times": 1})
    ).json() == ["a"]


async def test_invoke_actor_raises_for_a_failed_call(
    fleet: tuple[ActorRuntime, RecordingSidecar, ActorTestEnv],
) -> None:
    runtime, _, _ = fleet
    with pytest.raises(ActorInvokeError) as raised:
        await runtime.invoke_actor("fleet", "1", "fly", {"speed": "fast"})
    error = raised.value
    assert (error.status, error.error_code) == (500, "ERR_ACTOR_INVOKE_METHOD")
    assert (error.remote_status, error.remote_error_code) == (400, "ERR_MALFORMED_REQUEST")
    assert "destination" in str(error.remote_message)

    with pytest.raises(ActorInvokeError) as raised:
        await runtime.invoke_actor("fleet", "1", "nonexistent")
    assert raised.value.remote_status == 404

    with pytest.raises(ActorInvokeError, match="did not find address for actor 'ghost/1'"):
        await runtime.invoke_actor("ghost", "1", "boo")


# -- errors from the callee ---------------------------------------------------------------------


class OutOfFuel(ActorError):
    status_code = 409
    error_code = "ERR_OUT_OF_FUEL"


@pytest.mark.parametrize("error_style", ["status", "header"])
async def test_callee_errors_arrive_as_actor_invoke_error_in_both_styles(
    error_style: Any,
) -> None:
    runtime = ActorRuntime(error_style=error_style)

    @runtime.actor("y-wing")
    class YWing(Actor):
        @method
        async def crash(self, why: str) -> None:
            raise ValueError(why)

        @method
        async def refuel(self) -> None:
            raise OutOfFuel("tank empty", details={"litres": 0})

    async with ActorTestEnv(make_app(runtime)):
        with pytest.raises(ActorInvokeError) as raised:
            await YWing.proxy("gold-2").crash("engine fire")
        crash = raised.value
        with pytest.raises(ActorInvokeError) as raised:
            await YWing.proxy("gold-2").refuel()
        refuel = raised.value

    assert isinstance(crash, SidecarError)
    assert (crash.remote_type, crash.remote_error_code) == ("ValueError", "ERR_ACTOR_METHOD")
    assert crash.remote_message == "engine fire"
    assert (crash.actor_type, crash.actor_id, crash.actor_method) == ("y-wing", "gold-2", "crash")
    assert "actor y-wing/gold-2 method 'crash' failed" in str(crash)
    assert "ValueError: engine fire" in str(crash)
    assert refuel.remote_error_code == "ERR_OUT_OF_FUEL"
    assert refuel.remote_error is not None
    assert refuel.remote_error["litres"] == 0
    if error_style == "status":  # daprd: 500 with the actor's answer inside the message
        assert (crash.status, crash.error_code, crash.remote_status) == (
            500,
            "ERR_ACTOR_INVOKE_METHOD",
            500,
        )
        assert refuel.remote_status == 409
    else:  # 200 + X-DaprErrorResponseHeader: the actor's body verbatim
        assert (crash.status, crash.error_code, crash.remote_status) == (
            200,
            "ERR_ACTOR_METHOD",
            200,
        )


# -- calls made inside a turn -------------------------------------------------------------------


async def test_calls_from_a_turn_carry_its_reentrancy_id_and_traceparent() -> None:
    runtime = ActorRuntime()

    @runtime.actor("callee")
    class Callee(Actor):
        @method
        async def who_called(self) -> dict[str, Any]:
            turn = current_turn()
            assert turn is not None
            return {"reentrancy_id": turn.reentrancy_id, "traceparent": turn.traceparent}

    @runtime.actor("caller")
    class Caller(Actor):
        @method
        async def relay(self) -> dict[str, Any]:
            return await Callee.proxy("b").who_called()

    async with ActorTestEnv(make_app(runtime)) as env:
        headers = {"Dapr-Reentrancy-Id": "chain-42", "traceparent": TRACEPARENT}
        answer = await env.invoke_actor("caller", "a", "relay", headers=headers)
    assert (answer.status, answer.json()) == (
        200,
        {"reentrancy_id": "chain-42", "traceparent": TRACEPARENT},
    )


async def test_a_reentrant_chain_a_b_a_completes() -> None:
    runtime = ActorRuntime(reentrancy=True)

    @runtime.actor("ping")
    class Ping(Actor):
        @method
        async def start(self, rounds: int) -> list[str]:
            return ["ping", *await Pong.proxy("pong").back(self.id, rounds)]

        @method
        async def again(self, rounds: int) -> list[str]:
            if rounds == 0:
                return ["done"]
            return ["ping", *await Pong.proxy("pong").back(self.id, rounds)]

    @runtime.actor("pong")
    class Pong(Actor):
        @method
        async def back(self, ping_id: str, rounds: int) -> list[str]:
            return ["pong", *await Ping.proxy(ping_id).again(rounds - 1)]

    async with ActorTestEnv(make_app(runtime)):
        trail = await within(Ping.proxy("p").start(2))
    assert trail == ["ping", "pong", "ping", "pong", "done"]


async def test_an_actor_calling_itself_without_reentrancy_fails_at_once_not_at_the_timeout() -> (
    None
):
    runtime = ActorRuntime()

    @runtime.actor("narcissus")
    class Narcissus(Actor):
        @method
        async def admire(self) -> str:
            try:
                return await Narcissus.proxy(self.id).reflect()
            except RuntimeError as error:
                return str(error)

        @method
        async def reflect(self) -> str:
            return "beautiful"

        @method
        async def admire_another(self) -> str:
            return await Narcissus.proxy("echo").reflect()  # another actor: allowed

    async with ActorTestEnv(make_app(runtime)) as env:
        answer = await within(env.invoke_actor("narcissus", "n", "admire"))
        assert answer.json().startswith(
            "actor narcissus/n called its own method 'reflect' through the sidecar"
        )
        assert "reentrancy=True" in answer.json()
        assert (await within(env.invoke_actor("narcissus", "n", "admire_another"))).json() == (
            "beautiful"
        )


# -- service invocation -------------------------------------------------------------------------


def echo_app() -> FastAPI:
    """Answers with what it received; /status/{code} answers that status; /slow waits."""
    app = FastAPI()
    release = asyncio.Event()
    app.state.release = release

    @app.post("/status/{code}")
    async def status(code: int) -> Response:
        return JSONResponse({"errorCode": "TEAPOT", "message": "short"}, status_code=code)

    @app.get("/slow")
    async def slow() -> str:
        await release.wait()
        return "late"

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(path: str, request: Request) -> Response:
        seen = {
            "verb": request.method,
            "path": path,
            "query": sorted(request.query_params.multi_items()),
            "x-fleet": request.headers.get("x-fleet"),
            "traceparent": request.headers.get("traceparent"),
            "content-type": request.headers.get("content-type"),
            "body": (await request.body()).decode(),
        }
        return JSONResponse(seen, headers={"X-Echoed": "yes"})

    return app


@pytest.fixture
async def echo() -> AsyncIterator[tuple[FastAPI, str]]:
    app = echo_app()
    async with serve(app) as url:
        yield app, url


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH", "post"])
async def test_invoke_passes_verb_path_query_headers_and_body(
    echo: tuple[FastAPI, str], verb: str
) -> None:
    _, echo_url = echo
    runtime = ActorRuntime()
    async with ActorTestEnv(make_app(runtime), apps={"echo": echo_url}):
        answer = await runtime.invoke(
            "echo",
            "orders/a b",
            verb=verb,
            json={"n": 1},
            params={"page": 2, "tag": ["x", "y&z"]},
            headers={"X-Fleet": "rogue"},
        )
    assert answer.status == 200
    assert answer.headers["x-echoed"] == "yes"
    assert answer.json() == {
        "verb": verb.upper(),
        "path": "orders/a b",
        "query": [["page", "2"], ["tag", "x"], ["tag", "y&z"]],
        "x-fleet": "rogue",
        "traceparent": None,
        "content-type": "application/json",
        "body": '{"n":1}',
    }


async def test_invoke_sends_raw_bytes_and_passes_non_2xx_statuses_through(
    echo: tuple[FastAPI, str],
) -> None:
    _, echo_url = echo
    runtime = ActorRuntime()
    async with ActorTestEnv(make_app(runtime), apps={"echo": echo_url}):
        raw = await runtime.invoke(
            "echo", "/upload", data=b"\x01\x02", headers={"Content-Type": "text/plain"}
        )
        teapot = await runtime.invoke("echo.default", "status/418")
        missing = await runtime.invoke("echo", "status/404", namespace="default")
    assert (raw.json()["body"], raw.json()["content-type"]) == ("\x01\x02", "text/plain")
    assert (teapot.status, teapot.json()["errorCode"]) == (418, "TEAPOT")
    with pytest.raises(SidecarError, match="418 TEAPOT: short") as raised:
        teapot.raise_for_status()
    assert raised.value.status == 418
    assert missing.status == 404
    assert raw.raise_for_status() is raw


async def test_invoke_reaches_urls_http_endpoints_and_the_seed_math_service(
    echo: tuple[FastAPI, str], tmp_path: Path
) -> None:
    _, echo_url = echo
    (tmp_path / "echo.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: echoEndpoint\n"
        f"spec:\n  baseUrl: {echo_url}\n"
    )
    runtime = ActorRuntime()
    async with (
        serve(math_service.app) as math_url,
        ActorTestEnv(
            make_app(runtime), apps={"mathService": math_url}, resources_path=str(tmp_path)
        ),
    ):
        by_url = await runtime.invoke(echo_url, "by/url", verb="GET", params={"q": "1"})
        by_endpoint = await runtime.invoke("echoEndpoint", "by/endpoint", verb="GET")
        total = await runtime.invoke("mathService", "add", json={"arg1": 10, "arg2": 23})
    assert (by_url.json()["path"], by_url.json()["query"]) == ("by/url", [["q", "1"]])
    assert by_endpoint.json()["path"] == "by/endpoint"
    assert (total.status, total.text) == (200, "33")


async def test_invoke_from_a_turn_carries_its_trace(echo: tuple[FastAPI, str]) -> None:
    _, echo_url = echo
    runtime = ActorRuntime()
    seen: list[tuple[str, str]] = []

    @runtime.actor("scout")
    class Scout(Actor):
        @method
        async def report(self) -> None:
            answer = await runtime.invoke("echo", "report", headers={"X-Fleet": self.id})
            seen.append((answer.json()["x-fleet"], answer.json()["traceparent"]))

    async with ActorTestEnv(make_app(runtime), apps={"echo": echo_url}) as env:
        answer = await env.invoke_actor(
            "scout", "s1", "report", headers={"traceparent": TRACEPARENT}
        )
    assert (answer.status, seen) == (200, [("s1", TRACEPARENT)])


async def test_a_slow_target_is_a_sidecar_timeout(echo: tuple[FastAPI, str]) -> None:
    echo_app_, echo_url = echo
    runtime = ActorRuntime()
    async with ActorTestEnv(make_app(runtime), apps={"echo": echo_url}):
        with pytest.raises(SidecarTimeout, match=r"did not answer within 0\.2s") as raised:
            await runtime.invoke("echo", "slow", verb="GET", timeout=0.2)
        echo_app_.state.release.set()
    assert isinstance(raised.value, TimeoutError)
    assert isinstance(raised.value, SidecarUnavailable)


@pytest.mark.parametrize(
    ("app_id", "method_path", "options", "complaint"),
    [
        ("", "add", {}, "names no target"),
        ("a/b", "add", {}, "contains '/'"),
        ("math.prod", "add", {"namespace": "dev"}, "already names a namespace"),
        ("http://host", "add", {"namespace": "dev"}, "has no namespace"),
        ("math", "", {}, "names no path"),
        ("math", "add?x=1", {}, r"pass the query as params="),
    ],
)
async def test_invoke_refuses_unclear_addresses_before_sending(
    app_id: str, method_path: str, options: dict[str, Any], complaint: str
) -> None:
    runtime = ActorRuntime()
    with pytest.raises(ValueError, match=complaint):
        await runtime.invoke(app_id, method_path, **options)


async def test_invoke_takes_one_body() -> None:
    runtime = ActorRuntime()
    with pytest.raises(TypeError, match="not both"):
        await runtime.invoke("math", "add", json={}, data=b"")
    with pytest.raises(TypeError, match="data= takes bytes"):
        await runtime.invoke("math", "add", data="text")  # type: ignore[arg-type]


# -- the sidecar's absence ----------------------------------------------------------------------


async def test_a_sidecar_that_is_down_is_a_clear_sidecar_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runtime = ActorRuntime(sidecar=SidecarClient(endpoint=f"http://127.0.0.1:{port}"))

    @runtime.actor("lost")
    class Lost(Actor):
        @method
        async def call(self) -> None: ...

    async with runtime.lifespan():
        with pytest.raises(SidecarUnavailable, match=rf"127\.0\.0\.1:{port}.*is it running"):
            await Lost.proxy("1").call()
        with pytest.raises(SidecarUnavailable):
            await runtime.invoke("anyone", "anything")


def test_sidecar_response_headers_ignore_case_even_when_given_a_dict() -> None:
    response = SidecarResponse(200, {"X-Daprerrorresponseheader": "true"}, b"")
    assert "x-daprerrorresponseheader" in response.headers
    assert response.headers["X-DaprErrorResponseHeader"] == "true"
