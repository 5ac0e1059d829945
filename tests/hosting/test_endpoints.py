"""The callback routes daprd calls: statuses (P1–P7), reminders, timers, deactivation, auth.

Every test runs twice, through ``mount``: with the router included in a FastAPI app, and
behind the front door, which answers the same routes before the app sees them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from dapr_actors_fastapi import (
    Actor,
    ActorError,
    ActorInvokeError,
    ActorRuntime,
    SidecarError,
    Turn,
    current_turn,
    method,
    reminder,
    timer,
)

from ..helpers import Mount, error_body, make_app


class Alert(BaseModel):
    level: int


class Conflict(ActorError):
    status_code = 409
    error_code = "ERR_TROOPER_BUSY"


class Trooper(Actor):
    """Records what happened to it in a list shared by the test."""

    journal: list[Any]

    async def on_activate(self) -> None:
        self.journal.append(("activate", self.id))

    async def on_deactivate(self) -> None:
        self.journal.append(("deactivate", self.id))

    @method
    async def shoot(self) -> str:
        return "pew"

    @method
    async def fail(self) -> None:
        raise ValueError("blaster jammed")

    @method
    async def busy(self) -> None:
        raise Conflict("already shooting", details={"retryAfter": 1})

    @method
    async def turn(self) -> dict[str, Any]:
        turn = current_turn()
        assert turn is not None
        return turn._asdict()

    @reminder("checkRebels")
    async def check_rebels(self, data: Alert, due_time: str, period: str) -> None:
        self.journal.append(("checkRebels", data.level, due_time, period))

    @reminder
    async def any_reminder(self, name: str, data: Any = None) -> None:
        self.journal.append(("reminder", name, data))

    @timer("myEventHandler")
    async def my_event_handler(self, data: str | None = None) -> None:
        self.journal.append(("timer", data))

    @timer
    async def patrol(self, name: str) -> None:
        self.journal.append(("patrol", name))


@pytest.fixture
def journal() -> list[Any]:
    return []


def client_for(runtime: ActorRuntime, journal: list[Any], mount: Mount) -> Iterator[TestClient]:
    actor_class = type("JournaledTrooper", (Trooper,), {"journal": journal})
    runtime.actor("stormtrooper")(actor_class)
    with TestClient(mount(runtime)) as client:
        yield client


@pytest.fixture
def client(journal: list[Any], mount: Mount) -> Iterator[TestClient]:
    yield from client_for(ActorRuntime(), journal, mount)


# -- methods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["PUT", "POST"])
def test_success_is_exactly_200(client: TestClient, verb: str) -> None:
    response = client.request(verb, "/actors/stormtrooper/50/method/shoot")
    assert response.status_code == 200
    assert response.json() == "pew"


def test_first_call_activates_once(client: TestClient, journal: list[Any]) -> None:
    client.put("/actors/stormtrooper/50/method/shoot")
    client.put("/actors/stormtrooper/50/method/shoot")
    client.put("/actors/stormtrooper/51/method/shoot")
    assert journal == [("activate", "50"), ("activate", "51")]


def test_unknown_type_or_method_is_404(client: TestClient) -> None:
    unknown_type = client.put("/actors/tiefighter/1/method/shoot")
    assert unknown_type.status_code == 404
    assert "'tiefighter'" in error_body(unknown_type)["message"]
    unknown_method = client.put("/actors/stormtrooper/1/method/dance")
    assert unknown_method.status_code == 404
    assert "'dance'" in error_body(unknown_method)["message"]
    assert client.put("/actors/stormtrooper/1/method/remind/").status_code == 404


def test_other_verbs_are_not_callbacks(
    client: TestClient, journal: list[Any], mount: Mount
) -> None:
    answer = client.get("/actors/stormtrooper/1/method/shoot")
    # The router's route answers 405; the front door hands the request to the app, whose own
    # routes may use the verb (this app has none: 404).
    assert answer.status_code == (405 if mount is make_app else 404)
    assert journal == []


def test_actor_exception_is_500_with_dapr_error_body(client: TestClient) -> None:
    response = client.put("/actors/stormtrooper/1/method/fail")
    assert response.status_code == 500
    assert response.json() == {
        "errorCode": "ERR_ACTOR_METHOD",
        "message": "blaster jammed",
        "type": "ValueError",
    }
    assert "x-daprerrorresponseheader" not in response.headers


def test_actor_errors_choose_their_own_status(client: TestClient) -> None:
    response = client.put("/actors/stormtrooper/1/method/busy")
    assert response.status_code == 409
    assert response.json() == {
        "errorCode": "ERR_TROOPER_BUSY",
        "message": "already shooting",
        "retryAfter": 1,
    }


def test_header_error_style_answers_200_with_the_dapr_error_header(
    journal: list[Any], mount: Mount
) -> None:
    for client in client_for(ActorRuntime(error_style="header"), journal, mount):
        response = client.put("/actors/stormtrooper/1/method/fail")
        assert response.status_code == 200
        assert response.headers["x-daprerrorresponseheader"] == "true"
        assert error_body(response)["message"] == "blaster jammed"
        # Framework errors keep their status: only the actor's own failures are rewritten.
        assert client.put("/actors/stormtrooper/1/method/dance").status_code == 404


def sidecar_failures(runtime: ActorRuntime) -> ActorRuntime:
    @runtime.actor("scout")
    class Scout(Actor):
        @method
        async def refused(self) -> None:
            raise SidecarError(
                400, "ERR_MALFORMED_REQUEST", "bad ttl", method="POST", path="/v1.0/x/state"
            )

        @method
        async def ally_failed(self) -> None:
            raise ActorInvokeError(
                500,
                "ERR_ACTOR_INVOKE_METHOD",
                "error from actor service",
                method="PUT",
                path="/v1.0/actors/ally/1/method/help",
                actor_type="ally",
                actor_id="1",
                actor_method="help",
            )

    return runtime


@pytest.mark.parametrize("style", ["status", "header"])
def test_a_turn_the_sidecar_failed_is_answered_with_the_sidecars_code(
    style: Literal["status", "header"], mount: Mount
) -> None:
    runtime = sidecar_failures(ActorRuntime(error_style=style))
    with TestClient(mount(runtime)) as client:
        refused = client.put("/actors/scout/1/method/refused")
        ally = client.put("/actors/scout/1/method/ally_failed")
    assert refused.status_code == ally.status_code == (500 if style == "status" else 200)
    body = error_body(refused)
    # Not daprd's code as the errorCode: "malformed request" would blame the caller (P18).
    assert (body["errorCode"], body["sidecarStatus"], body["sidecarErrorCode"]) == (
        "ERR_SIDECAR_ERROR",
        400,
        "ERR_MALFORMED_REQUEST",
    )
    assert body["message"].startswith("the Dapr sidecar failed 'refused' of actor scout/1: ")
    assert "bad ttl" in body["message"]
    # Another actor's failure is this actor's own error, as any exception (P7).
    assert error_body(ally)["errorCode"] == "ERR_ACTOR_METHOD"


class Gate(Actor):
    @method
    async def missing(self) -> None:
        raise HTTPException(404, "no such ship")

    @method
    async def forbidden(self) -> None:
        raise StarletteHTTPException(403, "keep out")

    @method
    async def structured(self) -> None:
        raise HTTPException(409, detail={"ship": "x-wing", "state": "docked"})

    @reminder("check")
    async def check(self) -> None:
        raise HTTPException(404, "nothing to check")


@pytest.mark.parametrize("style", ["status", "header"])
def test_http_exceptions_keep_their_status_and_detail(
    style: Literal["status", "header"], mount: Mount
) -> None:
    runtime = ActorRuntime(error_style=style)
    runtime.actor("gate")(Gate)
    with TestClient(mount(runtime)) as client:
        answers = [
            client.put(f"/actors/gate/1/method/{name}")
            for name in ("missing", "forbidden", "structured")
        ]
        reminder_fire = client.put("/actors/gate/1/method/remind/check", json={})
    bodies = [error_body(answer) for answer in answers]
    # Before: every one of them was 500 with the exception's repr as the message (P20).
    assert [(b["errorCode"], b["message"], b["type"]) for b in bodies] == [
        ("ERR_ACTOR_METHOD", "no such ship", "HTTPException"),
        ("ERR_ACTOR_METHOD", "keep out", "HTTPException"),
        ("ERR_ACTOR_METHOD", '{"ship": "x-wing", "state": "docked"}', "HTTPException"),
    ]
    assert bodies[2]["detail"] == {"ship": "x-wing", "state": "docked"}
    if style == "status":
        assert [answer.status_code for answer in answers] == [404, 403, 409]
    else:
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert all(a.headers["x-daprerrorresponseheader"] == "true" for a in answers)
    # Reminder fires are never header-styled: daprd must see the failure (P7).
    assert (reminder_fire.status_code, error_body(reminder_fire)["message"]) == (
        404,
        "nothing to check",
    )


def test_turn_context_carries_the_propagated_headers(client: TestClient) -> None:
    headers = {
        "dapr-reentrancy-id": "chain-1",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "congo=t61rcWkgMzE",
    }
    response = client.put("/actors/stormtrooper/7/method/turn", headers=headers)
    assert Turn(**response.json()) == Turn(
        kind="method",
        name="turn",
        actor_type="stormtrooper",
        actor_id="7",
        reentrancy_id="chain-1",
        traceparent=headers["traceparent"],
        tracestate=headers["tracestate"],
    )
    assert current_turn() is None


def test_ids_with_url_significant_characters_are_decoded(client: TestClient) -> None:
    response = client.put("/actors/stormtrooper/TK%20421/method/turn")
    assert response.json()["actor_id"] == "TK 421"


# -- reminders ----------------------------------------------------------------------------------


def test_named_reminder_gets_typed_data_and_daprd_empty_strings(
    client: TestClient, journal: list[Any]
) -> None:
    body = {"data": {"level": 3}, "dueTime": "", "period": ""}
    response = client.put("/actors/stormtrooper/50/method/remind/checkRebels", json=body)
    assert (response.status_code, response.content) == (200, b"")
    assert journal[-1] == ("checkRebels", 3, "", "")


def test_reminder_as_registered_in_the_seed(client: TestClient, journal: list[Any]) -> None:
    body = {"data": {"level": 1}, "dueTime": "1m", "period": "20s"}
    client.put("/actors/stormtrooper/50/method/remind/checkRebels", json=body)
    assert journal[-1] == ("checkRebels", 1, "1m", "20s")


def test_bad_reminder_data_is_400_naming_the_field(client: TestClient) -> None:
    body = {"data": {"level": "high"}, "dueTime": "", "period": ""}
    response = client.put("/actors/stormtrooper/50/method/remind/checkRebels", json=body)
    assert response.status_code == 400
    assert "data.level" in error_body(response)["message"]


def test_catch_all_reminder_learns_the_name(client: TestClient, journal: list[Any]) -> None:
    client.put("/actors/stormtrooper/50/method/remind/other", json={"data": [1], "dueTime": ""})
    client.put("/actors/stormtrooper/50/method/remind/bare")  # no body at all
    assert journal[-2:] == [("reminder", "other", [1]), ("reminder", "bare", None)]


def test_reminder_without_handler_is_404(mount: Mount) -> None:
    class Quiet(Actor):
        pass

    runtime = ActorRuntime()
    runtime.actor(Quiet)
    with TestClient(mount(runtime)) as client:
        response = client.put("/actors/Quiet/1/method/remind/ping", json={})
        assert response.status_code == 404
        assert "@reminder" in error_body(response)["message"]


@pytest.mark.parametrize("body", [b"[1]", b"{not json", b'"text"'])
def test_malformed_callback_bodies_are_400(client: TestClient, body: bytes) -> None:
    response = client.put("/actors/stormtrooper/1/method/remind/checkRebels", content=body)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"1e400", "1e400"),
        (b"NaN", "NaN"),
        (b'"\\ud800"', "hex escape"),
        (b'"\xed\xa0\x80"', "unicode"),
        (b"[" * 300 + b"]" * 300, "recursion"),
    ],
)
def test_callback_data_json_cannot_carry_is_400(
    client: TestClient, journal: list[Any], data: bytes, named: str
) -> None:
    # Found by the fault suite: json.loads handed these to the handler, whose first state save
    # then refused them with a 500. Method bodies refused them already.
    response = client.put(
        "/actors/stormtrooper/1/method/remind/any", content=b'{"data":' + data + b"}"
    )
    assert response.status_code == 400, response.text
    assert named in error_body(response)["message"]
    assert not [entry for entry in journal if entry[0] == "reminder"]


# -- timers -------------------------------------------------------------------------------------


def test_timer_dispatches_on_the_callback_name(client: TestClient, journal: list[Any]) -> None:
    body = {"data": "hello", "callback": "myEventHandler", "dueTime": "0s", "period": "10s"}
    response = client.put("/actors/stormtrooper/50/method/timer/checkRebels", json=body)
    assert (response.status_code, response.content) == (200, b"")
    assert journal[-1] == ("timer", "hello")


def test_timer_with_empty_callback_falls_back_to_the_timer_name(
    client: TestClient, journal: list[Any]
) -> None:
    client.put("/actors/stormtrooper/50/method/timer/patrol", json={"callback": ""})
    client.put("/actors/stormtrooper/50/method/timer/myEventHandler")
    assert journal[-2:] == [("patrol", "patrol"), ("timer", None)]


def test_timer_with_unknown_callback_is_404(client: TestClient) -> None:
    response = client.put("/actors/stormtrooper/1/method/timer/t", json={"callback": "nope"})
    assert response.status_code == 404
    assert "myEventHandler" in error_body(response)["message"]
    no_fallback = client.put("/actors/stormtrooper/1/method/timer/checkRebels", json={})
    assert no_fallback.status_code == 404


# -- deactivation -------------------------------------------------------------------------------


def test_deactivate_runs_the_hook_and_the_next_call_reactivates(
    client: TestClient, journal: list[Any]
) -> None:
    client.put("/actors/stormtrooper/50/method/shoot")
    response = client.delete("/actors/stormtrooper/50")
    assert (response.status_code, response.content) == (200, b"")
    client.put("/actors/stormtrooper/50/method/shoot")
    assert journal == [("activate", "50"), ("deactivate", "50"), ("activate", "50")]


def test_deactivating_an_inactive_id_is_200_without_hooks(
    client: TestClient, journal: list[Any]
) -> None:
    assert client.delete("/actors/stormtrooper/never").status_code == 200
    client.put("/actors/stormtrooper/50/method/shoot")
    client.delete("/actors/stormtrooper/50")
    assert client.delete("/actors/stormtrooper/50").status_code == 200
    assert journal == [("activate", "50"), ("deactivate", "50")]


def test_deactivating_an_unknown_type_is_400(client: TestClient) -> None:
    response = client.delete("/actors/tiefighter/1")
    assert response.status_code == 400
    assert "'tiefighter'" in error_body(response)["message"]


def test_failing_on_deactivate_is_500_and_still_drops_the_actor(mount: Mount) -> None:
    activations: list[str] = []

    class Fragile(Actor):
        async def on_activate(self) -> None:
            activations.append(self.id)

        async def on_deactivate(self) -> None:
            raise RuntimeError("cannot let go")

        @method
        async def poke(self) -> None:
            pass

    runtime = ActorRuntime()
    runtime.actor(Fragile)
    with TestClient(mount(runtime)) as client:
        client.put("/actors/Fragile/1/method/poke")
        response = client.delete("/actors/Fragile/1")
        assert response.status_code == 500
        assert error_body(response)["message"] == "cannot let go"
        client.put("/actors/Fragile/1/method/poke")
    assert activations == ["1", "1"]


# -- health, tokens, limits ---------------------------------------------------------------------


def test_healthz_is_200(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_app_token_guards_every_route_but_healthz(journal: list[Any], mount: Mount) -> None:
    for client in client_for(ActorRuntime(app_api_token="s3cret"), journal, mount):
        for verb, path in [
            ("PUT", "/actors/stormtrooper/1/method/shoot"),
            ("PUT", "/actors/stormtrooper/1/method/remind/checkRebels"),
            ("PUT", "/actors/stormtrooper/1/method/timer/patrol"),
            ("DELETE", "/actors/stormtrooper/1"),
            ("GET", "/dapr/config"),
        ]:
            denied = client.request(verb, path, headers={"dapr-api-token": "guess"})
            assert denied.status_code == 401, path
            assert error_body(denied)["errorCode"] == "ERR_API_TOKEN"
            assert client.request(verb, path).status_code == 401, path
        assert client.get("/healthz").status_code == 200
        ok = client.put("/actors/stormtrooper/1/method/shoot", headers={"dapr-api-token": "s3cret"})
        assert ok.status_code == 200
        assert journal == [("activate", "1")]  # nothing denied reached the actor


def test_bodies_over_the_limit_are_413(journal: list[Any], mount: Mount) -> None:
    for client in client_for(ActorRuntime(max_body_size=1024), journal, mount):
        big = client.put("/actors/stormtrooper/1/method/shoot", content=b"x" * 1025)
        assert big.status_code == 413
        assert "1024" in error_body(big)["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            yield b"x" * 1000
            yield b"x" * 1000

        streamed = client.put("/actors/stormtrooper/1/method/shoot", content=chunks())
        assert streamed.status_code == 413
        fits = client.put("/actors/stormtrooper/1/method/shoot", content=b"x" * 1024)
        assert fits.status_code == 200


# -- hooks ----------------------------------------------------------------------------------------


class Hooked(Actor):
    events: list[Any]
    fail_activation: list[bool]

    async def on_activate(self) -> None:
        if self.fail_activation and self.fail_activation.pop():
            raise ConnectionError("state store unreachable")
        self.events.append("activate")

    async def on_turn_start(self, turn: Turn) -> None:
        self.events.append(f"start {turn.kind} {turn.name}")

    async def on_turn_end(self, turn: Turn) -> None:
        self.events.append(f"end {turn.kind} {turn.name}")

    async def on_turn_error(self, turn: Turn, error: Exception) -> None:
        self.events.append(f"error {turn.kind} {turn.name}: {error}")
        if "twice" in str(error):
            raise RuntimeError("the error hook failed too")

    @method
    async def work(self) -> str:
        self.events.append("work")
        return "ok"

    @method
    async def fail(self, message: str) -> None:
        raise KeyError(message)

    @reminder("r")
    async def on_reminder(self) -> None:
        self.events.append("remind")


@pytest.fixture
def hooked(mount: Mount) -> Iterator[tuple[TestClient, list[Any], list[bool]]]:
    events: list[Any] = []
    fail_activation: list[bool] = []
    runtime = ActorRuntime()
    actor_class = type(
        "HookedActor", (Hooked,), {"events": events, "fail_activation": fail_activation}
    )
    runtime.actor("hooked")(actor_class)
    with TestClient(mount(runtime)) as client:
        yield client, events, fail_activation


def test_turn_hooks_wrap_each_handler(hooked: tuple[TestClient, list[Any], list[bool]]) -> None:
    client, events, _ = hooked
    client.put("/actors/hooked/1/method/work")
    client.put("/actors/hooked/1/method/remind/r", json={})
    assert events == [
        "activate",
        "start method work",
        "work",
        "end method work",
        "start reminder r",
        "remind",
        "end reminder r",
    ]


def test_turn_error_hook_sees_the_failure(
    hooked: tuple[TestClient, list[Any], list[bool]], caplog: pytest.LogCaptureFixture
) -> None:
    client, events, _ = hooked
    response = client.put("/actors/hooked/1/method/fail", json={"message": "lost"})
    assert response.status_code == 500
    assert error_body(response)["type"] == "KeyError"
    assert events[-2:] == ["start method fail", "error method fail: 'lost'"]
    # A failing error hook is logged; the caller still gets the original error.
    again = client.put("/actors/hooked/1/method/fail", json={"message": "twice"})
    assert error_body(again)["message"] == "'twice'"
    assert "on_turn_error" in caplog.text


def test_failed_activation_is_500_and_the_next_call_activates_again(
    hooked: tuple[TestClient, list[Any], list[bool]],
) -> None:
    client, events, fail_activation = hooked
    fail_activation.append(True)
    response = client.put("/actors/hooked/1/method/work")
    assert response.status_code == 500
    assert error_body(response) == {
        "errorCode": "ERR_ACTOR_METHOD",
        "message": "state store unreachable",
        "type": "ConnectionError",
    }
    assert events == ["error method work: state store unreachable"]
    assert client.put("/actors/hooked/1/method/work").status_code == 200
    assert events[1:3] == ["activate", "start method work"]


# -- bodies nested too deeply -------------------------------------------------------------------

DEEP = 100_000


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class Deep(Actor):
    @method
    async def whole(self, body: Any) -> None:
        pass

    @method
    async def keyed(self, cargo: Any = None) -> None:
        pass

    @method
    async def shallow(self) -> str:
        return "still serving"

    @reminder
    async def any_reminder(self, data: Any = None) -> None:
        pass

    @timer
    async def tick(self, data: Any = None) -> None:
        pass


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("whole", nested(DEEP)),
        ("keyed", b'{"cargo": ' + nested(DEEP) + b"}"),
        ("remind/deep", b'{"data": ' + nested(DEEP) + b"}"),
        ("timer/tick", b'{"data": ' + nested(DEEP) + b', "callback": "tick"}'),
        ("remind/deep", nested(DEEP)),
    ],
)
def test_json_nested_too_deeply_is_400_and_the_app_keeps_serving(
    target: str, body: bytes, mount: Mount
) -> None:
    # Python's json raises RecursionError on such bodies; that must not become a bare 500.
    runtime = ActorRuntime()
    runtime.actor(Deep)
    with TestClient(mount(runtime), raise_server_exceptions=False) as client:
        response = client.put(f"/actors/Deep/1/method/{target}", content=body)
        assert response.status_code == 400, response.text
        message = error_body(response)["message"]
        assert "recursion" in message or "nested" in message, message
        assert client.put("/actors/Deep/1/method/shallow").json() == "still serving"
