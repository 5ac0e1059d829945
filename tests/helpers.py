"""Shared test helpers: tiny real apps, an async client over ASGI, a real uvicorn server,
polls with deadlines, and ``dapr-actors run`` in a subprocess. Fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dapr_actors_fastapi import ActorFrontDoor, ActorRuntime

T = TypeVar("T")


async def answer_lifespan(receive: Any, send: Any) -> None:
    """The lifespan protocol of a raw ASGI test app that has nothing to start or stop."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


def make_app(runtime: ActorRuntime) -> FastAPI:
    """The app a user writes: the runtime's lifespan and router, nothing else."""
    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router)
    return app


def make_front_door(runtime: ActorRuntime) -> ActorFrontDoor:
    """The other way to mount the runtime: a FastAPI app without the router, behind the front
    door, which answers daprd's routes and runs the runtime's lifespan."""
    return runtime.front_door(FastAPI())


Mount = Callable[[ActorRuntime], Any]
MOUNTS: dict[str, Mount] = {"router": make_app, "front door": make_front_door}
"""The two ways an app serves daprd's routes; the ``mount`` fixture runs a test with each."""


@contextlib.asynccontextmanager
async def lifespan_running(app: Any) -> AsyncIterator[Any]:
    """Run ``app``'s lifespan around the block, as a server does around its requests (httpx's
    ASGI transport does not; the runtime refuses callbacks until its lifespan started)."""
    if isinstance(app, FastAPI):
        async with app.router.lifespan_context(app):
            yield app
        return
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await within(from_app.get(), 30)
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(f"the app did not start: {started.get('message')}")
    try:
        yield app
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await within(from_app.get(), 30)
        await within(task, 30)


@contextlib.asynccontextmanager
async def asgi_client(
    runtime: ActorRuntime, mount: Mount = make_app
) -> AsyncIterator[httpx.AsyncClient]:
    """An async client calling the app in-process (many requests can be in flight), with the
    runtime's lifespan running."""
    async with lifespan_running(mount(runtime)) as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            yield client


@contextlib.asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Run ``app`` under a real uvicorn server on a loopback port (ephemeral unless given);
    yield its URL."""
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY on connections (see sidecar/serving.py).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await poll_until(lambda: server.started, what="uvicorn to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


async def poll_until(
    condition: Callable[[], bool], *, what: str, seconds: float = 5.0, interval: float = 0.005
) -> None:
    """Wait for ``condition`` with a deadline instead of a fixed sleep."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(interval)


async def within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    """Await with a deadline, so a deadlock fails the test instead of hanging it."""
    return await asyncio.wait_for(awaitable, timeout=seconds)


ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class DaprActorsRun:
    """A ``dapr-actors run`` subprocess that listens: its process, ports and output."""

    process: subprocess.Popen[bytes]
    app_port: int
    sidecar_port: int
    output: IO[bytes]  # a file, not a pipe: a chatty server would fill a pipe and block

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


@contextlib.contextmanager
def dapr_actors_process(*arguments: str, state_db: str = ":memory:") -> Iterator[DaprActorsRun]:
    """``dapr-actors run <arguments>`` in a subprocess on free ports; yields it once both
    ports listen, and stops it (if still running) on exit."""
    app_port, sidecar_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "dapr_actors_fastapi.sidecar.cli",
        "run",
        *arguments,
        f"--app-port={app_port}",
        f"--dapr-http-port={sidecar_port}",
        f"--state-db={state_db}",
    ]
    with tempfile.TemporaryFile() as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        run = DaprActorsRun(server, app_port, sidecar_port, output)
        try:
            deadline = time.monotonic() + 60  # a cold start is slow on a loaded machine
            while not all(listening(port) for port in (app_port, sidecar_port)):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dapr-actors run did not start:\n{run.log()}")
                time.sleep(0.05)  # a connect poll with a deadline; nothing to wait on instead
            yield run
        finally:
            server.terminate()
            server.wait(timeout=10)


@contextlib.contextmanager
def dapr_actors_run(*arguments: str, state_db: str = ":memory:") -> Iterator[tuple[int, int]]:
    """``dapr-actors run <arguments>`` in a subprocess on free ports, the state in memory
    unless ``state_db`` names a file; yields (app port, sidecar port) once both listen."""
    with dapr_actors_process(*arguments, state_db=state_db) as run:
        yield run.app_port, run.sidecar_port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON error body, asserting it has Dapr's two keys."""
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("errorCode"), str), body
    assert isinstance(body.get("message"), str), body
    return body
