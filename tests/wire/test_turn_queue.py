"""The turn queue: cancellation paths, which HTTP cannot reach on demand, and which chain holds
the turn (what the dev sidecar still lets in once its shutdown began).

(uvicorn does not cancel a request when its client goes away; shutdown and timeouts in user
code do, and the queue must stay consistent when they hit a waiting request.)
"""

from __future__ import annotations

import asyncio

import pytest

from dapr_actors_fastapi._wire.turn_queue import TurnQueue
from dapr_actors_fastapi.exceptions import StackDepthExceeded

from ..helpers import within


async def run_turn(
    queue: TurnQueue,
    chain: str | None,
    log: list[str],
    name: str,
    hold: asyncio.Event | None = None,
) -> None:
    inflight = queue.enter(chain, max_depth=5)
    try:
        if not queue.holds_turn(inflight):
            await queue.wait(inflight)
        log.append(f"start {name}")
        if hold is not None:
            await hold.wait()
        log.append(f"end {name}")
    finally:
        queue.leave(inflight)


async def test_a_cancelled_waiter_leaves_the_line_and_the_next_one_runs() -> None:
    queue, log, hold = TurnQueue(), [], asyncio.Event()
    first = asyncio.create_task(run_turn(queue, None, log, "first", hold))
    await asyncio.sleep(0)  # let it take the turn
    second = asyncio.create_task(run_turn(queue, None, log, "second"))
    third = asyncio.create_task(run_turn(queue, None, log, "third"))
    await asyncio.sleep(0)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    hold.set()
    await within(asyncio.gather(first, third))
    assert log == ["start first", "end first", "start third", "end third"]
    assert queue.idle


async def test_cancelling_the_running_turn_starts_the_next() -> None:
    queue, log = TurnQueue(), []
    first = asyncio.create_task(run_turn(queue, None, log, "first", asyncio.Event()))
    await asyncio.sleep(0)
    second = asyncio.create_task(run_turn(queue, None, log, "second"))
    await asyncio.sleep(0)
    first.cancel()
    await within(second)
    assert log == ["start first", "start second", "end second"]
    assert queue.idle


async def test_cancelling_one_member_of_a_waiting_chain_keeps_the_others() -> None:
    queue, log, hold = TurnQueue(), [], asyncio.Event()
    first = asyncio.create_task(run_turn(queue, "a", log, "a1", hold))
    await asyncio.sleep(0)
    b1 = asyncio.create_task(run_turn(queue, "b", log, "b1"))
    b2 = asyncio.create_task(run_turn(queue, "b", log, "b2"))
    await asyncio.sleep(0)
    b1.cancel()
    hold.set()
    await within(asyncio.gather(first, b2))
    assert log == ["start a1", "end a1", "start b2", "end b2"]
    assert queue.idle


async def test_a_refused_request_does_not_count_toward_depth() -> None:
    queue = TurnQueue()
    held = [queue.enter("a", max_depth=2), queue.enter("a", max_depth=2)]
    with pytest.raises(StackDepthExceeded):
        queue.enter("a", max_depth=2)
    for inflight in held:
        queue.leave(inflight)
    assert queue.idle


def test_only_the_chain_running_now_holds_the_turn() -> None:
    queue = TurnQueue()
    assert not queue.chain_holds_turn("a")
    running = queue.enter("a", max_depth=5)
    waiting = queue.enter("b", max_depth=5)
    assert queue.chain_holds_turn("a")
    assert not queue.chain_holds_turn("b")  # in line, not running
    assert not queue.chain_holds_turn(None)  # a request without a chain never joins one
    queue.leave(running)
    assert queue.chain_holds_turn("b")
    queue.leave(waiting)
    assert not queue.chain_holds_turn("b")
