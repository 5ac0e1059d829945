"""Shared helpers: tiny real apps, an async client over ASGI, and a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dapr_actors_fastapi import ActorRuntime

T = TypeVar("T")


def make_app(runtime: ActorRuntime) -> FastAPI:
    """The app a user writes: the runtime's lifespan and router, nothing else."""
    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router)
    return app


@contextlib.asynccontextmanager
async def asgi_client(runtime: ActorRuntime) -> AsyncIterator[httpx.AsyncClient]:
    """An async client calling the app in-process (many requests can be in flight)."""
    transport = httpx.ASGITransport(app=make_app(runtime))
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


@pytest.fixture
def runtime() -> ActorRuntime:
    return ActorRuntime()


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON error body, asserting it has Dapr's two keys."""
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("errorCode"), str), body
    assert isinstance(body.get("message"), str), body
    return body
