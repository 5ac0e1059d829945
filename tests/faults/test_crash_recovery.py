"""kill -9 of the dev sidecar while it writes, then a restart on the same SQLite file: the file
passes SQLite's integrity check, every acknowledged transaction and reminder is there, no
transaction is torn, and reminders fire again.

The sidecar runs as ``dapr-actors sidecar`` in a subprocess, in front of an app served in the
test (which outlives the kills, as an app outlives a crashed daprd). Writers call an actor method
through the sidecar's API that writes ``a`` = ``b`` = n in one turn, so in one state
transaction; others keep re-registering reminders. Once enough writes are acknowledged, the
sidecar gets SIGKILL with requests still in flight. The integrity check runs on the file the
kill left, then the sidecar restarts on it and is asked, through its API, for every value and
reminder; then the cycle repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from dapr_actors_fastapi import Actor, ActorRuntime, SidecarClient, method, reminder

from ..helpers import ROOT, free_port, make_app, serve

CYCLES = 2  # each restart costs a cold start of the CLI (2-4 s on a loaded machine)
ACTORS = 12  # writers, one actor each: each has one write in flight at a time
REMINDERS = 6  # reminder names, re-registered over and over by one task each
ACKS_BEFORE_KILL = 150  # acknowledged writes per cycle before the kill
START_SECONDS = 60.0  # a cold start of the subprocess on a loaded machine
WRITE_SECONDS = 10.0  # for ACKS_BEFORE_KILL writes
FIRE_SECONDS = 10.0  # reminders are due 1 s after registration; then every second


@dataclass
class Ledger:
    """What the test sent and what was acknowledged, over all cycles. Values only grow, so the
    last acknowledged one stands for all the acknowledged ones before it."""

    sent: dict[str, int] = field(default_factory=dict)  # actor id -> last n sent
    acked: dict[str, int] = field(default_factory=dict)  # actor id -> last n acknowledged
    reminders_sent: dict[str, int] = field(default_factory=dict)  # name -> last seq sent
    reminders_acked: dict[str, int] = field(default_factory=dict)  # name -> last seq acked
    refused: list[str] = field(default_factory=list)  # answers other than success
    fires: list[tuple[str, float]] = field(default_factory=list)  # (reminder name, monotonic)


def reminder_actor(name: str) -> str:
    return f"r{int(name.removeprefix('tick-')) % ACTORS}"


def pairs_runtime(sidecar_url: str, ledger: Ledger) -> ActorRuntime:
    runtime = ActorRuntime(sidecar=SidecarClient(endpoint=sidecar_url, timeout=10))

    @runtime.actor("pair")
    class Pair(Actor):
        @method
        async def write(self, n: int) -> int:
            await self.state.set("a", n)
            await self.state.set("b", n)
            return n

        @reminder
        async def tick(self, name: str) -> None:
            ledger.fires.append((name, time.monotonic()))

    return runtime


class DevSidecar:
    """``dapr-actors sidecar`` in a subprocess, on a fixed port, its state in ``state_db``."""

    def __init__(self, app_url: str, port: int, state_db: Path, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self._command = [
            sys.executable,
            "-m",
            "dapr_actors_fastapi.sidecar.cli",
            "sidecar",
            f"--app-url={app_url}",
            "--app-id=pairs",
            f"--dapr-http-port={port}",
            f"--state-db={state_db}",
            "--log-level=warning",
        ]
        self._log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self._command, cwd=ROOT, stdout=log, stderr=log
            )
        await self._until_ready()

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(
                f"the dev sidecar exited by itself ({self.process.returncode}):\n"
                + self._log.read_text()[-3000:]
            )

    async def kill(self) -> None:
        self.check_alive()
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        assert await self.process.wait() == -signal.SIGKILL
        self.process = None

    async def stop(self) -> None:
        if self.process is not None:
            if self.process.returncode is None:
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise
            finally:
                self.process = None

    async def _until_ready(self) -> None:
        """``/v1.0/healthz`` answers 204 once the app's config is read and reminders loaded."""
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline and self.process.returncode is None:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/v1.0/healthz")).status_code == 204:
                        return
                await asyncio.sleep(0.05)  # a poll with a deadline: nothing to wait on
        raise AssertionError(f"the dev sidecar did not start:\n{self._log.read_text()[-3000:]}")


async def write_until_refused(
    http: httpx.AsyncClient, actor_id: str, first: int, ledger: Ledger, acked: asyncio.Event
) -> None:
    """Write n, n+1, ... to one actor, one at a time, until the sidecar is gone."""
    n = first
    while True:
        ledger.sent[actor_id] = n
        try:
            answer = await http.put(f"/v1.0/actors/pair/{actor_id}/method/write", json={"n": n})
        except httpx.TransportError:
            return
        if answer.status_code != 200:
            ledger.refused.append(f"write {actor_id}={n}: {answer.status_code} {answer.text}")
            return
        ledger.acked[actor_id] = n
        acked.set()
        n += 1


async def register_until_refused(
    http: httpx.AsyncClient, name: str, first: int, ledger: Ledger
) -> None:
    """Register reminder ``name`` over and over (each a write to the store) until the sidecar is
    gone; ``seq`` in its data says which registration is stored."""
    seq = first
    path = f"/v1.0/actors/pair/{reminder_actor(name)}/reminders/{name}"
    while True:
        ledger.reminders_sent[name] = seq
        body = {"dueTime": "1s", "period": "1s", "data": {"seq": seq}}
        try:
            answer = await http.put(path, json=body)
        except httpx.TransportError:
            return
        if answer.status_code != 204:
            ledger.refused.append(f"reminder {name}#{seq}: {answer.status_code} {answer.text}")
            return
        ledger.reminders_acked[name] = seq
        seq += 1


async def write_then_kill(sidecar: DevSidecar, cycle: int, ledger: Ledger) -> tuple[int, int]:
    """Writers and reminder registrations against the sidecar, and SIGKILL once
    ``ACKS_BEFORE_KILL`` writes are acknowledged; returns (writes, registrations) acknowledged
    in this cycle."""
    first = (cycle + 1) * 1_000_000  # above every value of the cycles before
    progress = asyncio.Event()
    async with httpx.AsyncClient(base_url=sidecar.url, timeout=30) as http:
        tasks = [
            asyncio.create_task(write_until_refused(http, str(i), first, ledger, progress))
            for i in range(ACTORS)
        ] + [
            asyncio.create_task(register_until_refused(http, f"tick-{j}", first, ledger))
            for j in range(REMINDERS)
        ]
        deadline = time.monotonic() + WRITE_SECONDS
        while _acked_in(cycle, ledger) < ACKS_BEFORE_KILL:
            assert time.monotonic() < deadline, f"{_acked_in(cycle, ledger)} writes in 10 s"
            assert not ledger.refused, ledger.refused
            sidecar.check_alive()
            progress.clear()
            with contextlib.suppress(TimeoutError):  # then look at the process again
                await asyncio.wait_for(progress.wait(), timeout=0.5)
        await sidecar.kill()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    assert not ledger.refused, ledger.refused  # a killed sidecar answers nothing at all
    registrations = sum(seq - first + 1 for seq in ledger.reminders_acked.values() if seq >= first)
    return _acked_in(cycle, ledger), registrations


def _acked_in(cycle: int, ledger: Ledger) -> int:
    first = (cycle + 1) * 1_000_000
    return sum(n - first + 1 for n in ledger.acked.values() if n >= first)


def integrity(state_db: Path) -> list[Any]:
    """``PRAGMA integrity_check`` on a read-only connection, closed before returning."""
    with contextlib.closing(sqlite3.connect(f"file:{state_db}?mode=ro", uri=True)) as db:
        return db.execute("PRAGMA integrity_check").fetchall()


async def check_restarted(sidecar: DevSidecar, ledger: Ledger, restarted: float) -> float:
    """The restarted sidecar holds every acknowledged write and registration, nothing torn,
    and every reminder fires again; returns the seconds until the last one fired."""
    async with httpx.AsyncClient(base_url=sidecar.url, timeout=10) as http:
        for actor_id, sent in ledger.sent.items():
            base = f"/v1.0/actors/pair/{actor_id}/state"
            stored = [_value(await http.get(f"{base}/{key}")) for key in ("a", "b")]
            assert stored[0] == stored[1], f"torn transaction on actor {actor_id}: a, b = {stored}"
            # The write in flight at the kill may or may not have been applied, whole.
            assert stored[0] in {ledger.acked.get(actor_id), sent}, (actor_id, stored, sent)
        for name, acked in ledger.reminders_acked.items():
            answer = await http.get(f"/v1.0/actors/pair/{reminder_actor(name)}/reminders/{name}")
            assert answer.status_code == 200, (name, answer.text)
            assert answer.json()["data"]["seq"] in {acked, ledger.reminders_sent[name]}
    deadline = restarted + FIRE_SECONDS
    pending = set(ledger.reminders_acked)
    while pending:
        pending -= {name for name, at in ledger.fires if at >= restarted}
        assert time.monotonic() < deadline, f"reminders that never fired again: {sorted(pending)}"
        await asyncio.sleep(0.02)  # a poll with a deadline: fires arrive on the app's loop
    return max(at for name, at in ledger.fires if at >= restarted) - restarted


def _value(answer: httpx.Response) -> Any:
    assert answer.status_code in (200, 204), answer.text
    return answer.json() if answer.status_code == 200 else None


@contextlib.asynccontextmanager
async def app_behind(port: int, ledger: Ledger) -> AsyncIterator[str]:
    async with serve(make_app(pairs_runtime(f"http://127.0.0.1:{port}", ledger))) as url:
        yield url


async def test_kill_9_mid_write_loses_no_acknowledged_write_and_tears_none(tmp_path: Path) -> None:
    ledger = Ledger()
    state_db = tmp_path / "state.db"
    port = free_port()
    async with app_behind(port, ledger) as app_url:
        sidecar = DevSidecar(app_url, port, state_db, tmp_path / "sidecar.log")
        try:
            await sidecar.start()
            for cycle in range(CYCLES):
                writes, registrations = await write_then_kill(sidecar, cycle, ledger)
                in_flight = sum(ledger.sent[a] != ledger.acked.get(a) for a in ledger.sent)
                registering = sum(
                    seq != ledger.reminders_acked.get(name)
                    for name, seq in ledger.reminders_sent.items()
                )
                assert integrity(state_db) == [("ok",)]  # the file as the kill left it
                restarted = time.monotonic()
                await sidecar.start()
                start_seconds = time.monotonic() - restarted
                assert integrity(state_db) == [("ok",)]
                fired_after = await check_restarted(sidecar, ledger, restarted)
                print(
                    f"cycle {cycle + 1}: {writes} writes and {registrations} reminder "
                    f"registrations acknowledged before SIGKILL, {in_flight} writes and "
                    f"{registering} registrations in flight; "
                    f"restarted in {start_seconds:.2f}s: integrity ok, nothing lost or torn, "
                    f"all {REMINDERS} reminders fired again {fired_after:.2f}s after the restart "
                    "began"
                )
        finally:
            await sidecar.stop()
    assert integrity(state_db) == [("ok",)]
