"""Lost updates under concurrency (issue 9): real processes over loopback, exactly N.

``dapr-actors run`` serves ``tests/faults/counter_app.py`` in a subprocess; many calls at once go
through the dev sidecar's actor API to a few actors, each call reading the actor's count and
writing it back plus one. Turns of one actor must run one at a time and every turn's save must
reach the store before its 200, so each stored count equals the calls acknowledged for it, and
the counts the calls returned are all different. With reentrancy on, a chain counter -> relay ->
the same counter runs among the plain calls: the call back in joins the chain's turn instead of
deadlocking or running beside another turn.

Several uvicorn workers behind one sidecar (refused by default, exact with the opt-in) are
``tests/test_workers.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from ..helpers import dapr_actors_run

CALLS = 600
IN_FLIGHT = 50
COUNTERS = ("c0", "c1", "c2", "c3")
RELAYS = ("r0", "r1", "r2")
CHAIN_EVERY = 3  # with reentrancy on, one call in three is a chain
CALL_SECONDS = 30.0  # a deadline per call: a deadlock fails instead of hanging the run


@dataclass(frozen=True)
class Call:
    counter: str
    relay: str | None = None  # a chain through this relay, else a plain increment

    @property
    def path(self) -> str:
        method = "increment" if self.relay is None else "chain"
        return f"/v1.0/actors/counter/{self.counter}/method/{method}"

    @property
    def body(self) -> bytes:
        return b"" if self.relay is None else json.dumps({"relay": self.relay}).encode()


@dataclass(frozen=True)
class Answer:
    call: Call
    status: int
    body: str


def plan(*, chains: bool) -> list[Call]:
    calls = []
    for number in range(CALLS):
        counter = COUNTERS[number % len(COUNTERS)]
        if chains and number % CHAIN_EVERY == 0:
            calls.append(Call(counter, RELAYS[number // CHAIN_EVERY % len(RELAYS)]))
        else:
            calls.append(Call(counter))
    return calls


async def send_all(http: aiohttp.ClientSession, calls: list[Call]) -> list[Answer]:
    """Send ``calls`` with ``IN_FLIGHT`` at a time; every answer, whatever its status."""
    pending: Iterator[Call] = iter(calls)
    answers: list[Answer] = []

    async def worker() -> None:
        for call in pending:  # shared: each call is taken by one worker
            async with http.put(call.path, data=call.body) as response:
                answers.append(Answer(call, response.status, await response.text()))

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(IN_FLIGHT))), CALL_SECONDS)
    return answers


async def stored_count(http: aiohttp.ClientSession, actor_type: str, actor_id: str) -> int:
    async with http.get(f"/v1.0/actors/{actor_type}/{actor_id}/state/count") as response:
        assert response.status == 200, (actor_type, actor_id, await response.text())
        count: int = await response.json()
        return count


@pytest.mark.parametrize(
    ("target", "chains"),
    [
        pytest.param("tests.faults.counter_app:app", False, id="reentrancy-off"),
        # Plain increments and reentrant chains, interleaved on the same counters.
        pytest.param("tests.faults.counter_app:reentrant_app", True, id="reentrancy-on"),
    ],
)
async def test_every_acknowledged_increment_is_stored_exactly_once(
    target: str, chains: bool
) -> None:
    calls = plan(chains=chains)
    with dapr_actors_run(target, "--log-level=warning") as (_, sidecar_port):
        connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
        async with aiohttp.ClientSession(
            f"http://127.0.0.1:{sidecar_port}", connector=connector
        ) as http:
            started = time.perf_counter()
            answers = await send_all(http, calls)
            elapsed = time.perf_counter() - started
            counts = {
                ("counter", name): await stored_count(http, "counter", name) for name in COUNTERS
            }
            if chains:
                counts |= {
                    ("relay", name): await stored_count(http, "relay", name) for name in RELAYS
                }

    print(
        f"\n{target} chains={chains}: {CALLS} calls, {IN_FLIGHT} in flight over "
        f"{len(COUNTERS)} counters: {elapsed:.2f}s, {CALLS / elapsed:.0f} calls/s"
    )
    failed = [answer for answer in answers if answer.status != 200]
    assert not failed, failed[:5]
    assert len(answers) == CALLS
    acknowledged: Counter[tuple[str, str]] = Counter()
    for answer in answers:
        acknowledged["counter", answer.call.counter] += 1 if answer.call.relay is None else 2
        if answer.call.relay is not None:
            acknowledged["relay", answer.call.relay] += 1
    assert counts == dict(acknowledged)
    # Each turn saw the save of the one before it: no two calls to one counter returned the
    # same count.
    for name in COUNTERS:
        returned = [int(answer.body) for answer in answers if answer.call.counter == name]
        assert len(set(returned)) == len(returned), name
