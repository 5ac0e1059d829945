"""One hosted actor type: its table of active actors and how a turn runs on one of them.

Activation is implicit: the first callback for an id creates a slot and, once it holds the
turn, the instance and ``on_activate``. Because the slot exists before anything is awaited,
concurrent first calls queue on the same slot and ``on_activate`` runs exactly once.

Deactivation is a turn too: it waits for the running turn, runs ``on_deactivate``, then retires
the slot. Requests that queued behind it find the slot retired and start over on a fresh one,
so two instances of one actor never run at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any

from .._actor_api.actor import Actor, overrides, state_of
from .._actor_api.actor_type import ActorType, ProxyFactory, SidecarRequests
from .._actor_api.definition import ActorDefinition, Handler
from .._actor_api.settings import ActorSettings
from .._actor_api.state import Savepoint
from .._telemetry.telemetry import UNKNOWN_NAME, Telemetry
from .._telemetry.turn_observer import TurnLabels, TurnObserver
from .._turn import Turn, turn_context
from .._wire.turn_queue import TurnQueue
from .serving import ServingState

logger = logging.getLogger(__name__)


class TurnFailed(Exception):
    """Internal: the actor's own code (activation, hook or handler) raised ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _ActorSlot(TurnQueue):
    """An entry of the active-actor table: the turn queue plus the instance once activated.

    ``running`` counts the requests running on the instance right now: more than one only
    while a reentrant chain has re-entered it, and then they share one unit of state work.
    ``turn`` is the turn of the request that started that unit of work.
    """

    __slots__ = ("instance", "retired", "running", "turn")

    def __init__(self) -> None:
        super().__init__()
        self.instance: Actor | None = None
        self.retired = False
        self.running = 0
        self.turn: Turn | None = None


class ActorTypeHost:
    """Runs the turns of every active actor of one type.

    It makes the type's ``ActorType`` itself, since that record carries the host as its
    ``turns`` tracker; ``sidecar``, ``proxies``, ``serving`` and ``telemetry`` come from the
    runtime. Before ``serving`` started no turn runs; while it is draining, only the turns in
    flight (and their reentrant calls) run. While ``telemetry`` is enabled, each turn is
    observed (``TurnObserver``).
    """

    def __init__(
        self,
        name: str,
        actor_class: type[Actor],
        settings: ActorSettings,
        definition: ActorDefinition,
        *,
        sidecar: SidecarRequests,
        proxies: ProxyFactory,
        serving: ServingState,
        telemetry: Telemetry,
    ) -> None:
        self.actor_type: ActorType[Actor] = ActorType(
            name, actor_class, settings, definition, sidecar, self, proxies
        )
        self.definition = definition
        self._slots: dict[str, _ActorSlot] = {}
        self._serving = serving
        self._telemetry = telemetry
        # TurnLabels by (kind, name): declared names only, so the table stays small.
        self._labels: dict[tuple[str, str], TurnLabels] = {}
        self._long_turn_seconds = telemetry.long_turn_seconds
        self._reentrant = settings.reentrancy
        self._max_depth = settings.max_stack_depth
        self._turn_hooks = overrides(actor_class, "on_turn_start", "on_turn_end")
        self._reports_errors = overrides(actor_class, "on_turn_error")
        self._activates = overrides(actor_class, "on_activate")
        self._deactivates = overrides(actor_class, "on_deactivate")

    @property
    def active_ids(self) -> list[str]:
        """Ids of the actors activated and not yet deactivated."""
        return [actor_id for actor_id, slot in self._slots.items() if slot.instance is not None]

    @property
    def reentrant(self) -> bool:
        """Whether requests of one reentrancy chain may enter an actor that chain holds."""
        return self._reentrant

    @property
    def observed(self) -> bool:
        """Whether turns are to be traced and measured: then callers use ``observed_turn``."""
        return self._telemetry.enabled

    async def observed_turn(
        self,
        actor_id: str,
        turn: Turn,
        chain: str | None,
        handler: Handler,
        kwargs: dict[str, Any],
        encode: Callable[[Any], Any] | None,
    ) -> Any:
        """``run_turn`` inside the turn's span and measurements (``TurnObserver``)."""
        with TurnObserver(self._telemetry, turn, self._labels_of(turn)) as observer:
            try:
                return await self.run_turn(actor_id, turn, chain, handler, kwargs, encode, observer)
            except TurnFailed as failure:
                observer.failed(failure.error)
                raise

    async def run_turn(
        self,
        actor_id: str,
        turn: Turn,
        chain: str | None,
        handler: Handler,
        kwargs: dict[str, Any],
        encode: Callable[[Any], Any] | None,
        observer: TurnObserver | None = None,
    ) -> Any:
        """Run ``handler(actor, **kwargs)`` in the actor's turn; activate it first if needed.

        ``encode`` turns the result into the response inside the turn, so that a result the
        handler's annotation cannot serialize fails the turn. Errors raised by the actor's own
        code (and by ``encode``) arrive wrapped in ``TurnFailed``. Before the lifespan started,
        a request raises ``ActorRuntimeNotStarted``; while the app drains, a request that would
        start a new turn raises ``ActorRuntimeClosed``. ``observer`` hears when the turn starts
        and when the actor activates. (Callers pick ``observed_turn`` when ``observed``:
        deciding there keeps a coroutine off the path of every unobserved call.)
        """
        while True:
            if self._serving.refusing and not self._chain_holds_turn(actor_id, chain):
                raise self._serving.refusal(
                    self.actor_type.name, actor_id, f"{turn.kind} {turn.name!r}"
                )
            slot = self._slots.get(actor_id)
            if slot is None:
                slot = self._slots[actor_id] = _ActorSlot()
            inflight = slot.enter(chain, self._max_depth)
            try:
                if not slot.holds_turn(inflight):
                    await slot.wait(inflight)
                if slot.retired:
                    continue
                if observer is not None:
                    observer.turn_started()
                started = perf_counter()
                token = turn_context.set(turn)
                instance = slot.instance
                # A nested request of a reentrant chain joins the state changes of the request
                # that entered first; the savepoint lets it fail without undoing those.
                if slot.running == 0:
                    savepoint, slot.turn = None, turn
                else:
                    savepoint = _savepoint(instance)
                slot.running += 1
                try:
                    if instance is None:
                        instance = await self._activate(slot, actor_id, turn, observer)
                    if self._turn_hooks:
                        await instance.on_turn_start(turn)
                    result = await handler(instance, **kwargs)
                    if encode is not None:
                        result = encode(result)
                    if self._turn_hooks:
                        await instance.on_turn_end(turn)
                    state = state_of(instance)
                    if state is not None and slot.running == 1:
                        await state.save()  # the unit of work ends with its last request
                    return result
                except BaseException as error:
                    state = None if instance is None else state_of(instance)
                    if state is not None:
                        if savepoint is None:
                            state.discard()
                        else:
                            state.rollback(savepoint)
                    if not isinstance(error, Exception):
                        raise  # cancelled: nothing to report
                    if instance is not None and self._reports_errors:
                        await self._report_turn_error(instance, turn, error)
                    raise TurnFailed(error) from error
                finally:
                    slot.running -= 1
                    if slot.running == 0:
                        slot.turn = None  # an idle actor keeps no request's strings alive
                    turn_context.reset(token)
                    ran = perf_counter() - started
                    if ran > self._long_turn_seconds:
                        self._report_long_turn(turn, ran, observer)
            finally:
                slot.leave(inflight)
                if slot.instance is None and slot.idle and not slot.retired:
                    # Activation failed and nobody is waiting: forget the id.
                    self._drop(actor_id, slot)

    def runs_turn(self, actor_id: str, turn: Turn) -> bool:
        """Whether ``turn`` is running on the actor now. A task spawned inside a turn keeps
        that turn in its context after the turn ended; this tells the two apart."""
        slot = self._slots.get(actor_id)
        if slot is None or slot.running == 0 or slot.turn is None:
            return False
        if turn is slot.turn:
            return True
        # A nested request of the chain that holds the turn.
        chain = slot.turn.reentrancy_id
        return chain is not None and turn.reentrancy_id == chain and self._reentrant

    def _chain_holds_turn(self, actor_id: str, chain: str | None) -> bool:
        """Whether ``chain`` is the reentrant chain running on the actor: its nested calls are
        part of a turn in flight, which the drain lets finish."""
        slot = self._slots.get(actor_id)
        return (
            chain is not None
            and slot is not None
            and slot.turn is not None
            and slot.turn.reentrancy_id == chain
        )

    def _report_long_turn(self, turn: Turn, ran: float, observer: TurnObserver | None) -> None:
        """A turn ran longer than ``long_turn_threshold``: one warning, as Orleans logs its
        long-running turns, and one count in ``dapr.actors.turn.long`` when metrics are on."""
        logger.warning(
            "long turn: %s %r of %s/%s ran %.3fs (long_turn_threshold %.3gs)",
            turn.kind,
            turn.name,
            turn.actor_type,
            turn.actor_id,
            ran,
            self._long_turn_seconds,
        )
        if observer is not None:
            observer.count_long_turn()

    def _labels_of(self, turn: Turn) -> TurnLabels:
        """The attributes of the turn's kind, made on its first turn and kept: one set per
        declared handler, plus one per kind for the rest."""
        labels = self._labels.get((turn.kind, turn.name))
        if labels is None:
            key = (turn.kind, self._metric_name(turn))
            labels = self._labels.get(key)
            if labels is None:
                labels = self._labels[key] = TurnLabels(self.actor_type.name, turn.kind, key[1])
        return labels

    def _metric_name(self, turn: Turn) -> str:
        """The turn's name as metrics carry it: a declared handler's, else ``UNKNOWN_NAME``
        (reminder and timer names are chosen at run time, and unbounded)."""
        if turn.kind == "deactivate":
            return "deactivate"
        definition = self.definition
        declared = {
            "method": definition.methods,
            "reminder": definition.reminders,
            "timer": definition.timers,
        }.get(turn.kind, {})
        return turn.name if turn.name in declared else UNKNOWN_NAME

    async def _activate(
        self, slot: _ActorSlot, actor_id: str, turn: Turn, observer: TurnObserver | None
    ) -> Actor:
        if observer is None:
            return await self._create(slot, actor_id, turn)
        with observer.activation():
            return await self._create(slot, actor_id, turn)

    async def _create(self, slot: _ActorSlot, actor_id: str, turn: Turn) -> Actor:
        instance = self.actor_type.actor_class(actor_id, self.actor_type)
        # Set before on_activate so that a reentrant call made from on_activate reaches this
        # instance instead of activating a second one.
        slot.instance = instance
        if self._activates:
            try:
                await instance.on_activate()
            except Exception as error:
                slot.instance = None
                if self._reports_errors:
                    await self._report_turn_error(instance, turn, error)
                raise
        logger.debug("activated %s/%s", self.actor_type.name, actor_id)
        return instance

    async def _report_turn_error(self, instance: Actor, turn: Turn, error: Exception) -> None:
        try:
            await instance.on_turn_error(turn, error)
        except Exception:
            logger.exception("on_turn_error of %r raised while handling %r", instance, error)

    async def deactivate(
        self, actor_id: str, traceparent: str | None = None, tracestate: str | None = None
    ) -> bool:
        """Deactivate one actor in its turn; ``False`` if it was not active.

        ``on_deactivate`` errors propagate wrapped in ``TurnFailed``; the actor is dropped
        either way, as daprd has already dropped it. ``traceparent``/``tracestate`` are those
        daprd sent, for the deactivation's span.
        """
        turn = Turn("deactivate", "", self.actor_type.name, actor_id, None, traceparent, tracestate)
        if not self._telemetry.enabled:
            return await self._deactivate(actor_id, turn)
        with TurnObserver(self._telemetry, turn, self._labels_of(turn)) as observer:
            try:
                deactivated = await self._deactivate(actor_id, turn)
            except TurnFailed as failure:
                observer.failed(failure.error)
                self._telemetry.count_deactivated(self.actor_type.name)
                raise
            if deactivated:
                self._telemetry.count_deactivated(self.actor_type.name)
            return deactivated

    async def _deactivate(self, actor_id: str, turn: Turn) -> bool:
        slot = self._slots.get(actor_id)
        if slot is None:
            return False
        inflight = slot.enter(None, self._max_depth)
        try:
            if not slot.holds_turn(inflight):
                await slot.wait(inflight)
            instance = slot.instance
            if slot.retired or instance is None:
                return False
            token = turn_context.set(turn)
            try:
                await instance.on_deactivate()
            except Exception as error:
                raise TurnFailed(error) from error
            finally:
                state = state_of(instance)
                if state is not None:
                    state.discard()
                logger.debug("deactivated %s/%s", self.actor_type.name, actor_id)
                turn_context.reset(token)
            return True
        finally:
            slot.retired = True
            self._drop(actor_id, slot)
            slot.leave(inflight)

    async def deactivate_all(self, drain_seconds: float) -> tuple[int, int]:
        """Deactivate every active actor concurrently within ``drain_seconds``.

        Returns (deactivated, unfinished); hook errors are logged, not raised.
        """
        retired = 0 if self._deactivates else self._retire_idle()
        ids = self.active_ids
        if not ids:
            return retired, 0
        tasks = [asyncio.ensure_future(self._deactivate_logged(actor_id)) for actor_id in ids]
        done, pending = await asyncio.wait(tasks, timeout=drain_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return retired + len(done), len(pending)

    def _retire_idle(self) -> int:
        """Drop every idle actor at once: without an ``on_deactivate`` there is nothing to run,
        and a task per actor made shutdown with 100k actors take seconds."""
        idle = [(actor_id, slot) for actor_id, slot in self._slots.items() if slot.idle]
        for actor_id, slot in idle:
            slot.retired = True
            del self._slots[actor_id]
        retired = sum(1 for _, slot in idle if slot.instance is not None)
        if logger.isEnabledFor(logging.DEBUG):
            for actor_id, slot in idle:
                if slot.instance is not None:
                    logger.debug("deactivated %s/%s", self.actor_type.name, actor_id)
        if retired and self._telemetry.enabled:
            self._telemetry.count_deactivated(self.actor_type.name, retired)
        return retired

    async def _deactivate_logged(self, actor_id: str) -> None:
        try:
            await self.deactivate(actor_id)
        except TurnFailed as failure:
            logger.error(
                "on_deactivate of %s/%s raised",
                self.actor_type.name,
                actor_id,
                exc_info=failure.error,
            )

    def _drop(self, actor_id: str, slot: _ActorSlot) -> None:
        if self._slots.get(actor_id) is slot:
            del self._slots[actor_id]


def _savepoint(instance: Actor | None) -> Savepoint:
    state = None if instance is None else state_of(instance)
    # No state used yet means nothing pending: rolling back then empties the changes.
    return {} if state is None else state.savepoint()
