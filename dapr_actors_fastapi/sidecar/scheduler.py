"""Reminders and timers of the dev sidecar: registration, firing, retries, persistence.

* Reminders are stored in SQLite with their progress, so they keep firing (and ``Rn/`` keeps
  counting exactly) across restarts. A failed delivery is retried as daprd's Scheduler does:
  4 deliveries in all, 1 s apart (docs/protocol.md §4.2); a retry waits in the heap like a due
  job. Callbacks carry the strings as registered (P11).
* At most ``max_deliveries`` deliveries are in flight to the app; due jobs beyond that wait
  their turn in due-time order, so a burst of thousands neither floods the app nor starves
  the API's own calls to it.
* Timers live in memory, are not retried, and stop when their actor is deactivated (P13).
* Either kind stops when its handler answers ``X-DaprReminderCancel: true`` (P14).
* A store that refuses a write is daprd's error on the API (500 ``ERR_ACTOR_REMINDER_CREATE``
  or ``_DELETE``, the reminder left as it was) and one logged error per refusal while firing,
  where the reminder goes on (or ends) in memory and only its stored record is behind.
* Deliveries take the actor's turn like any call (§4.2) and activate inactive actors. The next
  fire is scheduled after a delivery ends, at the previous *scheduled* time plus the period,
  so a slow handler leads to an immediate catch-up fire, as in daprd (§4.3).
* A fire's progress is saved in the same turn of the event loop, together with every other
  fire that ended in it: one SQLite commit for a burst, not one per fire. A store that refuses
  the batch gets each record alone, so that one refusal holds none of the others back.
* Each job builds its delivery request (path and body) once: they never change.
* Due times wait in a heap. A replaced or deleted job's entry cannot be taken out of the middle
  of a heap cheaply, so it stays, marked cancelled, and is skipped when it comes up; once such
  stale entries outnumber the live ones the heap is rebuilt without them, so churn costs
  amortized O(log n) per operation and never holds more than the live jobs' worth of memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .._wire.paths import CallbackRoute, recurrence_callback_path
from .._wire.strict_json import from_go_json
from .actors import ActorTable, Callback, HostedType, is_truthy
from .channel import AppResponse, AppUnreachable
from .errors import DaprError, malformed
from .schedules import Period, Schedule, parse_period, reminder_schedule, timer_schedule
from .state import go_json
from .store import ReminderRecord, StateStore

logger = logging.getLogger(__name__)

JobKind = Literal["reminder", "timer"]

# Deliveries in flight to the app at once. A burst of due jobs waits in the heap rather than in
# the app's connection pool, so the app and the sidecar's API keep answering other calls, and
# the app is not handed thousands of requests at a time.
DEFAULT_MAX_DELIVERIES = 32


@dataclass(eq=False, slots=True)
class Job:
    """One registered reminder or timer and where it stands."""

    kind: JobKind
    actor_type: str
    actor_id: str
    name: str
    data: bytes | None
    due_time: str
    period_text: str
    ttl: str
    callback: str
    next_due: float
    period: Period | None
    remaining: int | None
    expires_at: float | None
    cancelled: bool = field(default=False)
    queued: bool = field(default=False)  # has an entry in the scheduler's heap
    failed_attempts: int = field(default=0)  # failed deliveries of the current due time
    _delivery: Callback | None = field(default=None, repr=False)  # built at the first fire

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.actor_type, self.actor_id, self.name)

    def delivery(self) -> Callback:
        """The request that delivers this job to the app; built once, as it never changes."""
        if self._delivery is None:
            route: CallbackRoute = "remind" if self.kind == "reminder" else "timer"
            self._delivery = Callback(
                recurrence_callback_path(self.actor_type, self.actor_id, route, self.name),
                [("Content-Type", "application/json")],
                self.callback_body(),
            )
        return self._delivery

    def callback_body(self) -> bytes:
        """The body daprd sends to the app for this job (§4.2, §4.3; key order matters)."""
        parts = [] if self.data is None else [b'"data":' + self.data]
        if self.kind == "timer":
            parts.append(b'"callback":' + json.dumps(self.callback).encode())
        parts.append(b'"dueTime":' + json.dumps(self.due_time).encode())
        parts.append(b'"period":' + json.dumps(self.period_text).encode())
        return b"{" + b",".join(parts) + b"}"

    def record(self) -> ReminderRecord:
        return ReminderRecord(
            self.actor_type,
            self.actor_id,
            self.name,
            self.data,
            self.due_time,
            self.period_text,
            self.ttl,
            self.next_due,
            self.remaining,
            self.expires_at,
        )


@dataclass(frozen=True)
class Registration:
    """A reminder or timer registration body, decoded as daprd's Go structs are."""

    due_time: str
    period: str
    ttl: str
    data: bytes | None
    callback: str
    overwrite: bool

    @classmethod
    def parse(cls, body: bytes) -> Registration:
        try:
            decoded = from_go_json(body) if body.strip() else {}
        except ValueError as error:
            raise malformed(f"body is not JSON: {error}") from None
        if not isinstance(decoded, dict):
            raise malformed("a registration is a JSON object with dueTime, period, ttl, data")
        fields = {name.lower(): value for name, value in decoded.items()}  # Go: case-insensitive
        strings = {}
        for name in ("duetime", "period", "ttl", "callback"):
            value = fields.get(name)
            if value is not None and not isinstance(value, str):
                raise malformed(f"{name} must be a string, got {value!r}")
            strings[name] = value or ""
        overwrite = fields.get("overwrite", True)
        if not isinstance(overwrite, bool):
            raise malformed(f"overwrite must be true or false, got {overwrite!r}")
        try:
            data = go_json(fields["data"]) if "data" in fields else None
        except ValueError as error:
            raise malformed(f"data: {error}") from None
        return cls(
            strings["duetime"],
            strings["period"],
            strings["ttl"],
            data,
            strings["callback"],
            overwrite,
        )


class Scheduler:
    """Fires the reminders and timers of one sidecar."""

    def __init__(
        self,
        *,
        app_id: str,
        store: StateStore,
        actors: ActorTable,
        retry_interval: float = 1.0,
        attempts: int = 4,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app_id = app_id
        self._store = store
        self._actors = actors
        self._retry_interval = retry_interval
        self._attempts = attempts
        self._max_deliveries = max_deliveries
        self._clock = clock
        self._jobs: dict[tuple[str, str, str, str], Job] = {}
        self._heap: list[tuple[float, int, Job]] = []
        self._stale = 0  # heap entries of cancelled jobs, not yet popped
        self._order = itertools.count()
        self._actor_timers: dict[tuple[str, str], set[str]] = {}  # (type, id) -> timer names
        self._wake = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()
        # Reminders whose progress is saved at the end of this turn of the event loop.
        self._unsaved: dict[tuple[str, str, str, str], Job] = {}
        actors.deactivation_listeners.append(self.drop_timers)

    # -- registration -------------------------------------------------------------------------

    def register_reminder(self, hosted: HostedType, actor_id: str, name: str, body: bytes) -> None:
        registration = Registration.parse(body)
        key = ("reminder", hosted.name, actor_id, name)
        if not registration.overwrite and key in self._jobs:
            raise DaprError(
                409, "ERR_ACTOR_REMINDER_ALREADY_EXISTS", f"actor reminder already exists: {name}"
            )
        schedule = self._schedule(reminder_schedule, registration, "reminder")
        job = self._job("reminder", hosted.name, actor_id, name, registration, schedule)
        with _store_refusal("ERR_ACTOR_REMINDER_CREATE", "creating"):
            self._store.save_reminder(self._app_id, job.record())
        self._add(job)

    def register_timer(self, hosted: HostedType, actor_id: str, name: str, body: bytes) -> None:
        registration = Registration.parse(body)
        schedule = self._schedule(timer_schedule, registration, "timer")
        self._add(self._job("timer", hosted.name, actor_id, name, registration, schedule))

    def _schedule(
        self,
        parse: Callable[[str, str, str, float], Schedule],
        registration: Registration,
        kind: JobKind,
    ) -> Schedule:
        """Parse a registration's times; a bad one is 400 ``ERR_ACTOR_<KIND>_CREATE`` naming it."""
        try:
            return parse(
                registration.due_time, registration.period, registration.ttl, self._clock()
            )
        except ValueError as error:
            raise DaprError(
                400, f"ERR_ACTOR_{kind.upper()}_CREATE", f"error creating actor {kind}: {error}"
            ) from None

    def get_reminder(self, actor_type: str, actor_id: str, name: str) -> dict[str, Any]:
        """The reminder as registered (P12)."""
        job = self._jobs.get(("reminder", actor_type, actor_id, name))
        if job is None:
            raise DaprError(
                404, "ERR_ACTOR_REMINDER_NOT_FOUND", f"actor reminder not found: {name}"
            )
        answer: dict[str, Any] = {
            "actorID": actor_id,
            "actorType": actor_type,
            "dueTime": job.due_time,
            "period": job.period_text,
        }
        if job.data is not None:
            answer["data"] = json.loads(job.data)
        if job.ttl:
            answer["ttl"] = job.ttl
        return answer

    def delete(self, kind: JobKind, actor_type: str, actor_id: str, name: str) -> None:
        """Stop a job. A reminder's stored record goes first: if the store refuses (500
        ``ERR_ACTOR_REMINDER_DELETE``), the reminder is left as it was, not half deleted."""
        if kind == "reminder":
            with _store_refusal("ERR_ACTOR_REMINDER_DELETE", "deleting"):
                self._store.delete_reminder(self._app_id, actor_type, actor_id, name)
        self._drop(kind, actor_type, actor_id, name)

    def _drop(self, kind: JobKind, actor_type: str, actor_id: str, name: str) -> None:
        job = self._jobs.pop((kind, actor_type, actor_id, name), None)
        if job is not None:
            self._cancel(job)
        if kind == "timer":
            self._forget_timer(actor_type, actor_id, name)

    def drop_timers(self, actor_type: str, actor_id: str) -> None:
        """Stop the timers of a deactivated actor (P13)."""
        for name in self._actor_timers.pop((actor_type, actor_id), ()):
            self._cancel(self._jobs.pop(("timer", actor_type, actor_id, name)))

    def _forget_timer(self, actor_type: str, actor_id: str, name: str) -> None:
        names = self._actor_timers.get((actor_type, actor_id))
        if names is not None:
            names.discard(name)
            if not names:
                del self._actor_timers[(actor_type, actor_id)]

    def load(self) -> int:
        """Resume the stored reminders of hosted types; returns how many."""
        for record in self._store.reminders(self._app_id):
            period = parse_period(record.period, allow_calendar=False)[0] if record.period else None
            self._add(
                Job(
                    "reminder",
                    record.actor_type,
                    record.actor_id,
                    record.name,
                    record.data,
                    record.due_time,
                    record.period,
                    record.ttl,
                    "",
                    record.next_due,
                    period,
                    record.remaining,
                    record.expires_at,
                )
            )
        return len(self._jobs)

    def _job(
        self,
        kind: JobKind,
        actor_type: str,
        actor_id: str,
        name: str,
        registration: Registration,
        schedule: Schedule,
    ) -> Job:
        return Job(
            kind,
            actor_type,
            actor_id,
            name,
            registration.data,
            registration.due_time,
            registration.period,
            registration.ttl,
            registration.callback,
            schedule.first_due,
            schedule.period,
            schedule.repetitions,
            schedule.expires_at,
        )

    def _add(self, job: Job) -> None:
        previous = self._jobs.get(job.key)
        if previous is not None:
            self._cancel(previous)  # a registration with the same name replaces it
        self._jobs[job.key] = job
        if job.kind == "timer":
            self._actor_timers.setdefault((job.actor_type, job.actor_id), set()).add(job.name)
        self._push(job)

    def _push(self, job: Job, when: float | None = None) -> None:
        """Queue ``job`` to fire at ``when``, by default its next due time."""
        moment = job.next_due if when is None else when
        heapq.heappush(self._heap, (moment, next(self._order), job))
        job.queued = True
        self._wake.set()

    def _pop(self) -> Job:
        _, _, job = heapq.heappop(self._heap)
        job.queued = False
        if job.cancelled:
            self._stale -= 1
        return job

    def _cancel(self, job: Job) -> None:
        """Mark ``job`` cancelled; rebuild the heap once cancelled entries outnumber live ones."""
        job.cancelled = True
        if job.queued:
            self._stale += 1
            if self._stale * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._stale = 0

    # -- firing -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Fire due jobs until cancelled, at most ``max_deliveries`` at a time."""
        try:
            while True:
                self._start_due_deliveries()
                self._wake.clear()
                # Sleep until the earliest job is due, or until a registration or the end of a
                # delivery wakes us earlier.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_time())
        finally:
            for task in self._deliveries:
                task.cancel()
            self._save_unsaved()  # what the fires that ended last did, before the store closes

    def _start_due_deliveries(self) -> None:
        now = self._clock()
        while (
            self._heap and self._heap[0][0] <= now and len(self._deliveries) < self._max_deliveries
        ):
            job = self._pop()
            if not job.cancelled:
                task = asyncio.create_task(self._fire(job))
                self._deliveries.add(task)
                task.add_done_callback(self._delivery_ended)

    def _idle_time(self) -> float | None:
        """Seconds until the next job is due; ``None`` (wait to be woken) if there is none, or
        if it is due and waits for a delivery slot (the end of a delivery wakes us)."""
        if not self._heap:
            return None
        delay = self._heap[0][0] - self._clock()
        if delay <= 0 and len(self._deliveries) >= self._max_deliveries:
            return None
        return max(0.0, delay)

    def _delivery_ended(self, task: asyncio.Task[None]) -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The last line of defence: a job whose bookkeeping failed stops, but loudly.
            logger.error("a reminder or timer stopped on an unexpected error", exc_info=error)
        if self._heap and self._heap[0][0] <= self._clock():
            self._wake.set()  # a slot is free for a job that is due

    async def _fire(self, job: Job) -> None:
        if job.expires_at is not None and self._clock() > job.expires_at:
            self._finish(job)
            return
        hosted = self._actors.hosted(job.actor_type)
        if hosted is None:
            logger.warning("%s %s of unhosted type %r dropped", job.kind, job.name, job.actor_type)
            self._finish(job)
            return
        outcome = await self._attempt(job, hosted)
        if job.cancelled:
            return
        attempts = self._attempts if job.kind == "reminder" else 1
        if outcome is None and job.failed_attempts + 1 < attempts:
            # Retry later through the heap, so that waiting does not hold a delivery slot.
            job.failed_attempts += 1
            self._push(job, self._clock() + self._retry_interval)
            return
        job.failed_attempts = 0
        if outcome:
            self._finish(job)
        else:
            self._advance(job)

    async def _attempt(self, job: Job, hosted: HostedType) -> bool | None:
        """One delivery: ``None`` if it failed, else whether the handler cancelled the job."""
        try:
            response = await self._actors.call(hosted, job.actor_id, job.delivery())
        except (AppUnreachable, DaprError) as error:
            logger.warning("%s %s/%s/%s failed: %s", job.kind, *job.key[1:], error)
            return None
        except Exception:
            # A bug, not the app's doing: say so with the traceback, and treat it as a failed
            # delivery so that this job, and every other, keeps its schedule.
            logger.exception("%s %s/%s/%s failed unexpectedly", job.kind, *job.key[1:])
            return None
        if response.status != 200 or "x-daprerrorresponseheader" in response.headers:
            logger.warning(
                "%s %s/%s/%s: the app answered %d %s",
                job.kind,
                *job.key[1:],
                response.status,
                _excerpt(response),
            )
            return None
        return is_truthy(response.headers.get("x-daprremindercancel"))

    def _advance(self, job: Job) -> None:
        if job.period is None:
            self._finish(job)
            return
        if job.remaining is not None:
            job.remaining -= 1
            if job.remaining <= 0:
                self._finish(job)
                return
        next_due = self._next_due(job, job.period)
        if next_due is None:
            self._finish(job)
            return
        job.next_due = next_due
        if job.expires_at is not None and job.next_due > job.expires_at:
            self._finish(job)
            return
        if job.kind == "reminder":
            self._save_progress(job)
        self._push(job)

    def _save_progress(self, job: Job) -> None:
        """Save ``job``'s progress at the end of this turn of the event loop, with the others'."""
        if not self._unsaved:
            asyncio.get_running_loop().call_soon(self._save_unsaved)
        self._unsaved[job.key] = job

    def _save_unsaved(self) -> None:
        # A job deleted or replaced since its fire has no progress to save: its record is gone
        # or belongs to the registration that replaced it.
        jobs = [job for job in self._unsaved.values() if self._jobs.get(job.key) is job]
        self._unsaved.clear()
        if not jobs:
            return
        try:
            self._store.save_reminders(self._app_id, [job.record() for job in jobs])
        except sqlite3.Error:
            for job in jobs:
                self._save_one(job)

    def _save_one(self, job: Job) -> None:
        try:
            self._store.save_reminder(self._app_id, job.record())
        except sqlite3.Error as error:
            # Firing goes on from memory: a store that refuses once must not stop the reminder.
            logger.error(
                "reminder %s/%s/%s: its progress could not be stored (%s); after a restart it "
                "resumes from the last progress stored",
                *job.key[1:],
                error,
            )

    def _next_due(self, job: Job, period: Period) -> float | None:
        """The fire after ``job``'s last, or ``None`` (logged) when it cannot be scheduled."""
        try:
            next_due = period.after(job.next_due)
        except (ValueError, OverflowError) as error:
            reason = f"its next fire reaches past the year 9999 ({error})"
        else:
            if next_due > job.next_due:
                return next_due
            reason = "its next fire would not come after the last one"
        logger.warning(
            "%s %s/%s/%s with period %r stops: %s", job.kind, *job.key[1:], job.period_text, reason
        )
        return None

    def _finish(self, job: Job) -> None:
        if self._jobs.get(job.key) is not job:
            return
        try:
            self.delete(job.kind, job.actor_type, job.actor_id, job.name)
        except DaprError as error:
            # The job has ended all the same; only its stored record outlives it.
            self._drop(job.kind, job.actor_type, job.actor_id, job.name)
            logger.error(
                "%s %s/%s/%s has ended, but %s; it fires again when the sidecar restarts",
                job.kind,
                *job.key[1:],
                error.message,
            )


@contextlib.contextmanager
def _store_refusal(error_code: str, doing: str) -> Iterator[None]:
    """The state store's refusal (a full disk, a locked or broken file) as daprd's error for
    the reminder operation, rather than a bare 500."""
    try:
        yield
    except sqlite3.Error as error:
        raise DaprError(500, error_code, f"error {doing} actor reminder: {error}") from error


def _excerpt(response: AppResponse) -> str:
    return response.body[:200].decode("utf-8", "replace")
