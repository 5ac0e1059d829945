"""Real ``uvicorn --workers 2`` behind the dev sidecar: refused by default, and with
``multiple_workers=True`` no acknowledged increment is lost.

Without the opt-in each worker caches an actor's state, and successive calls to one actor reach
different workers (issue #9). With it, state is read in every turn, and the sidecar's
per-actor lock (daprd's, or the dev sidecar's ``ActorTable.call``) keeps one turn at a time
across the workers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from .helpers import ROOT, free_port, listening

APP = """
import os

from dapr_actors_fastapi import Actor, ActorRuntime, method
from fastapi import FastAPI

runtime = ActorRuntime({settings})


@runtime.actor("counter")
class Counter(Actor):
    @method
    async def increment(self) -> dict[str, int]:
        count = await self.state.get("count", int, default=0) + 1
        await self.state.set("count", count)
        return {{"count": count, "pid": os.getpid()}}


app = FastAPI(lifespan=runtime.lifespan)
app.include_router(runtime.router)


@app.get("/pid")
async def pid() -> int:
    return os.getpid()


@app.middleware("http")
async def one_request_per_connection(request, call_next):
    # Each call then comes on a new connection, which either worker may accept: without this
    # the sidecar's keep-alive connections can all land on one worker.
    response = await call_next(request)
    response.headers["Connection"] = "close"
    return response
"""


def uvicorn_workers(
    folder: Path, settings: str, port: int, sidecar_port: int = 3500
) -> subprocess.Popen[bytes]:
    """``uvicorn app:app --workers 2`` on ``port``, the app written into ``folder``."""
    (folder / "app.py").write_text(textwrap.dedent(APP.format(settings=settings)))
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--workers", "2", f"--port={port}"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DAPR_HTTP_PORT": str(sidecar_port),
        },
    )


def dev_sidecar(app_port: int, sidecar_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dapr_actors_fastapi.sidecar.cli",
            "sidecar",
            f"--app-url=http://127.0.0.1:{app_port}",
            f"--dapr-http-port={sidecar_port}",
            "--state-db=:memory:",
            "--log-level=warning",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@contextmanager
def stopped_at_exit(*processes: subprocess.Popen[bytes]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
            if process.stdout is not None:
                process.stdout.close()


def wait_for_workers(port: int, count: int) -> None:
    """Until ``count`` different processes have answered on ``port`` (each request on a new
    connection, which the kernel hands to any worker that accepts)."""
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only workers {seen} answered on port {port} within 30 s")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pid", timeout=5) as answer:
            seen.add(int(answer.read()))


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"{what} did not start:\n{output}")
        time.sleep(0.05)  # a connect poll with a deadline; nothing to wait on instead


def test_uvicorn_with_two_workers_is_refused(tmp_path: Path) -> None:
    server = uvicorn_workers(tmp_path, "", free_port())
    with stopped_at_exit(server):
        output, _ = server.communicate(timeout=60)
    text = output.decode()
    assert "MultipleWorkersError" in text, text
    assert "this app runs as 2 worker processes (uvicorn --workers 2)" in text
    assert "Run one worker per sidecar" in text
    assert "ActorRuntime(multiple_workers=True)" in text
    assert "Application startup failed" in text
    # uvicorn's supervisor stops once a worker fails its start-up, but (uvicorn 0.55) exits 0
    # when running several workers: it only exits 3 for a single one (uvicorn/main.py).
    assert server.returncode is not None


ACTORS, CALLS_EACH, IN_FLIGHT = 4, 75, 40


def test_two_workers_opted_in_lose_no_increment(tmp_path: Path) -> None:
    app_port, sidecar_port = free_port(), free_port()
    server = uvicorn_workers(tmp_path, "multiple_workers=True", app_port, sidecar_port)
    with stopped_at_exit(server):
        wait_listening(app_port, server, "uvicorn --workers 2")
        # The sidecar's connections spread over the workers only if both accept by then.
        wait_for_workers(app_port, 2)
        sidecar = dev_sidecar(app_port, sidecar_port)
        with stopped_at_exit(sidecar):
            wait_listening(sidecar_port, sidecar, "the dev sidecar")
            served_by = asyncio.run(asyncio.wait_for(increments(sidecar_port), timeout=120))
    # Both workers served, so calls to one actor crossed processes.
    assert len(set().union(*served_by.values())) == 2, served_by


async def increments(sidecar_port: int) -> dict[str, set[int]]:
    """CALLS_EACH increments of each of ACTORS counters, IN_FLIGHT at a time, through the
    sidecar; checks each saved count and returns the worker pids that served each actor."""
    limit = asyncio.Semaphore(IN_FLIGHT)
    base = f"http://127.0.0.1:{sidecar_port}/v1.0/actors/counter"
    served_by: dict[str, set[int]] = {f"c{n}": set() for n in range(ACTORS)}

    async def increment(http: aiohttp.ClientSession, actor_id: str) -> None:
        async with limit, http.post(f"{base}/{actor_id}/method/increment") as response:
            assert response.status == 200, await response.text()
            served_by[actor_id].add((await response.json())["pid"])

    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as http:
        calls = [increment(http, actor_id) for actor_id in served_by for _ in range(CALLS_EACH)]
        await asyncio.gather(*calls)
        for actor_id in served_by:
            async with http.get(f"{base}/{actor_id}/state/count") as saved:
                assert await saved.json() == CALLS_EACH, actor_id
    return served_by
