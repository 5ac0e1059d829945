"""Bad input to the dev sidecar gets a 4xx naming the problem, never a 500 or a stored value
that is not JSON, and the sidecar keeps serving afterwards (docs/protocol.md §7.2, §7.4, §7.5)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, method, reminder, timer

from .test_actors import cluster

ACTOR = "/v1.0/actors/vault/1"


def vault_app() -> ActorRuntime:
    runtime = ActorRuntime()

    @runtime.actor("vault")
    class Vault(Actor):
        @method
        async def open(self) -> str:
            return "open"

        @reminder
        async def any_reminder(self) -> None:
            pass

        @timer
        async def tick(self) -> None:
            pass

    return runtime


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with cluster(vault_app()) as (session, _):
        async with session.put(f"{ACTOR}/method/open") as r:
            assert r.status == 200  # active, so that state can be written
        yield session


async def still_serving(http: aiohttp.ClientSession) -> None:
    async with http.get("/v1.0/healthz") as r:
        assert r.status == 204
    async with http.put(f"{ACTOR}/method/open") as r:
        assert (r.status, await r.json()) == (200, "open")


def upsert(value: str, key: str = '"k"') -> bytes:
    return f'[{{"operation":"upsert","request":{{"key":{key},"value":{value}}}}}]'.encode()


NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400]


@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
async def test_state_values_json_cannot_carry_are_refused(
    http: aiohttp.ClientSession, number: str
) -> None:
    async with http.post(f"{ACTOR}/state", data=upsert(f'{{"a":[{number}]}}')) as r:
        error = await r.json()
        assert r.status == 400, error
        assert error["errorCode"] == "ERR_MALFORMED_REQUEST"
        assert number[:8] in error["message"]
    async with http.get(f"{ACTOR}/state/k") as r:
        assert r.status == 204  # nothing was stored
    await still_serving(http)


@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
@pytest.mark.parametrize("kind", ["reminders", "timers"])
async def test_registration_data_json_cannot_carry_is_refused(
    http: aiohttp.ClientSession, kind: str, number: str
) -> None:
    body = f'{{"dueTime":"1h","callback":"tick","data":{{"n":{number}}}}}'
    async with http.put(f"{ACTOR}/{kind}/r", data=body) as r:
        error = await r.json()
        assert r.status == 400, error
        assert error["errorCode"] == "ERR_MALFORMED_REQUEST"
        assert number[:8] in error["message"]
    async with http.get(f"{ACTOR}/reminders/r") as r:
        assert r.status == 404  # nothing was registered
    await still_serving(http)


DEEP = "[" * 100_000 + "]" * 100_000
DEEP_DATA = f'{{"dueTime":"1h","callback":"tick","data":{DEEP}}}'


def registration(field: str, value: str) -> str:
    times = {"dueTime": "1h", "callback": "tick", field: value}
    if field == "ttl":
        times["period"] = "1h"
    return "{" + ",".join(f'"{name}":"{text}"' for name, text in times.items()) + "}"


@pytest.mark.parametrize(
    ("path", "body", "code", "named"),
    [
        ("/state", upsert(DEEP), "ERR_MALFORMED_REQUEST", "nested too deeply"),
        ("/reminders/r", DEEP_DATA, "ERR_MALFORMED_REQUEST", "nested too deeply"),
        ("/timers/t", DEEP_DATA, "ERR_MALFORMED_REQUEST", "nested too deeply"),
        (
            "/state",
            b'[{"operation":"upsert","request":{"key":"k","value":1,'
            b'"metadata":{"ttlInSeconds":"' + b"9" * 400 + b'"}}}]',
            "ERR_MALFORMED_REQUEST",
            "ttlInSeconds",
        ),
        ("/state", upsert("1", key=r'"\ud800"'), "ERR_MALFORMED_REQUEST", "surrogate"),
        ("/state", upsert(r'"a\udfffb"'), "ERR_MALFORMED_REQUEST", "surrogate"),
        ("/reminders/r", r'{"dueTime":"1h","data":"\ud800"}', "ERR_MALFORMED_REQUEST", "surrogate"),
        *(
            ("/reminders/r", registration(field, value), "ERR_ACTOR_REMINDER_CREATE", field)
            for field, value in [
                ("dueTime", "P99999999999D"),
                ("period", "PT99999999999999999H"),
                ("period", "R5/PT99999999999999999H"),
                ("ttl", "P99999999999D"),
            ]
        ),
        *(
            ("/timers/t", registration(field, value), "ERR_ACTOR_TIMER_CREATE", field)
            for field, value in [
                ("dueTime", "P99999999999D"),
                ("dueTime", "P9999999999Y"),
                ("period", "P99999999999D"),
                ("period", "P9999Y"),
                ("ttl", "P99999999999D"),
            ]
        ),
    ],
)
async def test_bad_input_is_4xx_naming_the_problem(
    http: aiohttp.ClientSession, path: str, body: str | bytes, code: str, named: str
) -> None:
    async with http.put(f"{ACTOR}{path}", data=body) as r:
        assert r.headers["content-type"] == "application/json", await r.text()
        error = await r.json()
        assert r.status == 400, error
        assert error["errorCode"] == code
        assert named in error["message"]
    await still_serving(http)
