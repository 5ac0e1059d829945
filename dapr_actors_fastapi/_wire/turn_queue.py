"""The per-actor turn queue: one turn at a time, FIFO, with reentrant chains.

Why the app keeps its own lock when daprd already has one: daprd releases its lock when a
caller times out while the handler keeps running, and its lock has quirks under reentrancy
(docs/protocol.md §5.5). The queue here follows daprd's *intended* semantics:

* A turn is an "inflight" identified by a chain id. Without reentrancy every request is a new
  inflight with no chain, so a ``Dapr-Reentrancy-Id`` header cannot jump the queue.
* With reentrancy, a request whose chain already has an inflight joins it: it runs at once if
  that inflight holds the turn, or starts together with it otherwise. ``depth`` counts the
  requests of the chain in progress on this actor; one more than ``max_stack_depth`` is
  refused, and the refused request leaves ``depth`` untouched (daprd's leak is not copied).
* When the last request of the front inflight leaves, the next inflight starts.

Members of an inflight are symmetric, so whoever leaves last (normally or by cancellation)
passes the turn on. Nothing is allocated for waiting unless a request actually has to wait,
which keeps an idle actor at two object slots.
"""

from __future__ import annotations

import asyncio
from collections import deque

from ..exceptions import StackDepthExceeded


class Inflight:
    """One turn in the queue: a chain id, its depth, and the event that starts it."""

    __slots__ = ("chain", "depth", "started")

    def __init__(self, chain: str | None) -> None:
        self.chain = chain
        self.depth = 1
        self.started: asyncio.Event | None = None


class TurnQueue:
    """FIFO turns of one actor; see the module docstring for the rules."""

    __slots__ = ("_front", "_waiting")

    def __init__(self) -> None:
        self._front: Inflight | None = None
        self._waiting: deque[Inflight] | None = None

    @property
    def idle(self) -> bool:
        """True when no turn is running or waiting."""
        return self._front is None

    def enter(self, chain: str | None, max_depth: int) -> Inflight:
        """Queue a request and return its inflight; it may run at once if ``holds_turn``.

        Never waits, so an uncontended turn costs no await; otherwise ``await wait(inflight)``.
        ``chain`` is ``None`` when reentrancy is off for the actor type. Raises
        ``StackDepthExceeded`` when the chain is already ``max_depth`` deep on this actor.
        """
        if self._front is None:
            self._front = inflight = Inflight(chain)
            return inflight
        if chain is not None:
            joined = self._find(chain)
            if joined is not None:
                if joined.depth >= max_depth:
                    raise StackDepthExceeded()
                joined.depth += 1
                return joined
        inflight = Inflight(chain)
        inflight.started = asyncio.Event()
        if self._waiting is None:
            self._waiting = deque()
        self._waiting.append(inflight)
        return inflight

    def chain_holds_turn(self, chain: str | None) -> bool:
        """Whether ``chain`` is the reentrant chain running now: a request of it would join the
        turn in flight instead of starting one."""
        return chain is not None and self._front is not None and self._front.chain == chain

    def holds_turn(self, inflight: Inflight) -> bool:
        """Whether ``inflight`` is the running turn."""
        return inflight is self._front

    async def wait(self, inflight: Inflight) -> None:
        """Wait until ``inflight`` holds the turn.

        The caller calls ``leave`` afterwards in every case, including cancellation.
        """
        started = inflight.started
        assert started is not None, "only queued inflights wait"
        await started.wait()

    def leave(self, inflight: Inflight) -> None:
        """End one request of ``inflight`` (done, failed or cancelled while waiting); the last
        one out starts the next turn or, if it never started, leaves the line."""
        inflight.depth -= 1
        if inflight.depth > 0:
            return
        if inflight is self._front:
            self._start_next()
        elif self._waiting is not None:
            # Every member was cancelled before the turn started: drop it from the line.
            self._waiting.remove(inflight)

    def _find(self, chain: str) -> Inflight | None:
        if self._front is not None and self._front.chain == chain:
            return self._front
        for inflight in self._waiting or ():
            if inflight.chain == chain:
                return inflight
        return None

    def _start_next(self) -> None:
        waiting = self._waiting
        if not waiting:
            self._front = None
            self._waiting = None
            return
        self._front = nxt = waiting.popleft()
        if nxt.started is not None:
            nxt.started.set()
