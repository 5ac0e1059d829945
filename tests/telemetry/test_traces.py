"""Spans: one server span per turn, parented on daprd's ``traceparent``; activation as its
child; a client span per call to the sidecar, whose context goes out instead of the turn's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
from opentelemetry.trace import SpanKind, StatusCode

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder

from ..helpers import Mount, make_app
from .conftest import FakeSidecar, Otel

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CALLER_SPAN = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{CALLER_SPAN:016x}-01"


def fleet(otel: Otel, **settings: object) -> ActorRuntime:
    runtime = otel.runtime(**settings)

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self) -> int:
            trips = await self.state.get("trips", int, default=0)
            await self.state.set("trips", trips + 1)
            return trips + 1

        @method
        async def crash(self) -> None:
            raise ValueError("hit the trench wall")

        @reminder("refuel")
        async def refuel(self) -> None:
            pass

    return runtime


@contextlib.asynccontextmanager
async def app_client(
    runtime: ActorRuntime, mount: Mount = make_app
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process with its lifespan running, as daprd would call it (through the
    router unless ``mount`` says otherwise)."""
    transport = httpx.ASGITransport(app=mount(runtime))
    async with (
        runtime.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://app") as client,
    ):
        yield client


async def test_a_method_turn_is_a_server_span_under_daprds_and_activation_its_child(
    otel: Otel, fake_sidecar: FakeSidecar, mount: Mount
) -> None:
    async with app_client(fleet(otel), mount) as app:
        answer = await app.put("/actors/x-wing/33/method/fly", headers={"traceparent": TRACEPARENT})
        assert (answer.status_code, answer.json()) == (200, 1)
    spans = otel.spans()
    turn, activation = spans["x-wing/fly"], spans["x-wing/activate"]
    assert turn.kind == SpanKind.SERVER
    assert turn.context.trace_id == TRACE_ID
    assert turn.parent is not None
    assert turn.parent.span_id == CALLER_SPAN
    attributes = dict(turn.attributes or {})
    assert attributes.pop("dapr.actor.queue_wait_ms") >= 0
    assert attributes == {
        "rpc.system": "dapr",
        "rpc.service": "x-wing",
        "rpc.method": "fly",
        "dapr.actor.type": "x-wing",
        "dapr.actor.id": "33",
        "dapr.actor.turn": "method",
    }
    assert activation.parent is not None
    assert activation.parent.span_id == turn.context.span_id
    assert turn.status.status_code == StatusCode.UNSET


async def test_calls_to_the_sidecar_are_client_spans_that_carry_their_own_context(
    otel: Otel, fake_sidecar: FakeSidecar, mount: Mount
) -> None:
    async with app_client(fleet(otel), mount) as app:
        answer = await app.put("/actors/x-wing/33/method/fly", headers={"traceparent": TRACEPARENT})
        assert answer.status_code == 200
    spans = otel.spans()
    turn = spans["x-wing/fly"]
    sent = {(method, path): headers for method, path, headers in fake_sidecar.requests}
    for name, request in [
        ("state.get", ("GET", "/v1.0/actors/x-wing/33/state/trips")),
        ("state.save", ("POST", "/v1.0/actors/x-wing/33/state")),
    ]:
        client = spans[name]
        assert client.kind == SpanKind.CLIENT
        assert client.parent is not None
        assert client.parent.span_id == turn.context.span_id
        assert client.attributes is not None
        assert client.attributes["http.response.status_code"] == 204
        expected = f"00-{TRACE_ID:032x}-{client.context.span_id:016x}-01"
        assert sent[request]["traceparent"] == expected  # the trace goes on through daprd


async def test_a_failed_turn_records_the_actors_exception_and_an_error_status(
    otel: Otel, fake_sidecar: FakeSidecar, mount: Mount
) -> None:
    async with app_client(fleet(otel), mount) as app:
        assert (await app.put("/actors/x-wing/1/method/crash")).status_code == 500
    turn = otel.spans()["x-wing/crash"]
    assert turn.status.status_code == StatusCode.ERROR
    (event,) = [event for event in turn.events if event.name == "exception"]
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "hit the trench wall"


async def test_a_failed_save_marks_the_client_span_and_the_turn(
    otel: Otel, fake_sidecar: FakeSidecar, mount: Mount
) -> None:
    fake_sidecar.fail_status = 500
    async with app_client(fleet(otel), mount) as app:
        assert (await app.put("/actors/x-wing/1/method/fly")).status_code == 500
    spans = otel.spans()
    assert spans["state.get"].status.status_code == StatusCode.ERROR
    assert spans["x-wing/fly"].status.status_code == StatusCode.ERROR


async def test_reminders_deactivations_and_reentrant_chains_have_their_spans(
    otel: Otel, fake_sidecar: FakeSidecar, mount: Mount
) -> None:
    async with app_client(fleet(otel, reentrancy=True), mount) as app:
        envelope = {"dueTime": "0s", "period": "", "data": None}
        chain = {"Dapr-Reentrancy-Id": "chain-1"}
        fired = await app.put("/actors/x-wing/5/method/remind/refuel", json=envelope, headers=chain)
        assert fired.status_code == 200
        gone = await app.delete("/actors/x-wing/5", headers={"traceparent": TRACEPARENT})
        assert gone.status_code == 200
    spans = otel.spans()
    refuel = spans["x-wing/refuel"]
    assert refuel.attributes is not None
    assert refuel.attributes["dapr.actor.turn"] == "reminder"
    assert refuel.attributes["dapr.reentrancy_id"] == "chain-1"
    deactivation = spans["x-wing/deactivate"]
    assert deactivation.attributes is not None
    assert deactivation.attributes["dapr.actor.turn"] == "deactivate"
    assert deactivation.parent is not None
    assert deactivation.parent.span_id == CALLER_SPAN


async def test_outside_any_span_the_turns_headers_pass_through_unchanged(
    fake_sidecar: FakeSidecar,
) -> None:
    """No SDK installed (the global providers are the API's placeholders): no spans, and the
    sidecar gets daprd's traceparent as it came."""
    runtime = ActorRuntime()

    @runtime.actor("probe")
    class Probe(Actor):
        @method
        async def look(self) -> None:
            await self.state.get("anything", int, default=0)

    async with app_client(runtime) as app:
        answer = await app.put("/actors/probe/1/method/look", headers={"traceparent": TRACEPARENT})
        assert answer.status_code == 200
    ((_, _, headers),) = fake_sidecar.requests
    assert headers["traceparent"] == TRACEPARENT


async def test_a_call_outside_turns_and_spans_gets_no_span_and_no_traceparent(
    otel: Otel, fake_sidecar: FakeSidecar
) -> None:
    runtime = fleet(otel)
    async with runtime.lifespan():
        await runtime.sidecar.request("GET", "/v1.0/actors/x-wing/1/state/trips")
        await asyncio.sleep(0)
    assert otel.spans() == {}
    ((_, _, headers),) = fake_sidecar.requests
    assert "traceparent" not in headers


async def test_under_a_server_span_of_the_framework_the_turn_is_an_internal_child(
    otel: Otel, fake_sidecar: FakeSidecar
) -> None:
    """As with FastAPI's own telemetry or OpenTelemetry's ASGI middleware, which start the
    request's server span from the same traceparent before the route runs."""
    app = make_app(fleet(otel))
    tracer = otel.tracer_provider.get_tracer("framework")

    async def traced(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        with tracer.start_as_current_span("PUT /actors/...", kind=SpanKind.SERVER):
            await app(scope, receive, send)

    transport = httpx.ASGITransport(app=traced)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert (await client.put("/actors/x-wing/1/method/crash")).status_code == 500
    spans = otel.spans()
    outer, turn = spans["PUT /actors/..."], spans["x-wing/crash"]
    assert turn.kind == SpanKind.INTERNAL
    assert turn.parent is not None
    assert turn.parent.span_id == outer.context.span_id
