"""SIGTERM under load (issue 9): no call lost without an answer.

A steady stream of calls, some of them slow, runs into the server when SIGTERM arrives. Every
call the client sent must end in one of three ways: 200, 503 ``ERR_ACTOR_RUNTIME_CLOSED`` (the
call did not run; retrying is safe), or a connection refused before anything was sent. Never a
connection reset or closed after the request went out, never a hang; the turns in flight
finish with 200 and the process exits within a bound.

Each call opens a connection of its own and is a POST, which aiohttp never resends on its own,
so the test sees what the server did rather than what a retry hid. A stream stops at its first
refusal or 503, as a client told to retry later does: at the instant a listener closes, any
server resets the connections the kernel accepted that it has not read yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from ..helpers import ROOT, dapr_actors_process, free_port, listening

STREAMS = 20  # calls in flight at once
ACTORS = tuple(f"a{number}" for number in range(8))
CALL_SECONDS = 20.0  # past this a call hangs
EXIT_SECONDS = 10.0  # the CLI's SHUTDOWN_SECONDS (5) plus room for a loaded machine
ANSWERED_BEFORE_SIGTERM = 40
CLOSED = '{"errorCode": "ERR_ACTOR_RUNTIME_CLOSED"'


@dataclass(frozen=True)
class Outcome:
    actor: str
    slow: bool
    kind: str  # "ok", "closed" (503 ERR_ACTOR_RUNTIME_CLOSED), "refused", "lost" or "error"
    detail: str
    answered_at: float


async def call(http: aiohttp.ClientSession, url: str, actor: str, slow: bool) -> Outcome:
    def outcome(kind: str, detail: str) -> Outcome:
        return Outcome(actor, slow, kind, detail, time.monotonic())

    try:
        async with http.post(url) as response:
            body = await response.text()
    except aiohttp.ClientConnectorError as error:  # connect() failed: nothing was sent
        return outcome("refused", str(error))
    except (aiohttp.ClientError, TimeoutError) as error:
        return outcome("lost", f"{type(error).__name__}: {error}")
    if response.status == 200:
        return outcome("ok", body)
    if response.status == 503 and body.startswith(CLOSED):
        return outcome("closed", body)
    return outcome("error", f"{response.status} {body}")


async def load_until_sigterm(
    process: subprocess.Popen[bytes], url_of: dict[bool, str], *, exit_codes: set[int]
) -> tuple[list[Outcome], float, float]:
    """``STREAMS`` streams of calls to ``ACTORS`` (one in four slow), SIGTERM once
    ``ANSWERED_BEFORE_SIGTERM`` got 200; the outcomes, when SIGTERM was sent and how long the
    process took to exit (with one of ``exit_codes``)."""
    outcomes: list[Outcome] = []
    numbers = itertools.count()

    async def stream(http: aiohttp.ClientSession) -> None:
        for number in numbers:  # shared by the streams
            actor, slow = ACTORS[number % len(ACTORS)], number % 4 == 0
            outcome = await call(http, url_of[slow].format(actor=actor), actor, slow)
            outcomes.append(outcome)
            if outcome.kind != "ok":
                return

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=CALL_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        streams = asyncio.gather(*(stream(http) for _ in range(STREAMS)))
        while sum(o.kind == "ok" for o in outcomes) < ANSWERED_BEFORE_SIGTERM:
            assert not streams.done(), outcomes[-5:]
            await asyncio.sleep(0.01)  # a poll of the list the streams fill; no event to wait on
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, EXIT_SECONDS)  # TimeoutExpired fails
        exited = time.monotonic() - signalled
        await asyncio.wait_for(streams, CALL_SECONDS)
    assert code in exit_codes
    return outcomes, signalled, exited


def check_every_call_answered(outcomes: list[Outcome], signalled: float, exited: float) -> None:
    kinds = Counter(o.kind for o in outcomes)
    print(f"\nexit {exited:.2f}s after SIGTERM; outcomes of {len(outcomes)} calls: {dict(kinds)}")
    unanswered = [o for o in outcomes if o.kind in ("lost", "error")]
    assert not unanswered, unanswered[:5]
    assert exited < EXIT_SECONDS
    # Slow turns were in flight when SIGTERM came; they finished with 200.
    assert any(o.kind == "ok" and o.slow and o.answered_at > signalled for o in outcomes)


async def test_dapr_actors_run_answers_every_call_and_keeps_every_acknowledged_write(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "state.db")
    target = "tests.faults.counter_app:app"
    with dapr_actors_process(target, "--log-level=warning", state_db=db) as run:
        base = f"http://127.0.0.1:{run.sidecar_port}/v1.0/actors/counter/{{actor}}/method"
        urls = {False: base + "/increment", True: base + "/slow_increment"}
        outcomes, signalled, exited = await load_until_sigterm(run.process, urls, exit_codes={0})
        log = run.log()
    check_every_call_answered(outcomes, signalled, exited)
    assert "Traceback" not in log, log

    acknowledged = Counter(o.actor for o in outcomes if o.kind == "ok")
    with dapr_actors_process(target, "--log-level=warning", state_db=db) as again:
        base = f"http://127.0.0.1:{again.sidecar_port}/v1.0/actors/counter"
        async with aiohttp.ClientSession() as http:
            stored = {}
            for actor in ACTORS:
                async with http.get(f"{base}/{actor}/state/count") as response:
                    stored[actor] = int(await response.text() or 0)
    assert stored == {actor: acknowledged[actor] for actor in ACTORS}


@contextlib.contextmanager
def uvicorn_alone(target: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``uvicorn <target>`` in a subprocess, no sidecar in front; yields it and its port once it
    listens. Nothing listens on its ``DAPR_HTTP_PORT``: only methods that need no sidecar work."""
    port = free_port()
    app = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, f"--port={port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DAPR_HTTP_PORT": str(free_port())},
    )
    try:
        deadline = time.monotonic() + 60  # a cold start is slow on a loaded machine
        while not listening(port):
            if app.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"uvicorn {target} did not start (exit code {app.poll()})")
            time.sleep(0.05)  # a connect poll with a deadline; nothing to wait on instead
        yield app, port
    finally:
        app.kill()
        app.wait()


async def test_app_served_alone_finishes_turns_in_flight_and_refuses_new_ones() -> None:
    """uvicorn serving the app, the calls daprd would send it: the turns in flight finish, new
    connections are refused."""
    with uvicorn_alone("tests.faults.counter_app:app") as (app, port):
        base = f"http://127.0.0.1:{port}/actors/counter/{{actor}}/method"
        outcomes, signalled, exited = await load_until_sigterm(
            # uvicorn raises the signal again once it stopped, so it exits "killed by SIGTERM".
            app,
            {False: base + "/pause", True: base + "/pause"},
            exit_codes={-signal.SIGTERM},
        )
    check_every_call_answered(outcomes, signalled, exited)
