"""The dev sidecar's actor runtime: hosted types, the active-actor table, turns, idle deactivation.

Behaves as daprd intends (docs/protocol.md §2, §4, §5, §6), not as its quirks (P16):

* Hosted types and their settings come from the app's ``/dapr/config`` with daprd's rules:
  ``entitiesConfig`` entries do not inherit top-level values (§2.5).
* An actor becomes active on its first callback and stays active until it is deactivated;
  state writes require an active actor (P15).
* One turn per actor, FIFO, shared by method calls, reminders and timers; with reentrancy, a
  request carrying the chain's ``Dapr-Reentrancy-Id`` joins it, up to ``maxStackDepth``.
* Idle actors are deactivated when their idle timeout has passed, as daprd does at each
  actor's deadline (P9, §6.1): the sidecar takes the actor's turn (daprd instead cancels a
  running call), drops the actor, then sends ``DELETE``. An actor in a turn at its deadline is
  looked at again every ``actorScanInterval`` until its turn ends or a call restarts its
  timeout.
* The table costs the same per call with 100,000 active actors as with 1,000: a call touches
  its actor in O(1), and the idle scanner looks only at actors whose deadline has passed. Each
  type keeps its actors in the order their idle deadlines come (every type has one idle
  timeout, so a touched actor moves to the back); the scanner sleeps until the earliest
  deadline, so deactivations spread out as the deadlines do, instead of a walk of the whole
  table and a burst of deactivations every interval; with nothing active it does not wake.
* Once the sidecar's shutdown began (``ActorTable.closed``), a call that would start a turn gets
  503 ``ERR_ACTOR_RUNTIME_CLOSED``, as from daprd (§7.0); the turns in flight and the calls of
  their reentrant chains still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .._wire.paths import actor_callback_path
from .._wire.turn_queue import TurnQueue
from ..durations import SECOND, parse_go_duration
from ..exceptions import StackDepthExceeded
from .channel import AppChannel, AppResponse, AppUnreachable
from .errors import RUNTIME_CLOSED, STACK_DEPTH, DaprError, actor_invoke_failed

logger = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 60 * 60 * SECOND  # daprd's DefaultIdleTimeout
DEFAULT_SCAN_INTERVAL = 30 * SECOND
DEFAULT_MAX_STACK_DEPTH = 32
REENTRANCY_HEADER = "Dapr-Reentrancy-Id"
# Deactivating every actor before exit (§4.4): daprd gives it 5 s (the context its placement
# client hands HaltAll when it stops) and sends the DELETEs all at once, which its app client
# caps at 1024 connections (MaxConnsPerHost), as the dev sidecar's app channel does.
EXIT_DEACTIVATION_SECONDS = 5.0
EXIT_DEACTIVATION_CONCURRENCY = 1024


@dataclass(frozen=True, slots=True)
class HostedType:
    """One actor type the app hosts, with the settings daprd would apply to it."""

    name: str
    idle_timeout: int = DEFAULT_IDLE_TIMEOUT  # nanoseconds
    reentrant: bool = False
    max_stack_depth: int = DEFAULT_MAX_STACK_DEPTH


@dataclass(frozen=True)
class ActorsConfig:
    types: dict[str, HostedType] = field(default_factory=dict)
    scan_interval: int = DEFAULT_SCAN_INTERVAL


def parse_app_config(document: dict[str, Any]) -> ActorsConfig:
    """Read the app's ``/dapr/config`` as daprd does (§2.4–2.5); log what daprd would."""
    entities = document.get("entities")
    if not isinstance(entities, list) or not entities:
        return ActorsConfig()
    try:
        idle = _duration(document.get("actorIdleTimeout"), DEFAULT_IDLE_TIMEOUT)
        scan = _duration(document.get("actorScanInterval"), DEFAULT_SCAN_INTERVAL)
    except ValueError as error:
        # daprd fails the registration of every type on an invalid top-level duration.
        logger.warning("failed to register hosted actors: %s", error)
        return ActorsConfig()
    entries = document.get("entitiesConfig") or []
    if not isinstance(entries, list) or any(
        isinstance(entry, dict) and not isinstance(entry.get("entities") or [], list)
        for entry in entries
    ):
        # daprd cannot decode such a document: it drops it whole and hosts nothing (§2.3).
        logger.warning(
            "GET /dapr/config: entitiesConfig must be a list of objects whose entities are "
            "lists: hosting no actors"
        )
        return ActorsConfig()
    reentrant, depth = _reentrancy(document.get("reentrancy"))
    types = {
        name: HostedType(name, idle, reentrant, depth) for name in entities if isinstance(name, str)
    }
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for name in entry.get("entities") or []:
            if name not in types:
                logger.warning("configuration specified for non-hosted actor type %r", name)
                continue
            types[name] = _entity_settings(name, entry)
    return ActorsConfig(types, scan if scan > 0 else DEFAULT_SCAN_INTERVAL)


def _entity_settings(name: str, entry: dict[str, Any]) -> HostedType:
    # No inheritance from the top level: what the entry lacks takes daprd's defaults.
    try:
        idle = _duration(entry.get("actorIdleTimeout"), DEFAULT_IDLE_TIMEOUT)
    except ValueError as error:
        logger.warning("actor type %r: %s; using 60m", name, error)
        idle = DEFAULT_IDLE_TIMEOUT
    reentrant, depth = _reentrancy(entry.get("reentrancy"))
    return HostedType(name, idle, reentrant, depth)


def _duration(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ValueError(f"duration {value!r} is not a string")
    return parse_go_duration(value)


def _reentrancy(block: Any) -> tuple[bool, int]:
    if not isinstance(block, dict):
        return False, DEFAULT_MAX_STACK_DEPTH
    depth = block.get("maxStackDepth")
    return bool(block.get("enabled")), depth if isinstance(depth, int) else DEFAULT_MAX_STACK_DEPTH


class ActiveActor(TurnQueue):
    """An entry of the active table: the actor's turn queue and its idle deadline."""

    __slots__ = ("idle_at", "retired")

    def __init__(self) -> None:
        super().__init__()
        self.idle_at = 0.0
        self.retired = False


@dataclass(frozen=True, slots=True)
class Callback:
    """One call into the app within an actor's turn."""

    path: str  # percent-encoded, e.g. /actors/t/i/method/m?query
    headers: list[tuple[str, str]]
    body: bytes
    chain: str | None = None  # the reentrancy chain the call belongs to


class ActorTable:
    """Active actors of the hosted types, and how calls reach them."""

    def __init__(
        self,
        channel: AppChannel,
        config: ActorsConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._channel = channel
        self.config = config
        self._clock = clock
        self._active: dict[tuple[str, str], ActiveActor] = {}
        # The same actors, per type, in the order their idle deadlines come: the front of each
        # is the next to expire, so the idle scan never walks the actors that are not due. An
        # actor leaves its order when the scan finds it past its deadline; a call puts it back.
        self._idle_order: dict[str, OrderedDict[str, ActiveActor]] = {}
        self._overdue: dict[tuple[str, str], ActiveActor] = {}  # in a turn at their deadline
        self._counts: dict[str, int] = {}  # active actors per type
        self._scan_at = math.inf  # when the idle scanner wakes next (clock time)
        self._scan_sooner = asyncio.Event()  # an activation due before ``_scan_at``
        self.activations = 0
        self.deactivations = 0
        # Set once the sidecar's shutdown began (``Sidecar.begin_shutdown``): no new turns.
        self.closed = False
        # Called with (type, id) once an actor is dropped: the scheduler stops its timers.
        self.deactivation_listeners: list[Callable[[str, str], None]] = []

    def hosted(self, actor_type: str) -> HostedType | None:
        return self.config.types.get(actor_type)

    def is_active(self, actor_type: str, actor_id: str) -> bool:
        return (actor_type, actor_id) in self._active

    def active_counts(self) -> dict[str, int]:
        return {name: self._counts.get(name, 0) for name in self.config.types}

    def reentrancy(self, hosted: HostedType, headers: Iterable[tuple[str, str]]) -> str | None:
        """The request's reentrancy id: the caller's, or a new UUID for a reentrant type."""
        for name, value in headers:
            if name.lower() == "dapr-reentrancy-id":
                return value
        return str(uuid.uuid4()) if hosted.reentrant else None

    async def call(self, hosted: HostedType, actor_id: str, callback: Callback) -> AppResponse:
        """Run ``callback`` against the app in the actor's turn; activate it if needed.

        Once ``closed``, a call that would start a turn gets 503 ``ERR_ACTOR_RUNTIME_CLOSED``
        instead, also after waiting in line; the turns in flight and the calls of their
        reentrant chains still run.
        """
        key = (hosted.name, actor_id)
        chain = callback.chain if hosted.reentrant else None
        while True:
            actor = self._active.get(key)
            if self.closed and (actor is None or not actor.chain_holds_turn(chain)):
                raise RUNTIME_CLOSED
            if actor is None:
                actor = self._activate(hosted, actor_id)
            try:
                inflight = actor.enter(chain, hosted.max_stack_depth)
            except StackDepthExceeded:
                raise STACK_DEPTH from None
            try:
                if not actor.holds_turn(inflight):
                    await actor.wait(inflight)
                    if self.closed:
                        raise RUNTIME_CLOSED  # it would start a turn after the shutdown began
                if actor.retired:
                    continue
                self._touch(hosted, key, actor)
                return await self._channel.request(
                    "PUT", callback.path, callback.headers, callback.body
                )
            finally:
                actor.leave(inflight)

    def _activate(self, hosted: HostedType, actor_id: str) -> ActiveActor:
        actor = ActiveActor()
        # A deadline from the start keeps the type's order sorted even if this first call is
        # cancelled before its turn.
        actor.idle_at = self._clock() + hosted.idle_timeout / SECOND
        self._active[(hosted.name, actor_id)] = actor
        self._idle_order.setdefault(hosted.name, OrderedDict())[actor_id] = actor
        self._counts[hosted.name] = self._counts.get(hosted.name, 0) + 1
        self.activations += 1
        if actor.idle_at < self._scan_at:
            self._scan_sooner.set()
        return actor

    def _touch(self, hosted: HostedType, key: tuple[str, str], actor: ActiveActor) -> None:
        """Restart the actor's idle timeout, at the start of each of its turns."""
        actor.idle_at = self._clock() + hosted.idle_timeout / SECOND
        order = self._idle_order[hosted.name]
        try:
            # Behind every actor of its type touched before: their deadlines are sooner.
            order.move_to_end(key[1])
        except KeyError:
            # The idle scan took it out of the order, past its deadline: back in line, last.
            order[key[1]] = actor
            self._overdue.pop(key, None)

    async def deactivate(self, actor_type: str, actor_id: str, *, quiet: bool = False) -> bool:
        """Deactivate one actor in its turn: drop it, then tell the app. ``False`` if inactive.

        An app that cannot be reached is logged, or, when ``quiet``, raised as
        ``AppUnreachable`` (the actor is dropped either way)."""
        actor = self._active.get((actor_type, actor_id))
        if actor is None:
            return False
        inflight = actor.enter(None, 1)
        try:
            if not actor.holds_turn(inflight):
                await actor.wait(inflight)
            if actor.retired:
                return False
            actor.retired = True
            del self._active[(actor_type, actor_id)]
            if self._idle_order[actor_type].pop(actor_id, None) is None:
                self._overdue.pop((actor_type, actor_id), None)
            self._counts[actor_type] -= 1
            self.deactivations += 1
            for listener in self.deactivation_listeners:
                listener(actor_type, actor_id)
            await self._send_delete(actor_type, actor_id, quiet)
            return True
        finally:
            actor.leave(inflight)

    async def _send_delete(self, actor_type: str, actor_id: str, quiet: bool) -> None:
        # daprd sends DELETE once and only logs failures (§4.4).
        try:
            response = await self._channel.request(
                "DELETE", actor_callback_path(actor_type, actor_id), [], b""
            )
        except AppUnreachable as error:
            if quiet:
                raise
            logger.warning("deactivating %s/%s failed: %s", actor_type, actor_id, error)
            return
        if response.status != 200:
            logger.warning(
                "deactivating %s/%s: the app answered %d", actor_type, actor_id, response.status
            )

    async def deactivate_idle(self) -> int:
        """Deactivate every idle actor whose idle deadline has passed; returns how many.

        One in a turn is left overdue, and looked at again by later scans."""
        idle = []
        for key, actor in [*self._overdue.items(), *self._take_expired(self._clock())]:
            if actor.idle:
                self._overdue.pop(key, None)
                idle.append(key)
            else:
                self._overdue[key] = actor
        results = await asyncio.gather(*(self.deactivate(*key) for key in idle))
        return sum(results)

    async def deactivate_all(
        self,
        within: float = EXIT_DEACTIVATION_SECONDS,
        concurrency: int = EXIT_DEACTIVATION_CONCURRENCY,
    ) -> int:
        """Deactivate every active actor, as daprd does before it exits: each in its turn, up
        to ``concurrency`` at once, for at most ``within`` seconds (then the rest are given
        up, still in the table); returns how many were deactivated. Logs its progress.

        Once the app cannot be reached (it stopped first, as it may beside ``dapr-actors
        sidecar``), the DELETEs not yet sent are given up, and that is logged once rather than
        once per actor."""
        keys = list(self._active)
        if not keys:
            return 0
        logger.info("deactivating %d active actors before exit", len(keys))
        run = _ExitDeactivation(self, keys)
        workers = [asyncio.create_task(run.work()) for _ in range(min(concurrency, len(keys)))]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        pending: set[asyncio.Task[None]] = set(workers)
        while pending and loop.time() < deadline:
            _, pending = await asyncio.wait(pending, timeout=min(1.0, deadline - loop.time()))
            if pending:
                logger.info("deactivated %d of %d actors", run.done, len(keys))
        for worker in pending:
            worker.cancel()
        await asyncio.wait(workers)
        left = len(keys) - run.done
        if run.unreachable is not None:
            logger.warning(
                "the app could not be reached (%s): %d of %d actors were not told of their "
                "deactivation before exit",
                run.unreachable,
                left,
                len(keys),
            )
        elif left:
            logger.warning(
                "%d of %d actors were not deactivated within %gs (their turns or DELETEs did "
                "not finish); stopping anyway",
                left,
                len(keys),
                within,
            )
        else:
            logger.info("deactivated %d actors before exit", run.done)
        return run.done

    def _take_expired(self, now: float) -> Iterator[tuple[tuple[str, str], ActiveActor]]:
        """Take the actors whose idle deadline is ``now`` or earlier out of their order: the
        front of each, so this costs what it yields, not the size of the table."""
        for actor_type, actors in self._idle_order.items():
            while actors:
                actor_id, actor = next(iter(actors.items()))
                if actor.idle_at > now:
                    break
                del actors[actor_id]
                yield (actor_type, actor_id), actor

    def _earliest_idle_deadline(self) -> float:
        """The soonest idle deadline of any active actor; infinity when none is active."""
        return min(
            (next(iter(actors.values())).idle_at for actors in self._idle_order.values() if actors),
            default=math.inf,
        )

    async def run_idle_scanner(self) -> None:
        """Deactivate idle actors as their idle timeouts pass, until cancelled.

        Sleeps until the earliest idle deadline, or the next scan interval while an actor is
        overdue (in a turn at its deadline); an activation whose deadline comes sooner than the
        planned scan wakes it to plan again.
        """
        interval = self.config.scan_interval / SECOND
        last_scan = -math.inf
        while True:
            self._scan_at = self._earliest_idle_deadline()
            if self._overdue:
                self._scan_at = min(self._scan_at, last_scan + interval)
            self._scan_sooner.clear()
            delay = self._scan_at - self._clock()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._scan_sooner.wait(), None if math.isinf(delay) else delay
                    )
                if self._scan_sooner.is_set():
                    continue
            last_scan = self._clock()
            try:
                await self.deactivate_idle()
            except Exception:
                logger.exception("idle deactivation failed")


class _ExitDeactivation:
    """What the workers of ``ActorTable.deactivate_all`` share: one iterator over the actors to
    deactivate, and what came of it. As many workers as DELETEs may be in flight, rather than a
    task per actor queued on a semaphore: each release of one scans its waiters, which made
    10,000 actors cost seconds of CPU."""

    def __init__(self, table: ActorTable, keys: list[tuple[str, str]]) -> None:
        self._table = table
        self._keys = iter(keys)
        self.done = 0
        self.unreachable: AppUnreachable | None = None  # the first failure to reach the app

    async def work(self) -> None:
        for actor_type, actor_id in self._keys:
            if self.unreachable is not None:
                return  # the app is gone: the DELETEs not yet sent are given up
            try:
                if await self._table.deactivate(actor_type, actor_id, quiet=True):
                    self.done += 1
            except AppUnreachable as error:
                self.unreachable = self.unreachable or error
            except Exception:
                logger.exception("deactivating %s/%s failed", actor_type, actor_id)


def method_response(
    response: AppResponse, actor_type: str, actor_id: str, method: str
) -> AppResponse:
    """Map the app's answer to a method call to what daprd's caller sees (§4.5)."""
    if response.status == 404:
        raise actor_invoke_failed(
            f"actor method not found: actors/{actor_type}/{actor_id}/method/{method}"
        )
    if response.status != 200:
        text = response.body.decode("utf-8", "replace")
        raise actor_invoke_failed(f"error from actor service: ({response.status}) {text}")
    if "x-daprerrorresponseheader" not in response.headers and is_truthy(
        response.headers.get("x-daprremindercancel")
    ):
        raise actor_invoke_failed("reminder has been canceled")
    return response


def is_truthy(value: str | None) -> bool:
    """dapr/kit ``strings.IsTruthy``, as daprd reads ``X-DaprReminderCancel``."""
    return value is not None and value.strip().lower() in ("y", "yes", "true", "t", "on", "1")


def unreachable(error: AppUnreachable) -> DaprError:
    return actor_invoke_failed(str(error))
