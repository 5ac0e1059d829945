"""Turn-based concurrency over HTTP: activation once, FIFO per actor, parallel actors, reentrancy.

Requests run in-process through an ASGI transport, so hundreds can be in flight at once. An
ASGI middleware counts requests as they arrive; a request runs without suspending until it
reaches the actor's turn queue, so "N arrived" means "N are queued" and tests release their
gates on that condition instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx2 as httpx
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, current_turn, method, reminder, timer

from ..helpers import Mount, lifespan_running, poll_until, within


class Arrivals:
    """ASGI middleware counting HTTP requests as they enter the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


class Harness:
    def __init__(self, runtime: ActorRuntime, mount: Mount) -> None:
        self.arrivals = Arrivals(mount(runtime))
        transport = httpx.ASGITransport(app=self.arrivals)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://app", timeout=10)

    async def until_arrived(self, count: int) -> None:
        await poll_until(lambda: self.arrivals.count >= count, what=f"{count} requests to arrive")

    def put(self, path: str, **kwargs: Any) -> asyncio.Task[httpx.Response]:
        """Start a PUT now (in order); await the task for its response."""
        return asyncio.ensure_future(self.client.put(path, **kwargs))


@pytest.fixture
async def harness_factory(mount: Mount) -> AsyncIterator[Any]:
    """Harnesses through the router and through the front door (``mount``)."""
    async with contextlib.AsyncExitStack() as stack:

        async def build(runtime: ActorRuntime) -> Harness:
            harness = Harness(runtime, mount)
            await stack.enter_async_context(lifespan_running(harness.arrivals.app))
            stack.push_async_callback(harness.client.aclose)
            return harness

        yield build


class Gate:
    """An event per test that handlers wait on, so a turn stays busy until the test says."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def wait(self) -> None:
        await within(self.event.wait())


def gated_actor(gate: Gate, log: list[Any]) -> type[Actor]:
    class Gated(Actor):
        async def on_activate(self) -> None:
            log.append(("activate", self.id))
            await gate.wait()

        async def on_deactivate(self) -> None:
            log.append(("deactivate", self.id))

        @method
        async def step(self, n: int) -> int:
            log.append(("step", self.id, n))
            return n

        @method
        async def hold(self) -> None:
            log.append(("hold", self.id))
            await gate.wait()
            log.append(("release", self.id))

        @reminder("r")
        async def on_reminder(self, data: int) -> None:
            log.append(("reminder", self.id, data))

        @timer("t")
        async def on_timer(self, data: int) -> None:
            log.append(("timer", self.id, data))

    return Gated


async def test_on_activate_runs_once_for_100_concurrent_first_calls(harness_factory: Any) -> None:
    gate, log = Gate(), []
    runtime = ActorRuntime()
    runtime.actor("gated")(gated_actor(gate, log))
    harness = await harness_factory(runtime)
    calls = [harness.put("/actors/gated/1/method/step", json={"n": n}) for n in range(100)]
    await harness.until_arrived(100)
    gate.event.set()
    responses = await within(asyncio.gather(*calls))
    assert [r.status_code for r in responses] == [200] * 100
    assert log.count(("activate", "1")) == 1


async def test_200_concurrent_turns_run_in_arrival_order_across_kinds(harness_factory: Any) -> None:
    gate, log = Gate(), []
    runtime = ActorRuntime()
    runtime.actor("gated")(gated_actor(gate, log))
    harness = await harness_factory(runtime)
    calls = []
    for n in range(200):
        if n % 3 == 1:
            path, body = "/actors/gated/1/method/remind/r", {"data": n, "dueTime": "", "period": ""}
        elif n % 3 == 2:
            path, body = "/actors/gated/1/method/timer/t", {"data": n, "callback": "t"}
        else:
            path, body = "/actors/gated/1/method/step", {"n": n}
        calls.append(harness.put(path, json=body))
    await harness.until_arrived(200)
    gate.event.set()
    responses = await within(asyncio.gather(*calls))
    assert {r.status_code for r in responses} == {200}
    handled = [entry[2] for entry in log if entry[0] in ("step", "reminder", "timer")]
    assert handled == list(range(200))


async def test_a_blocked_actor_does_not_delay_another(harness_factory: Any) -> None:
    gate, log = Gate(), []
    runtime = ActorRuntime()
    runtime.actor("gated")(gated_actor(gate, log))
    harness = await harness_factory(runtime)
    gate.event.set()  # let both activations through
    await harness.put("/actors/gated/A/method/step", json={"n": 0})
    await harness.put("/actors/gated/B/method/step", json={"n": 0})
    gate.event.clear()
    blocked = harness.put("/actors/gated/A/method/hold")
    await poll_until(lambda: ("hold", "A") in log, what="A to hold its turn")
    other = await within(harness.put("/actors/gated/B/method/step", json={"n": 1}), 2)
    assert other.status_code == 200
    assert not blocked.done()
    queued_on_a = harness.put("/actors/gated/A/method/step", json={"n": 2})
    await harness.until_arrived(5)
    assert not queued_on_a.done()
    gate.event.set()
    assert (await within(blocked)).status_code == 200
    assert (await within(queued_on_a)).json() == 2


async def test_deactivation_waits_for_the_running_turn_and_later_calls_reactivate(
    harness_factory: Any,
) -> None:
    gate, log = Gate(), []
    runtime = ActorRuntime()
    runtime.actor("gated")(gated_actor(gate, log))
    harness = await harness_factory(runtime)
    gate.event.set()
    await harness.put("/actors/gated/1/method/step", json={"n": 0})
    gate.event.clear()
    holding = harness.put("/actors/gated/1/method/hold")
    deactivation = asyncio.ensure_future(harness.client.delete("/actors/gated/1"))
    after = harness.put("/actors/gated/1/method/step", json={"n": 1})
    await harness.until_arrived(4)
    gate.event.set()
    results = await within(asyncio.gather(holding, deactivation, after))
    assert [r.status_code for r in results] == [200, 200, 200]
    assert log == [
        ("activate", "1"),
        ("step", "1", 0),
        ("hold", "1"),
        ("release", "1"),
        ("deactivate", "1"),
        ("activate", "1"),
        ("step", "1", 1),
    ]


# -- reentrancy ---------------------------------------------------------------------------------


def chain_actor(gate: Gate, log: list[Any], client: list[httpx.AsyncClient]) -> type[Actor]:
    class Chain(Actor):
        @method
        async def hold(self) -> str | None:
            turn = current_turn()
            assert turn is not None
            log.append(("hold", turn.reentrancy_id))
            await gate.wait()
            log.append(("release", turn.reentrancy_id))
            return turn.reentrancy_id

        @method
        async def inner(self) -> str:
            log.append("inner")
            return "inner"

        @method
        async def ping_pong(self, hops: int) -> int:
            """Call the other actor, which calls back here: A -> B -> A."""
            turn = current_turn()
            assert turn is not None
            assert turn.reentrancy_id is not None
            if hops == 0:
                return 0
            other = "B" if self.id == "A" else "A"
            response = await client[0].put(
                f"/actors/chain/{other}/method/ping_pong",
                json={"hops": hops - 1},
                headers={"dapr-reentrancy-id": turn.reentrancy_id},
            )
            assert response.status_code == 200, response.text
            return int(response.json()) + 1

    return Chain


@pytest.fixture
def chain_harness(harness_factory: Any) -> Any:
    async def build(**settings: Any) -> tuple[Harness, Gate, list[Any]]:
        gate, log, client = Gate(), [], []
        runtime = ActorRuntime()
        runtime.actor("chain", **settings)(chain_actor(gate, log, client))
        harness: Harness = await harness_factory(runtime)
        client.append(harness.client)
        return harness, gate, log

    return build


async def test_reentrant_call_of_the_chain_enters_without_queueing(chain_harness: Any) -> None:
    harness, gate, log = await chain_harness(reentrancy=True)
    headers = {"dapr-reentrancy-id": "chain-1"}
    outer = harness.put("/actors/chain/1/method/hold", headers=headers)
    await poll_until(lambda: ("hold", "chain-1") in log, what="the outer call to hold the turn")
    inner = await within(harness.put("/actors/chain/1/method/inner", headers=headers), 2)
    assert inner.status_code == 200
    assert not outer.done()
    gate.event.set()
    assert (await within(outer)).json() == "chain-1"


async def test_a_b_a_chain_completes_with_reentrancy(chain_harness: Any) -> None:
    harness, _, _ = await chain_harness(reentrancy=True)
    response = await within(harness.put("/actors/chain/A/method/ping_pong", json={"hops": 4}))
    assert (response.status_code, response.json()) == (200, 4)


async def test_reentrancy_id_is_minted_when_the_caller_sent_none(chain_harness: Any) -> None:
    harness, gate, _ = await chain_harness(reentrancy=True)
    gate.event.set()
    first = await harness.put("/actors/chain/1/method/hold")
    second = await harness.put("/actors/chain/1/method/hold")
    assert len(first.json()) == 36  # a UUID
    assert first.json() != second.json()


async def test_without_reentrancy_the_header_does_not_jump_the_queue(chain_harness: Any) -> None:
    harness, gate, log = await chain_harness()
    headers = {"dapr-reentrancy-id": "chain-1"}
    outer = harness.put("/actors/chain/1/method/hold", headers=headers)
    await poll_until(lambda: ("hold", "chain-1") in log, what="the outer call to hold the turn")
    inner = harness.put("/actors/chain/1/method/inner", headers=headers)
    await harness.until_arrived(2)
    assert not inner.done()
    gate.event.set()
    await within(asyncio.gather(outer, inner))
    assert log == [("hold", "chain-1"), ("release", "chain-1"), "inner"]


async def test_other_chains_queue_behind_a_reentrant_one(chain_harness: Any) -> None:
    harness, gate, log = await chain_harness(reentrancy=True)
    outer = harness.put("/actors/chain/1/method/hold", headers={"dapr-reentrancy-id": "a"})
    await poll_until(lambda: ("hold", "a") in log, what="chain a to hold the turn")
    stranger = harness.put("/actors/chain/1/method/inner", headers={"dapr-reentrancy-id": "b"})
    await harness.until_arrived(2)
    assert not stranger.done()
    gate.event.set()
    await within(asyncio.gather(outer, stranger))
    assert log == [("hold", "a"), ("release", "a"), "inner"]


async def test_max_stack_depth_is_exact_and_leaves_no_residue(chain_harness: Any) -> None:
    harness, gate, log = await chain_harness(reentrancy=True, max_stack_depth=3)
    headers = {"dapr-reentrancy-id": "deep"}
    admitted = [harness.put("/actors/chain/1/method/hold", headers=headers) for _ in range(3)]
    await poll_until(lambda: log.count(("hold", "deep")) == 3, what="three holds of one chain")
    rejected = await within(harness.put("/actors/chain/1/method/inner", headers=headers))
    assert rejected.status_code == 500
    assert rejected.json() == {
        "errorCode": "ERR_ACTOR_STACK_DEPTH",
        "message": "maximum stack depth exceeded",
    }
    gate.event.set()
    assert [r.status_code for r in await within(asyncio.gather(*admitted))] == [200] * 3
    # The refused request did not leak depth: the chain and other chains still get in.
    again = await within(harness.put("/actors/chain/1/method/inner", headers=headers))
    other = await within(harness.put("/actors/chain/1/method/inner"))
    assert (again.status_code, other.status_code) == (200, 200)


async def test_reentrancy_can_be_enabled_for_one_type_only(harness_factory: Any) -> None:
    gate, log, client = Gate(), [], []
    runtime = ActorRuntime()
    runtime.actor("chain", reentrancy=True)(chain_actor(gate, log, client))
    runtime.actor("plain")(chain_actor(gate, log, client))
    harness = await harness_factory(runtime)
    client.append(harness.client)
    gate.event.set()
    reentrant = await harness.put("/actors/chain/1/method/hold")
    plain = await harness.put("/actors/plain/1/method/hold")
    assert reentrant.json() is not None
    assert plain.content == b""  # None: no id minted, the type is not reentrant


async def test_two_runtimes_in_one_process_stay_separate(mount: Mount) -> None:
    class First(Actor):
        @method
        async def who(self) -> str:
            return "first"

    class Second(Actor):
        @method
        async def who(self) -> str:
            return "second"

    one, two = ActorRuntime(), ActorRuntime(reentrancy=True)
    one.actor("shared")(First)
    two.actor("shared")(Second)
    two.actor("only-two")(Second)
    apps = [mount(one), mount(two)]
    answers = []
    for app in apps:
        transport = httpx.ASGITransport(app=app)
        async with (
            lifespan_running(app),
            httpx.AsyncClient(transport=transport, base_url="http://app") as client,
        ):
            answers.append(
                (
                    (await client.put("/actors/shared/1/method/who")).json(),
                    (await client.get("/dapr/config")).json()["entities"],
                    (await client.put("/actors/only-two/1/method/who")).status_code,
                )
            )
    assert answers == [("first", ["shared"], 404), ("second", ["shared", "only-two"], 200)]
