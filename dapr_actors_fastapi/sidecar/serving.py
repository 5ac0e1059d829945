"""Serving ASGI apps under uvicorn on loopback sockets bound up front, each on the caller's event
loop or on one of its own in a thread (``ServerThread``).

Shared by the ``dapr-actors`` CLI and ``dapr_actors_fastapi.testing``: binding the sockets
before anything starts turns a taken port into a clear error instead of a half-started pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import LOGGING_CONFIG

LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.01
TICKS_PER_SECOND = 10  # uvicorn's main loop: a tick every 0.1 s
UVICORN_TICK_WRAP = 864_000  # where uvicorn's tick counter wraps around

T = TypeVar("T")


class PortUnavailable(OSError):
    """A port cannot be listened on; the message names it and the flag that chose it."""


class StartupFailed(RuntimeError):
    """A server stopped before it started listening (its lifespan startup failed)."""


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever owns the event loop, and sleeps when idle.

    uvicorn's own handlers would replace each other when two servers share a loop, and after
    shutdown it re-raises the signal, which turns a clean Ctrl-C into a KeyboardInterrupt.

    uvicorn's main loop wakes ten times a second to see whether ``should_exit`` was set, which
    is most of what an idle sidecar costs. Here setting it wakes the loop at once, and the loop
    ticks once a second, as often as uvicorn refreshes its ``Date`` header.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        self._exit_requested = asyncio.Event()
        super().__init__(config)

    @property  # uvicorn's is a plain attribute; setting this one wakes the main loop
    def should_exit(self) -> bool:
        return self._exit_requested.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if value:
            self._exit_requested.set()
        else:
            self._exit_requested.clear()

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            # uvicorn's ticks are a tenth of a second and it refreshes the date on every 10th.
            counter = (counter + TICKS_PER_SECOND) % UVICORN_TICK_WRAP
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), 1.0)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_loopback(port: int, flag: str = "port") -> socket.socket:
    """A TCP socket bound to ``127.0.0.1:port`` (``0``: any free port), not yet listening.

    Binding up front is how a taken port is reported before anything starts; the socket is then
    handed to uvicorn, so no other process can take the port in between.
    """
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose protocol says TCP, and connections inherit it from the listener. Without it, a
    # response written as headers then body waits ~40 ms for the peer's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform != "win32":
        # As uvicorn does: reuse a port the last run left in TIME_WAIT. A live listener still
        # makes bind fail. (On Windows this flag would let us steal a live port, so not there.)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} ({flag}) is already in use on {LOOPBACK}; stop what listens "
                f"there or choose another port with {flag}"
            ) from None
        raise PortUnavailable(
            f"cannot listen on {LOOPBACK}:{port} ({flag}): {error.strerror or error}; "
            f"choose another port with {flag}"
        ) from None
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


@dataclass
class RunningServer:
    """A uvicorn server serving in a task of the current loop."""

    name: str
    server: EmbeddedServer
    task: asyncio.Task[None]
    sock: socket.socket

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{port_of(self.sock)}"

    async def wait_started(self, startup_seconds: float | None = None) -> None:
        """Return once the server listens (its lifespan startup done).

        Raises ``StartupFailed`` if it stops first; past ``startup_seconds`` stops it and raises
        ``TimeoutError`` (a parameter: a caller's timeout would leave the server starting).
        """
        loop = asyncio.get_running_loop()
        deadline = None if startup_seconds is None else loop.time() + startup_seconds
        # uvicorn offers no "started" event, only the flag: poll it, with a deadline when given.
        while not self.server.started:
            if self.task.done():
                self.sock.close()
                self.task.result()  # raises the StartupFailed
                raise StartupFailed(f"{self.name} stopped before it started listening")
            if deadline is not None and loop.time() > deadline:
                await self.stop()
                raise TimeoutError(f"{self.name} did not start within {startup_seconds}s")
            await asyncio.sleep(POLL_SECONDS)

    async def stop(
        self, grace_seconds: float | None = None, *, drain_seconds: float | None = None
    ) -> None:
        """Stop gracefully (connections finish, lifespan shutdown runs); past ``grace_seconds``
        cancel the server and raise ``TimeoutError``. A crash is left to ``error``.

        ``drain_seconds`` bounds the wait for requests in flight: past it uvicorn cancels them
        (and with them the calls they make), then still runs the lifespan shutdown.

        A server still starting is cancelled at once: uvicorn looks at ``should_exit`` only
        after its startup, which may wait forever (the sidecar waits for its app).
        """
        if drain_seconds is not None:
            # uvicorn annotates it as int but hands it to asyncio.timeout, which takes seconds.
            self.server.config.timeout_graceful_shutdown = max(drain_seconds, POLL_SECONDS)  # type: ignore[assignment]
        self.server.should_exit = True
        try:
            if not self.server.started:
                self.task.cancel()
            done, _ = await asyncio.wait([self.task], timeout=grace_seconds)
            if not done:
                self.server.force_exit = True
                self.task.cancel()
                await asyncio.wait([self.task])
                raise TimeoutError(
                    f"{self.name} did not stop within {grace_seconds}s; cancelled it"
                )
        finally:
            self.sock.close()  # uvicorn closes it too, unless it never started

    async def run_on_loop(self, step: Coroutine[Any, Any, T]) -> T:
        """Run ``step`` on the server's event loop: here, the caller's own."""
        return await step

    def error(self) -> BaseException | None:
        """What the server task raised, once it is done (``None``: a clean stop)."""
        if not self.task.done() or self.task.cancelled():
            return None
        return self.task.exception()

    async def finished(self) -> None:
        """Until the server task ends (cancelling this wait leaves the server running)."""
        await asyncio.wait([self.task])


class ServerThread:
    """A server on an event loop of its own, in a thread, driven from the caller's loop.

    For the dev sidecar under ``dapr-actors run``: the official SDK's app startup waits for
    the sidecar's ``/v1.0/healthz/outbound`` with a blocking ``urllib`` call, which would
    freeze a sidecar on the app's loop. The same methods as ``RunningServer``, awaited from the
    caller's loop; each runs on the server's loop.
    """

    def __init__(
        self,
        name: str,
        server: EmbeddedServer,
        sock: socket.socket,
        new_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self.name = name
        self.server = server
        self._loop = new_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._sock = sock
        self._inner: RunningServer | None = None

    async def start(self) -> None:
        """Launch the server on its loop (``wait_started`` tells when it listens)."""

        async def launched() -> RunningServer:
            return launch(self.name, self.server, self._sock)

        self._thread.start()
        self._inner = await self._on_loop(launched())

    async def wait_started(self, startup_seconds: float | None = None) -> None:
        await self._on_loop(self._running_server().wait_started(startup_seconds))

    async def stop(
        self, grace_seconds: float | None = None, *, drain_seconds: float | None = None
    ) -> None:
        """``RunningServer.stop`` on the server's loop, then end the loop and its thread."""
        try:
            if self._inner is not None:
                await self._on_loop(self._inner.stop(grace_seconds, drain_seconds=drain_seconds))
        finally:
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                await asyncio.to_thread(self._thread.join)
            self._loop.close()
            self._sock.close()  # as RunningServer.stop does, for a server never launched

    def error(self) -> BaseException | None:
        return None if self._inner is None else self._inner.error()

    async def finished(self) -> None:
        await self._on_loop(self._running_server().finished())

    def _running_server(self) -> RunningServer:
        if self._inner is None:
            raise RuntimeError(f"{self.name} was not started; call start() first")
        return self._inner

    async def run_on_loop(self, step: Coroutine[Any, Any, T]) -> T:
        """Run ``step`` on the server's event loop, e.g. work on the server's own objects."""
        self._running_server()  # its loop runs only once started
        return await self._on_loop(step)

    async def _on_loop(self, step: Coroutine[Any, Any, T]) -> T:
        """Run ``step`` on the server's loop; cancelling the wait cancels ``step`` there."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(step, self._loop))


def server_config(app: ASGIApp, *, log_level: str | None = None) -> uvicorn.Config:
    """uvicorn settings for ``app``; without ``log_level`` logging is left as it is (tests),
    with one uvicorn's console logging is set up at that level (the CLI)."""
    # lifespan="on", not uvicorn's "auto": under "auto" an app whose startup raises is served
    # anyway, and an actor app needs its lifespan to deactivate actors on shutdown.
    return uvicorn.Config(
        app,
        lifespan="on",
        log_level=log_level,
        log_config=None if log_level is None else LOGGING_CONFIG,
    )


def launch(name: str, server: EmbeddedServer, sock: socket.socket) -> RunningServer:
    """Serve on ``sock`` in a task of the running loop; ``wait_started`` tells when it listens."""
    return RunningServer(name, server, asyncio.create_task(_serve(name, server, sock)), sock)


async def start_server(
    name: str, server: EmbeddedServer, sock: socket.socket, *, startup_seconds: float | None = None
) -> RunningServer:
    """``launch`` and wait until it listens (see ``RunningServer.wait_started``)."""
    running = launch(name, server, sock)
    await running.wait_started(startup_seconds)
    return running


async def _serve(name: str, server: EmbeddedServer, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exit_:
        # uvicorn calls sys.exit when the lifespan startup fails; turn that into an error of
        # this server alone, so the loop can still stop the others cleanly.
        raise StartupFailed(
            f"{name} failed to start (its lifespan startup failed, exit status {exit_.code}); "
            "the error is logged above"
        ) from None


# -- loading the user's app ---------------------------------------------------------------------
