"""Bad input to the dev sidecar's state, reminder and timer routes is a 4xx naming the problem,
never a bare 500, the sidecar keeps serving, and valid input still round-trips
(docs/protocol.md §7.2, §7.4, §7.5).

One app and one dev sidecar on loopback serve the whole module (a module-scoped fixture in a
module-scoped event loop): starting them costs more than all the examples together.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from ..sidecar.test_actors import cluster
from ..sidecar.test_bad_input import ACTOR, vault_app
from .strategies import (
    BODIES,
    DURATION_LIKE,
    HUGE_NUMBERS,
    JSON_VALUES,
    NOT_JSON_NUMBERS,
    deeply_nested,
    encoded_bytes,
    path_segment,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with cluster(vault_app()) as (session, _):
        async with session.put(f"{ACTOR}/method/open") as r:
            assert r.status == 200  # active, so that state can be written
        yield session


class Answer:
    """A response read in full: status and parsed JSON error body, if any."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type

    def error(self) -> dict[str, Any]:
        """Dapr's error shape, asserting it: a 4xx with ``errorCode`` and ``message``."""
        assert 400 <= self.status < 500, (self.status, self.body[:300])
        assert self.content_type == "application/json", (self.content_type, self.body[:300])
        error: dict[str, Any] = json.loads(self.body)
        assert isinstance(error.get("errorCode"), str), error
        assert isinstance(error.get("message"), str), error
        assert error["message"], error
        return error


async def call(http: aiohttp.ClientSession, verb: str, path: str, body: bytes = b"") -> Answer:
    async with http.request(verb, path, data=body) as r:
        answer = Answer(r.status, await r.read(), r.content_type)
    event(f"{verb} answered {answer.status}")  # shown by --hypothesis-show-statistics
    await still_serving(http)
    return answer


async def still_serving(http: aiohttp.ClientSession) -> None:
    async with http.put(f"{ACTOR}/method/open") as r:
        assert (r.status, await r.json()) == (200, "open")


def not_a_dot_segment(text: str) -> bool:
    """``.`` and ``..`` as path segments are removed by the client before sending (RFC 3986)."""
    return text not in (".", "..")


# -- state transactions -------------------------------------------------------------------------

KEYS = st.text(max_size=24) | st.sampled_from(["", "||", "a||b", "%", "é", "\x00", "k" * 3000])
METADATA = (
    st.fixed_dictionaries({}, optional={"ttlInSeconds": DURATION_LIKE | st.text() | JSON_VALUES})
    | JSON_VALUES
)
OPERATIONS = st.fixed_dictionaries(
    {},
    optional={
        "operation": st.sampled_from(["upsert", "delete", "Upsert", "get", ""]) | JSON_VALUES,
        "request": st.fixed_dictionaries(
            {},
            optional={
                "key": KEYS | JSON_VALUES,
                "value": JSON_VALUES,
                "metadata": METADATA,
                "etag": JSON_VALUES,
            },
        )
        | JSON_VALUES,
    },
)
TRANSACTIONS = st.one_of(
    BODIES,
    st.lists(OPERATIONS, max_size=3).map(lambda ops: json.dumps(ops).encode()),
    st.builds(
        lambda key, value: (
            f'[{{"operation":"upsert","request":{{"key":{json.dumps(key)},"value":{value}}}}}]'
        ).encode(),
        KEYS,
        HUGE_NUMBERS | NOT_JSON_NUMBERS | deeply_nested(),
    ),
)


@settings(max_examples=120)
@given(body=TRANSACTIONS)
@example(
    body=b'[{"operation":"upsert","request":{"key":"k","value":1,"metadata":{"ttlInSeconds":"1e3"}}}]'
)
@example(
    body=b'[{"operation":"upsert","request":{"key":"k","value":1,"metadata":{"ttlInSeconds":" 5"}}}]'
)
async def test_any_state_transaction_is_204_or_a_named_400(
    http: aiohttp.ClientSession, body: bytes
) -> None:
    answer = await call(http, "POST", f"{ACTOR}/state", body)
    if answer.status != 204:
        assert answer.error()["errorCode"] == "ERR_MALFORMED_REQUEST"


@settings(max_examples=60)
@given(
    key=st.text(min_size=1, max_size=40).filter(not_a_dot_segment),
    value=JSON_VALUES,
    ttl=st.none() | st.integers(-1, 10**6),
)
@example(key="%2F/ é\u2028", value={"<&>": [1.5, -0.0, 2**70]}, ttl=None)
async def test_valid_state_round_trips(
    http: aiohttp.ClientSession, key: str, value: Any, ttl: int | None
) -> None:
    request: dict[str, Any] = {"key": key, "value": value}
    if ttl is not None:
        request["metadata"] = {"ttlInSeconds": str(ttl)}
    body = json.dumps([{"operation": "upsert", "request": request}]).encode()
    written = await call(http, "POST", f"{ACTOR}/state", body)
    assert written.status == 204, written.body
    read = await call(http, "GET", f"{ACTOR}/state/{path_segment(key)}")
    if ttl == 0:
        assert read.status in (200, 204)  # expires at once, or within the second
    else:
        assert (read.status, json.loads(read.body)) == (200, value)


@settings(max_examples=60)
@given(key=st.binary(max_size=12), actor_id=st.binary(max_size=12))
@example(key=b"\xff", actor_id=b"1")
@example(key=b"k", actor_id=b"\xc3")
@example(key=b"\n\x00", actor_id=b"")
async def test_any_percent_encoded_key_or_actor_id(
    http: aiohttp.ClientSession, key: bytes, actor_id: bytes
) -> None:
    path = f"/v1.0/actors/vault/{encoded_bytes(actor_id)}/state/{encoded_bytes(key)}"
    answer = await call(http, "GET", path)
    assert answer.status < 500, (answer.status, answer.body[:300])
    if answer.status not in (200, 204) and actor_id:  # no id: service invocation's fall-through
        answer.error()


# -- reminders and timers -----------------------------------------------------------------------

REGISTRATIONS = st.one_of(
    BODIES,
    st.fixed_dictionaries(
        {},
        optional={
            "dueTime": DURATION_LIKE | JSON_VALUES,
            "period": DURATION_LIKE | JSON_VALUES,
            "ttl": DURATION_LIKE | JSON_VALUES,
            "data": JSON_VALUES,
            "callback": st.sampled_from(["tick", "nope"]) | JSON_VALUES,
        },
    ).map(lambda registration: json.dumps(registration).encode()),
    st.builds(
        lambda field, text: f'{{"dueTime":"1h","{field}":{text}}}'.encode(),
        st.sampled_from(["dueTime", "period", "ttl", "data"]),
        HUGE_NUMBERS | NOT_JSON_NUMBERS | deeply_nested(),
    ),
)


@settings(max_examples=150)
@given(kind=st.sampled_from(["reminders", "timers"]), body=REGISTRATIONS)
@example(kind="reminders", body=b'{"dueTime":"9223372036854775807ns","period":"1h"}')
@example(kind="timers", body=b'{"dueTime":"1h","period":"R0/PT1S"}')
@example(kind="timers", body=b'{"dueTime":"1h","period":"PT0S"}')
async def test_any_registration_is_204_or_a_named_4xx(
    http: aiohttp.ClientSession, kind: str, body: bytes
) -> None:
    answer = await call(http, "PUT", f"{ACTOR}/{kind}/r", body)
    try:
        if answer.status != 204:
            answer.error()
    finally:
        # A registered job must not fire through the rest of the module.
        async with http.delete(f"{ACTOR}/{kind}/r") as r:
            assert r.status == 204


# The verbs the reminder and timer routes serve; any other falls through to service invocation.
SCHEDULE_ROUTES = [(kind, verb) for kind in ("reminders", "timers") for verb in ("PUT", "DELETE")]
SCHEDULE_ROUTES.append(("reminders", "GET"))


@settings(max_examples=60)
@given(
    route=st.sampled_from(SCHEDULE_ROUTES),
    name=st.binary(max_size=12),
    actor_id=st.binary(max_size=12),
)
@example(route=("reminders", "PUT"), name=b"\xff", actor_id=b"1")
@example(route=("reminders", "GET"), name=b"r", actor_id=b"\x00")
@example(route=("reminders", "PUT"), name=b"\n\x00", actor_id=b"")
async def test_any_percent_encoded_reminder_name_or_actor_id(
    http: aiohttp.ClientSession, route: tuple[str, str], name: bytes, actor_id: bytes
) -> None:
    kind, verb = route
    path = f"/v1.0/actors/vault/{encoded_bytes(actor_id)}/{kind}/{encoded_bytes(name)}"
    body = b'{"dueTime":"1h"}' if verb == "PUT" else b""
    answer = await call(http, verb, path, body)
    try:
        assert answer.status < 500, (answer.status, answer.body[:300])
        # Without an id or a name the path is no reminder or timer route, but service
        # invocation's fall-through, which this suite does not cover.
        if answer.status not in (200, 204) and name and actor_id:
            answer.error()
    finally:
        async with http.delete(path) as r:
            assert r.status < 500


@settings(max_examples=60)
@given(
    name=st.text(
        st.characters(exclude_characters="/\\#?", exclude_categories=["Cc"]), min_size=1
    ).filter(not_a_dot_segment),
    due_time=st.sampled_from(["1h", "PT1H", "2h30m", "P1D", "9999h"]),
    period=st.sampled_from(["", "1h", "PT1H", "R3/PT1H", "24h"]),
    data=JSON_VALUES,
)
@example(name="r", due_time="1h", period="", data={"<&>": "\u2028", "n": 2**53})
async def test_valid_reminders_round_trip(
    http: aiohttp.ClientSession, name: str, due_time: str, period: str, data: Any
) -> None:
    path = f"{ACTOR}/reminders/{path_segment(name)}"
    registration = {"dueTime": due_time, "period": period, "data": data}
    try:
        written = await call(http, "PUT", path, json.dumps(registration).encode())
        assert written.status == 204, written.body
        read = await call(http, "GET", path)
        assert read.status == 200, read.body
        stored = json.loads(read.body)
        assert (stored["dueTime"], stored["period"], stored["data"]) == (due_time, period, data)
    finally:
        async with http.delete(path) as r:
            assert r.status == 204
