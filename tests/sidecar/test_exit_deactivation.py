"""Deactivation on exit (docs/protocol.md §4.4): on SIGTERM, the dev sidecar sends ``DELETE
/actors/{type}/{id}`` for every active actor before it stops, as daprd does
(``tests/integration/suite/actors/deactivation/onexit.go``), within daprd's bounds: 5 s, and
at most 1024 at once. The app here is ``exit_app``, a raw host without this package's runtime,
so every deactivation it records came from the sidecar."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import tempfile
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from dapr_actors_fastapi.sidecar.actors import (
    ActorsConfig,
    ActorTable,
    Callback,
    HostedType,
)
from dapr_actors_fastapi.sidecar.channel import AppChannel

from ..helpers import ROOT, dapr_actors_process, free_port, listening, poll_until, serve
from .exit_app import TYPES, create_app

ACTIVE = [("abc", "123"), ("abc", "456"), ("def", "123")]  # as in daprd's onexit test
EXIT_SECONDS = 30.0  # a deadline for the process to exit, not a sleep


def call(sidecar_port: int, actor_type: str, actor_id: str) -> int:
    url = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/{actor_type}/{actor_id}/method/foo"
    request = urllib.request.Request(url, data=b"", method="PUT")
    with urllib.request.urlopen(request, timeout=EXIT_SECONDS) as response:
        status: int = response.status
        return status


def test_run_deactivates_every_active_actor_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deactivations = tmp_path / "deactivations.txt"
    monkeypatch.setenv("DEACTIVATIONS_FILE", str(deactivations))
    with dapr_actors_process("tests.sidecar.exit_app:app", "--app-id=exit") as run:
        for actor in ACTIVE:
            assert call(run.sidecar_port, *actor) == 200
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=EXIT_SECONDS) == 0, run.log()
        log = run.log()
    assert sorted(deactivations.read_text().split()) == sorted(f"{t}/{i}" for t, i in ACTIVE)
    assert "deactivating 3 active actors before exit" in log
    assert "deactivated 3 actors before exit" in log


@pytest.fixture
async def recorded_app() -> AsyncIterator[tuple[str, list[str]]]:
    deleted: list[str] = []
    release_hung = asyncio.Event()
    app = create_app(lambda t, i: deleted.append(f"{t}/{i}"), release_hung)
    async with serve(app) as url:
        try:
            yield url, deleted
        finally:
            release_hung.set()  # so that the server can stop


async def test_sidecar_stops_within_its_bound_when_a_delete_hangs(
    recorded_app: tuple[str, list[str]],
) -> None:
    app_url, deleted = recorded_app
    port = free_port()
    with tempfile.TemporaryFile() as output:
        sidecar = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dapr_actors_fastapi.sidecar.cli",
            "sidecar",
            f"--app-url={app_url}",
            f"--dapr-http-port={port}",
            "--state-db=:memory:",
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
        try:
            await poll_until(lambda: listening(port), what="the sidecar", seconds=EXIT_SECONDS)
            for actor in (("abc", "1"), ("xyz", "hang-1")):
                assert await asyncio.to_thread(call, port, *actor) == 200
            sidecar.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(sidecar.wait(), EXIT_SECONDS) == 0
        finally:
            if sidecar.returncode is None:
                sidecar.kill()
                await sidecar.wait()
        output.seek(0)
        log = output.read().decode(errors="replace")
    assert sorted(deleted) == ["abc/1", "xyz/hang-1"], log
    assert "1 of 2 actors were not deactivated within 5s" in log


async def test_deactivate_all_keeps_to_its_concurrency_and_time_limits() -> None:
    in_flight, most, deleted = 0, 0, []
    release, release_hung = asyncio.Event(), asyncio.Event()

    def on_delete(actor_type: str, actor_id: str) -> None:
        deleted.append(actor_id)

    app = create_app(on_delete, release_hung)

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight, most
        is_delete = scope.get("method") == "DELETE"
        if is_delete:
            in_flight += 1
            most = max(most, in_flight)
            await release.wait()  # held until the test has seen how many were in flight
        try:
            await app(scope, receive, send)
        finally:
            if is_delete:
                in_flight -= 1

    async with serve(counting) as url:
        channel = AppChannel(url, app_id="exit", app_api_token=None)
        await channel.open()
        try:
            hosted = HostedType("abc")
            table = ActorTable(channel, ActorsConfig({name: HostedType(name) for name in TYPES}))
            for actor_id in map(str, range(6)):
                callback = Callback(f"/actors/abc/{actor_id}/method/foo", [], b"")
                assert (await table.call(hosted, actor_id, callback)).status == 200
            stopping = asyncio.create_task(table.deactivate_all(concurrency=2))
            await poll_until(lambda: in_flight == 2, what="two DELETEs in flight")
            release.set()
            assert await asyncio.wait_for(stopping, EXIT_SECONDS) == 6
            assert (most, sorted(deleted)) == (2, [str(i) for i in range(6)])

            hung = Callback("/actors/abc/hang-1/method/foo", [], b"")
            assert (await table.call(hosted, "hang-1", hung)).status == 200
            # Its DELETE never answers: given up after the time limit, none deactivated.
            assert await asyncio.wait_for(table.deactivate_all(within=0.5), EXIT_SECONDS) == 0
        finally:
            release_hung.set()
            await channel.close()


async def test_an_app_that_is_gone_is_reported_once_not_once_per_actor(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Beside `dapr-actors sidecar` the app may stop first; 10,000 actors used to log 10,000
    # warnings of a refused connection.
    app = create_app(lambda t, i: None, asyncio.Event())
    async with serve(app) as url:
        channel = AppChannel(url, app_id="exit", app_api_token=None)
        await channel.open()
        hosted = HostedType("abc")
        table = ActorTable(channel, ActorsConfig({name: HostedType(name) for name in TYPES}))
        for actor_id in map(str, range(50)):
            callback = Callback(f"/actors/abc/{actor_id}/method/foo", [], b"")
            assert (await table.call(hosted, actor_id, callback)).status == 200
    try:  # the app has stopped
        with caplog.at_level(logging.WARNING, logger="dapr_actors_fastapi.sidecar"):
            assert await asyncio.wait_for(table.deactivate_all(), EXIT_SECONDS) == 0
    finally:
        await channel.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "the app could not be reached" in warnings[0]
    assert "50 of 50 actors were not told" in warnings[0]
