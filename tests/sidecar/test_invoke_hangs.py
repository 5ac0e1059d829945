"""Service invocation to a target that never answers (docs/protocol.md §8, §13).

The sidecar must let go of such a call when its caller disconnects, and on its own after
``invoke_timeout``; meanwhile other targets, above all its own app, stay reachable. In a storm
of abandoned calls the open file descriptors stay within the sockets the calls need, and all of
them are given back, wave after wave (issue 9; the figures are printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from ..helpers import poll_until, serve, within
from .test_invoke import echo_app, sidecar

CALLERS = 200
WAVES = 2
FDS_PER_CALL = 4


@dataclass
class SilentTarget:
    """Accepts connections and reads requests, never answers; closes when the caller does."""

    url: str = ""
    open_connections: set[asyncio.StreamWriter] = field(default_factory=set)

    async def hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections.add(writer)
        try:
            while await reader.read(65536):
                pass
        finally:
            self.open_connections.discard(writer)
            writer.close()


@contextlib.asynccontextmanager
async def silent_target() -> AsyncIterator[SilentTarget]:
    target = SilentTarget()
    server = await asyncio.start_server(target.hold, "127.0.0.1", 0)
    target.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield target
    finally:
        server.close()
        for writer in list(target.open_connections):
            writer.close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def call_and_give_up(http: aiohttp.ClientSession, url: str, give_up: asyncio.Event) -> None:
    """A caller that waits until ``give_up`` is set, then stops waiting and closes its
    connection (an event rather than a deadline, so a slow machine cannot give up early)."""

    async def call() -> None:
        async with http.post(url, data=b"{}"):
            raise AssertionError("the silent target answered")

    request = asyncio.create_task(call())
    told = asyncio.create_task(give_up.wait())
    done, _ = await asyncio.wait({request, told}, return_when=asyncio.FIRST_COMPLETED)
    if request in done:
        request.result()  # raises what went wrong
    request.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await request


@contextlib.asynccontextmanager
async def peak_fds() -> AsyncIterator[list[int]]:
    """Samples this process's open fds while the block runs; yields the list of samples."""
    samples = [open_fds()]

    async def sample() -> None:
        while True:
            samples.append(open_fds())
            await asyncio.sleep(0.005)  # a sampling period, not a wait for something

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        samples.append(open_fds())


async def test_callers_that_give_up_release_every_connection_and_the_own_app_answers() -> None:
    async with (
        silent_target() as silent,
        serve(echo_app()) as own_url,
        # A long timeout: only the callers' disconnects can end these calls.
        sidecar(
            app_id="self", app_url=own_url, apps={"silent": silent.url}, invoke_timeout=60
        ) as client,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as callers,
    ):
        await client.call("GET", "/v1.0/invoke/self/method/warm-up")  # pools opened
        baseline = open_fds()
        url = f"{client.base}/v1.0/invoke/silent/method/hang"
        for wave in range(WAVES):  # a second wave finds every fd of the first one given back
            give_up = asyncio.Event()
            async with peak_fds() as samples:
                calls = asyncio.gather(
                    *(call_and_give_up(callers, url, give_up) for _ in range(CALLERS))
                )
                await poll_until(
                    lambda: len(silent.open_connections) == CALLERS,
                    what="every call to reach the target",
                    seconds=30,
                )
                own = await within(client.call("GET", "/v1.0/invoke/self/method/ping"), 2)
                assert own.json()["path"] == "/ping"
                give_up.set()
                await within(calls, 10)
                await poll_until(
                    lambda: open_fds() <= baseline + 10 and not silent.open_connections,
                    what=f"open fds back near {baseline} (now {open_fds()})",
                    seconds=10,
                )
            peak, after = max(samples), samples[-1]
            print(
                f"\nwave {wave + 1}: {CALLERS} abandoned calls; open fds {baseline} before, "
                f"{peak} at the peak (+{peak - baseline}, {(peak - baseline) / CALLERS:.1f} a "
                f"call), {after} after"
            )
            # Four sockets a call, all in this process: the caller's, the sidecar's two ends and
            # the silent target's; nothing more piles up, and all of them are given back.
            assert peak <= baseline + FDS_PER_CALL * CALLERS + 10
            assert after <= baseline + 10


async def test_a_call_without_answer_times_out_with_daprds_error() -> None:
    async with (
        silent_target() as silent,
        sidecar(apps={"silent": silent.url}, invoke_timeout=0.3) as client,
    ):
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await within(client.call("POST", "/v1.0/invoke/silent/method/hang"), 10)
        waited = loop.time() - started
        await poll_until(lambda: not silent.open_connections, what="the call to be closed")
    assert 0.3 <= waited < 5
    assert answer.status == 500
    error = answer.error()
    assert error["errorCode"] == "ERR_DIRECT_INVOKE"
    assert error["message"].startswith("failed to invoke, id: silent, err: context deadline")
    assert "within 0.3s" in error["message"]
    assert "--invoke-timeout" in error["message"]
