"""``ActorLogContext`` stamps records with the turn they come from: the user's own loggers'
records as well as the package's, with the trace of the turn, and ``None`` outside turns."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from dapr_actors_fastapi import Actor, ActorLogContext, ActorRuntime, method

from .helpers import asgi_client

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
SPAN = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=False,
                   trace_flags=TraceFlags(TraceFlags.SAMPLED))  # fmt: skip

user_log = logging.getLogger("tests.fleet")  # the user's own logger, not the package's


class Recorder(logging.Handler):
    """A handler with the filter attached, as the README sets one up."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(ActorLogContext())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def fields(self, message: str) -> dict[str, object]:
        (record,) = [record for record in self.records if record.getMessage() == message]
        names = ("name", "actor_type", "actor_id", "turn", "turn_name", "trace_id", "span_id")
        return {field: getattr(record, field) for field in names}


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    loggers = [logging.getLogger("dapr_actors_fastapi"), user_log]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)


def fleet() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("x-wing")
    class XWing(Actor):
        @method
        async def fly(self) -> None:
            user_log.info("flying")

        @method
        async def fly_in_span(self) -> None:
            with trace.use_span(NonRecordingSpan(SPAN)):
                user_log.info("flying in a span")

    return runtime


async def test_records_inside_a_turn_carry_the_actor_and_the_incoming_trace(
    recorder: Recorder,
) -> None:
    async with asgi_client(fleet()) as client:
        answer = await client.put(
            "/actors/x-wing/33/method/fly", headers={"traceparent": TRACEPARENT}
        )
        assert answer.status_code == 200
    assert recorder.fields("flying") == {
        "name": "tests.fleet",  # the logger's name is left alone
        "actor_type": "x-wing",
        "actor_id": "33",
        "turn": "method",
        "turn_name": "fly",
        "trace_id": TRACE_ID,
        "span_id": PARENT_ID,
    }


async def test_an_active_span_wins_over_the_incoming_traceparent(recorder: Recorder) -> None:
    async with asgi_client(fleet()) as client:
        answer = await client.put(
            "/actors/x-wing/33/method/fly_in_span", headers={"traceparent": TRACEPARENT}
        )
        assert answer.status_code == 200
    stamped = recorder.fields("flying in a span")
    assert (stamped["trace_id"], stamped["span_id"]) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
    )


async def test_a_turn_without_trace_headers_has_no_trace_ids(recorder: Recorder) -> None:
    async with asgi_client(fleet()) as client:
        assert (await client.put("/actors/x-wing/7/method/fly")).status_code == 200
    stamped = recorder.fields("flying")
    assert (stamped["actor_id"], stamped["trace_id"], stamped["span_id"]) == ("7", None, None)


async def test_activation_and_deactivation_are_logged_at_debug_in_their_turns(
    recorder: Recorder,
) -> None:
    async with asgi_client(fleet()) as client:
        assert (await client.put("/actors/x-wing/33/method/fly")).status_code == 200
        assert (await client.delete("/actors/x-wing/33")).status_code == 200
    activated = recorder.fields("activated x-wing/33")
    assert activated["name"] == "dapr_actors_fastapi._hosting.type_host"
    assert (activated["actor_id"], activated["turn"], activated["turn_name"]) == (
        "33",
        "method",
        "fly",
    )
    assert recorder.fields("deactivated x-wing/33")["turn"] == "deactivate"
    levels = {record.levelno for record in recorder.records if "activated" in record.getMessage()}
    assert levels == {logging.DEBUG}


def test_records_outside_turns_pass_with_empty_fields() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "startup", None, None)
    assert ActorLogContext().filter(record) is True
    assert [getattr(record, field) for field in ("actor_type", "turn_name", "trace_id")] == [
        None,
        None,
        None,
    ]
    assert record.name == "app"


@pytest.mark.parametrize("traceparent", ["", "garbage", "00-short-ids-01", "00-" + "a" * 60])
async def test_a_malformed_traceparent_gives_no_trace_ids(
    recorder: Recorder, traceparent: str
) -> None:
    async with asgi_client(fleet()) as client:
        answer = await client.put(
            "/actors/x-wing/9/method/fly", headers={"traceparent": traceparent}
        )
        assert answer.status_code == 200
    stamped = recorder.fields("flying")
    assert (stamped["trace_id"], stamped["span_id"]) == (None, None)
