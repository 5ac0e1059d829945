"""``self.state`` end to end: an actor app and the dev sidecar over real HTTP.

Each turn is a unit of work: reads are cached, writes go out as one transaction when the turn
ends, and a failed turn sends nothing. The sidecar client below records what the app sends, so
the tests can count transactions instead of trusting the runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from dapr_actors_fastapi import (
    Actor,
    ActorError,
    ActorRuntime,
    SidecarClient,
    SidecarResponse,
    SidecarUnavailable,
    StateKeyNotFound,
    Turn,
    method,
    reminder,
)
from dapr_actors_fastapi.testing import ActorTestEnv
from dapr_actors_fastapi.testing import SidecarResponse as EnvResponse

from ..helpers import asgi_client, make_app, poll_until


class RecordingSidecar(SidecarClient):
    """A real sidecar client that also records each request, and can fail state saves."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str]] = []
        self.fail_saves = False

    async def request(self, method: str, path: str, **options: Any) -> SidecarResponse:
        self.requests.append((method, path))
        if self.fail_saves and method == "POST" and path.endswith("/state"):
            raise SidecarUnavailable(
                0, "ERR_SIDECAR_UNREACHABLE", "simulated outage", method=method, path=path
            )
        return await super().request(method, path, **options)

    def count(self, method: str, path_end: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.endswith(path_end))

    def reads(self, actor: str) -> int:
        return sum(1 for m, p in self.requests if m == "GET" and f"/actors/{actor}/state/" in p)

    def saves(self, actor: str) -> int:
        return self.count("POST", f"/actors/{actor}/state")


class Ship(BaseModel):
    name: str
    crew: list[str]


class Boom(Exception):
    pass


class Interrupted(BaseException):
    """Not an Exception: a failed turn must discard its writes whatever it raised."""


def ledger_app(sidecar: SidecarClient, **settings: Any) -> FastAPI:
    runtime = ActorRuntime(sidecar=sidecar, **settings)

    @runtime.actor("ledger")
    class Ledger(Actor):
        @method
        async def put(self, key: str, value: Any, ttl: int | None = None) -> None:
            await self.state.set(key, value, ttl=ttl)

        @method
        async def put_many(self, values: dict[str, Any], remove: list[str] = []) -> None:  # noqa: B006
            for key, value in values.items():
                await self.state.set(key, value)
            for key in remove:
                await self.state.delete(key)

        @method
        async def read(self, key: str) -> Any:
            return await self.state.get(key, default="<missing>")

        @method
        async def summary(self, key: str) -> dict[str, Any]:
            return {"contains": await self.state.contains(key), "keys": self.state.keys()}

        @method
        async def put_then_fail(self, key: str, value: Any, error: str) -> None:
            await self.state.set(key, value)
            if error == "value":
                raise Boom("the turn failed after set")
            if error == "actor":
                raise ActorError("refused", status_code=409)
            raise Interrupted()

        @method
        async def ship(self) -> Ship:
            return await self.state.get("ship", Ship)

        @method
        async def ship_renamed_in_place(self) -> Ship:
            ship = await self.state.get("ship", Ship)
            ship.name = "changed but never set"
            return await self.state.get("ship", Ship)

        @method
        async def count(self) -> int:
            total = await self.state.get_or_set("total", 0) + 1
            await self.state.set("total", total)
            return total

        @method
        async def missing(self, key: str) -> str:
            try:
                await self.state.get(key)
            except StateKeyNotFound as error:
                return f"{isinstance(error, KeyError)} {error}"
            return "found"

        @method
        async def typed(self, key: str) -> str:
            try:
                await self.state.get(key, int)
            except ValueError as error:
                return str(error)
            return "valid"

    return make_app(runtime)


@asynccontextmanager
async def ledger_env(**settings: Any) -> AsyncIterator[tuple[ActorTestEnv, RecordingSidecar]]:
    sidecar = RecordingSidecar()
    async with ActorTestEnv(ledger_app(sidecar, **settings), app_id="bank") as env:
        yield env, sidecar


async def call(env: ActorTestEnv, actor_id: str, name: str, body: Any = None) -> EnvResponse:
    return await env.invoke_actor("ledger", actor_id, name, body)


async def stored(env: ActorTestEnv, actor_id: str, key: str) -> Any:
    response = await env.get_state("ledger", actor_id, key)
    return response.json() if response.status == 200 else "<absent>"


# -- round trips ------------------------------------------------------------------------------


async def test_values_round_trip_through_the_sidecar_and_come_back_typed() -> None:
    async with ledger_env() as (env, _):
        ship = {"name": "Falcon", "crew": ["Han", "Chewie"]}
        assert (await call(env, "a", "put", {"key": "ship", "value": ship})).status == 200
        assert await stored(env, "a", "ship") == ship
        answer = await call(env, "a", "ship")
        assert (answer.status, answer.json()) == (200, ship)


async def test_a_value_changed_in_place_without_set_is_not_changed_in_state() -> None:
    async with ledger_env() as (env, sidecar):
        await call(env, "a", "put", {"key": "ship", "value": {"name": "Falcon", "crew": []}})
        answer = await call(env, "a", "ship_renamed_in_place")
        assert answer.json()["name"] == "Falcon"
        assert sidecar.saves("ledger/a") == 1


async def test_state_outlives_the_process_that_wrote_it(tmp_path: Any) -> None:
    database = str(tmp_path / "state.db")
    async with ActorTestEnv(ledger_app(SidecarClient()), app_id="bank", state_db=database) as env:
        await env.invoke_actor("ledger", "a", "put", {"key": "answer", "value": 42})
    async with ActorTestEnv(ledger_app(SidecarClient()), app_id="bank", state_db=database) as env:
        answer = await env.invoke_actor("ledger", "a", "read", {"key": "answer"})
        assert answer.json() == 42


async def test_missing_keys_raise_a_key_error_naming_the_key_or_return_the_default() -> None:
    async with ledger_env() as (env, _):
        message = (await call(env, "a", "missing", {"key": "nope"})).json()
        assert message.startswith("True state key 'nope' of actor ledger/a is not set")
        assert "default=" in message
        assert (await call(env, "a", "read", {"key": "nope"})).json() == "<missing>"


async def test_a_stored_value_of_the_wrong_type_is_a_value_error_naming_the_key() -> None:
    async with ledger_env() as (env, _):
        await call(env, "a", "put", {"key": "level", "value": "high"})
        message = (await call(env, "a", "typed", {"key": "level"})).json()
        assert message.startswith("state key 'level' of actor ledger/a holds \"high\"")
        assert "not a valid int" in message


async def test_contains_keys_and_delete_reflect_the_turns_changes() -> None:
    async with ledger_env() as (env, _):
        await call(env, "a", "put_many", {"values": {"x": 1, "y": 2, "z": 3}})
        await call(env, "a", "put_many", {"values": {}, "remove": ["y", "never-set"]})
        summary = (await call(env, "a", "summary", {"key": "y"})).json()
        assert summary == {"contains": False, "keys": ["x", "z"]}
        assert await stored(env, "a", "y") == "<absent>"
        assert await stored(env, "a", "x") == 1


async def test_get_or_set_stores_the_value_only_when_missing() -> None:
    async with ledger_env() as (env, _):
        assert [(await call(env, "a", "count")).json() for _ in range(3)] == [1, 2, 3]
        assert await stored(env, "a", "total") == 3


# -- one transaction per turn -------------------------------------------------------------------


async def test_each_turn_sends_one_transaction_or_none_when_nothing_changed() -> None:
    async with ledger_env() as (env, sidecar):
        await call(env, "a", "put_many", {"values": {"x": 1, "y": 2}, "remove": ["z"]})
        assert sidecar.saves("ledger/a") == 1
        await call(env, "a", "read", {"key": "x"})
        await call(env, "a", "put", {"key": "x", "value": 1})  # the value it already has
        assert sidecar.saves("ledger/a") == 1
        await call(env, "a", "put", {"key": "x", "value": 10})
        assert sidecar.saves("ledger/a") == 2
        assert (await stored(env, "a", "x"), await stored(env, "a", "y")) == (10, 2)


async def test_reads_are_cached_across_turns_by_default() -> None:
    async with ledger_env() as (env, sidecar):
        for _ in range(3):
            await call(env, "a", "read", {"key": "x"})
        assert sidecar.reads("ledger/a") == 1


async def test_cache_state_false_rereads_each_turn_and_sees_outside_writes() -> None:
    async with ledger_env(cache_state=False) as (env, sidecar):
        await call(env, "a", "put", {"key": "x", "value": 1})
        await env.set_state("ledger", "a", {"x": 2})
        assert (await call(env, "a", "read", {"key": "x"})).json() == 2
        assert (await call(env, "a", "read", {"key": "x"})).json() == 2
        assert sidecar.reads("ledger/a") == 2


# -- failed turns -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["value", "actor", "base"])
async def test_a_failed_turn_saves_nothing_and_the_next_turn_sees_the_old_value(
    error: str,
) -> None:
    async with ledger_env() as (env, sidecar):
        await call(env, "a", "put", {"key": "x", "value": "kept"})
        before = sidecar.saves("ledger/a")
        answer = await call(
            env, "a", "put_then_fail", {"key": "x", "value": "lost", "error": error}
        )
        assert answer.status == 500
        assert sidecar.saves("ledger/a") == before
        assert await stored(env, "a", "x") == "kept"
        assert (await call(env, "a", "read", {"key": "x"})).json() == "kept"


async def test_a_failing_turn_hook_or_unserializable_result_discards_the_writes() -> None:
    runtime = ActorRuntime(sidecar=RecordingSidecar())

    @runtime.actor("hooked")
    class Hooked(Actor):
        async def on_turn_end(self, turn: Turn) -> None:
            if turn.name == "fail_in_hook":
                raise Boom("on_turn_end failed")

        @method
        async def fail_in_hook(self) -> None:
            await self.state.set("x", "lost")

        @method
        async def bad_result(self) -> int:
            await self.state.set("y", "lost")
            return "not an int"  # type: ignore[return-value]

    async with ActorTestEnv(make_app(runtime), app_id="hooks") as env:
        for name in ("fail_in_hook", "bad_result"):
            assert (await env.invoke_actor("hooked", "h", name)).status == 500
        for key in ("x", "y"):
            assert (await env.get_state("hooked", "h", key)).status == 204


async def test_a_failed_save_fails_the_turn_and_forgets_the_cached_keys() -> None:
    async with ledger_env() as (env, sidecar):
        await call(env, "a", "put", {"key": "x", "value": "saved"})
        sidecar.fail_saves = True
        answer = await call(env, "a", "put", {"key": "x", "value": "unsaved"})
        assert answer.status == 500
        assert "simulated outage" in answer.body.decode()
        sidecar.fail_saves = False
        reads = sidecar.reads("ledger/a")
        assert (await call(env, "a", "read", {"key": "x"})).json() == "saved"
        assert sidecar.reads("ledger/a") == reads + 1  # re-read, not trusted from the cache


async def test_without_a_sidecar_the_turn_fails_with_a_message_saying_where_it_looked() -> None:
    runtime = ActorRuntime(sidecar=SidecarClient(endpoint="http://127.0.0.1:9"))

    @runtime.actor("lonely")
    class Lonely(Actor):
        @method
        async def write(self) -> None:
            await self.state.set("x", 1)

    async with asgi_client(runtime) as client:
        await runtime.sidecar.open()
        try:
            answer = await client.put("/actors/lonely/1/method/write")
        finally:
            await runtime.sidecar.close()
    assert answer.status_code == 500
    assert "cannot reach the Dapr sidecar at http://127.0.0.1:9" in answer.json()["message"]


# -- TTL ----------------------------------------------------------------------------------------


async def test_a_value_with_a_ttl_expires_in_the_store_and_in_the_cache() -> None:
    async with ledger_env() as (env, sidecar):
        # Before expiry, on a key whose TTL cannot run out during the test: a 1 s TTL (the
        # shortest) can, when the machine is busy, before the checks have run.
        await call(env, "a", "put", {"key": "badge", "value": "open sesame", "ttl": 3600})
        response = await env.get_state("ledger", "a", "badge")
        assert response.status == 200
        assert "metadata.ttlExpireTime" in response.headers
        assert (await call(env, "a", "read", {"key": "badge"})).json() == "open sesame"
        # After expiry, on a key saved the same way with a 1 s TTL.
        saves = sidecar.saves("ledger/a")
        saved = await call(env, "a", "put", {"key": "pass", "value": "open sesame", "ttl": 1})
        assert saved.status == 200
        assert sidecar.saves("ledger/a") == saves + 1
        await poll_until_async(
            lambda: call(env, "a", "read", {"key": "pass"}),
            lambda answer: answer.json() == "<missing>",
            what="the TTL to expire the cached value",
        )
        assert (await env.get_state("ledger", "a", "pass")).status == 204


async def poll_until_async(probe: Any, accept: Any, *, what: str, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not accept(await probe()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.05)


# -- misuse -------------------------------------------------------------------------------------


def misuse_app(journal: list[str]) -> tuple[FastAPI, ActorRuntime]:
    runtime = ActorRuntime()

    @runtime.actor("careless")
    class Careless(Actor):
        async def on_deactivate(self) -> None:
            try:
                await self.state.set("x", 1)
            except RuntimeError as error:
                journal.append(f"on_deactivate: {error}")

        @method
        async def write_later(self) -> None:
            async def later() -> None:
                try:
                    await self.state.set("x", 1)
                except RuntimeError as error:
                    journal.append(f"background: {error}")

            self.background = asyncio.ensure_future(later())

        @method
        async def bad_inputs(self) -> list[str]:
            problems = []
            for attempt in (
                lambda: self.state.set("", 1),
                lambda: self.state.set("x", object()),
                lambda: self.state.set("x", {"ratio": float("nan")}),
                lambda: self.state.set("x", 1, ttl=0),
                lambda: self.state.set("x", 1, ttl="soon"),
                lambda: self.state.get(42),  # type: ignore[arg-type]
            ):
                try:
                    await attempt()
                except (TypeError, ValueError) as error:
                    problems.append(f"{type(error).__name__}: {error}")
            return problems

    return make_app(runtime), runtime


async def test_writes_outside_a_turn_or_in_on_deactivate_are_refused_with_a_reason() -> None:
    journal: list[str] = []
    app, _ = misuse_app(journal)
    async with ActorTestEnv(app, app_id="careless") as env:
        assert (await env.invoke_actor("careless", "c", "write_later")).status == 200
        await poll_until(lambda: len(journal) == 1, what="the background write")
        async with (
            aiohttp.ClientSession() as http,
            http.delete(f"{env.app_url}/actors/careless/c") as answer,
        ):
            assert answer.status == 200
        assert (await env.get_state("careless", "c", "x")).status == 204
    background, deactivate = journal
    assert "outside a turn of actor careless/c" in background
    assert deactivate.startswith("on_deactivate: self.state.set('x') ran in on_deactivate")
    assert "save state in the turns" in deactivate


async def test_bad_keys_values_and_ttls_fail_on_the_line_that_used_them() -> None:
    app, _ = misuse_app([])
    async with ActorTestEnv(app, app_id="careless") as env:
        problems = (await env.invoke_actor("careless", "c", "bad_inputs")).json()
    expected = [
        "TypeError: state keys are non-empty strings, got ''",
        "TypeError: state value for key 'x' is not JSON-serializable (object)",
        "ValueError: state value for key 'x' contains NaN, which JSON cannot carry",
        "ValueError: ttl for state key 'x' must be longer than zero, got 0",
        "ValueError: ttl for state key 'x': ttl='soon' is not a duration",
        "TypeError: state keys are non-empty strings, got 42",
    ]
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


# -- reentrant chains ---------------------------------------------------------------------------


def chain_app(sidecar: RecordingSidecar, seen: dict[str, Any], fired: asyncio.Event) -> FastAPI:
    runtime = ActorRuntime(reentrancy=True, sidecar=sidecar)

    @runtime.actor("outer")
    class Outer(Actor):
        @method
        async def start(self, fail_inner: bool = False) -> dict[str, Any]:
            await self.state.set("x", "from outer")
            relayed = await runtime.sidecar.request(
                "POST",
                f"/v1.0/actors/relay/r/method/bounce?fail={int(fail_inner)}",
                json_body={"back_to": self.id, "fail": fail_inner},
            )
            return {
                "relayed": relayed.json(),
                "y": await self.state.get("y", default=None),
                "z": await self.state.get("z", default=None),
            }

        @method
        async def inner(self, fail: bool) -> str:
            seen["inner saw x"] = await self.state.get("x", default=None)
            await self.state.set("y", "from inner")
            if fail:
                await self.state.set("z", "from a failed inner")
                raise Boom("inner failed")
            return "inner done"

        @reminder("check")
        async def check(self) -> None:
            seen["reminder saw"] = [await self.state.get(k, default=None) for k in ("x", "y")]
            fired.set()

    @runtime.actor("relay")
    class Relay(Actor):
        @method
        async def bounce(self, back_to: str, fail: bool) -> str:
            try:
                answer = await runtime.sidecar.request(
                    "POST",
                    f"/v1.0/actors/outer/{back_to}/method/inner",
                    json_body={"fail": fail},
                )
            except Exception as error:  # the inner failure comes back as a sidecar error
                return f"inner raised: {type(error).__name__}"
            return str(answer.json())

    return make_app(runtime)


async def test_a_reentrant_call_sees_the_outer_calls_unsaved_writes_and_saves_once() -> None:
    sidecar, seen, fired = RecordingSidecar(), {}, asyncio.Event()
    async with ActorTestEnv(chain_app(sidecar, seen, fired), app_id="chain") as env:
        answer = await env.invoke_actor("outer", "o", "start", {})
        assert answer.status == 200, answer.text()
        assert answer.json() == {"relayed": "inner done", "y": "from inner", "z": None}
        assert seen["inner saw x"] == "from outer"
        assert sidecar.saves("outer/o") == 1
        assert (await env.get_state("outer", "o", "y")).json() == "from inner"

        # A reminder after the chain reads what the chain saved, not a stale cache.
        reminder_path = "/v1.0/actors/outer/o/reminders/check"
        assert (await env.request("PUT", reminder_path, {"dueTime": "0s"})).status == 204
        await asyncio.wait_for(fired.wait(), 5)
        assert seen["reminder saw"] == ["from outer", "from inner"]


async def test_a_failed_reentrant_call_rolls_back_only_its_own_writes() -> None:
    sidecar, seen, fired = RecordingSidecar(), {}, asyncio.Event()
    async with ActorTestEnv(chain_app(sidecar, seen, fired), app_id="chain") as env:
        answer = await env.invoke_actor("outer", "o", "start", {"fail_inner": True})
        assert answer.status == 200, answer.text()
        assert answer.json() == {
            "relayed": "inner raised: SidecarError",
            "y": None,
            "z": None,
        }
        assert (await env.get_state("outer", "o", "x")).json() == "from outer"
        for key in ("y", "z"):
            assert (await env.get_state("outer", "o", key)).status == 204
        assert sidecar.saves("outer/o") == 1
