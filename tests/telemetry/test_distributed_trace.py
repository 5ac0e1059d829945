"""An actor calling another through the dev sidecar is one trace: each relay is daprd's
``CallActor`` span, each turn its child, and the call between them the first turn's client
span."""

from __future__ import annotations

import contextlib

import aiohttp
import pytest
from opentelemetry.trace import SpanKind

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app

from ..helpers import free_port, make_app, serve
from .conftest import Otel

ROOT_TRACE = 0x5B8AA5A2D2C872E8321CF37308D69DF2
ROOT_SPAN = 0x051581BF3CB55C13


def academy(otel: Otel) -> ActorRuntime:
    runtime = otel.runtime()

    @runtime.actor("student")
    class Student(Actor):
        @method
        async def answer(self, question: str) -> str:
            return f"{question}: 42"

    @runtime.actor("teacher")
    class Teacher(Actor):
        @method
        async def ask(self) -> str:
            return await Student.proxy("s1").answer(question="life")

    return runtime


async def test_an_actor_to_actor_call_is_one_trace_from_relay_to_turn_to_relay_to_turn(
    otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_port = free_port()
    settings = SidecarSettings(
        app_url=f"http://127.0.0.1:{app_port}",
        state_db=":memory:",
        tracer_provider=otel.tracer_provider,
    )
    async with contextlib.AsyncExitStack() as stack:
        sidecar_url = await stack.enter_async_context(serve(create_app(settings)))
        monkeypatch.setenv("DAPR_HTTP_ENDPOINT", sidecar_url)
        await stack.enter_async_context(serve(make_app(academy(otel)), port=app_port))
        http = await stack.enter_async_context(aiohttp.ClientSession(sidecar_url))
        root = f"00-{ROOT_TRACE:032x}-{ROOT_SPAN:016x}-01"
        async with http.put(
            "/v1.0/actors/teacher/t1/method/ask", headers={"traceparent": root}
        ) as response:
            assert (response.status, await response.json()) == (200, "life: 42")
    spans = otel.spans()
    chain = [
        ("CallActor/teacher/ask", SpanKind.SERVER),
        ("teacher/ask", SpanKind.SERVER),
        ("invoke_actor", SpanKind.CLIENT),
        ("CallActor/student/answer", SpanKind.SERVER),
        ("student/answer", SpanKind.SERVER),
    ]
    parent = ROOT_SPAN
    for name, kind in chain:
        span = spans[name]
        assert span.kind == kind, name
        assert span.context.trace_id == ROOT_TRACE, name
        assert span.parent is not None, name
        assert span.parent.span_id == parent, name
        parent = span.context.span_id
    relay = spans["CallActor/student/answer"]
    assert relay.attributes is not None
    assert relay.attributes["dapr.api.actor_type_id"] == "student.s1"
