"""The app when its sidecar fails: down, hanging, answering 500, or killed in the middle of a
save. The caller gets Dapr's error body with a code that names the sidecar's problem (P18), a
hung sidecar costs no more than the client's timeout, a failed turn leaves nothing behind (in
the store or in the actor's cache), and calls succeed again once the sidecar is back, without
restarting the app.

The sidecar is a fake one over real loopback sockets: a raw asyncio server speaking just enough
HTTP/1.1 for daprd's actor state API, so that each failure is exactly the one named (a refused
port, a request read and never answered, a connection dropped with the request half done).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import httpx2 as httpx
import pytest

from dapr_actors_fastapi import Actor, ActorRuntime, SidecarClient, method

from ..helpers import error_body, free_port, make_app, serve

CLIENT_TIMEOUT = 0.5  # seconds the app's sidecar client waits for an answer
SLACK = 1.5  # what a loaded 2-core machine may add on top of it

Mode = Literal["healthy", "error", "hang", "crash before saving", "crash after saving"]
STATE_PREFIX = "/v1.0/actors/"


@dataclass
class FakeSidecar:
    """daprd's actor state API (GET one key, POST a transaction) with a store in a dict, on a
    real port, switchable between healthy and each way of failing.

    ``stop()`` is a sidecar that is down: the port refuses connections, and the connections it
    had are dropped. The store outlives a stop, as daprd's state store outlives daprd.
    """

    port: int
    mode: Mode = "healthy"
    store: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (actor, key) -> JSON
    _server: asyncio.Server | None = None
    _connections: set[asyncio.StreamWriter] = field(default_factory=set)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        self._released.clear()
        self._server = await asyncio.start_server(
            self._serve_connection, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Close the port and drop every connection, as a process that died would."""
        assert self._server is not None
        self._server.close()
        self._released.set()  # hung requests end with their connection
        for writer in list(self._connections):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    def value(self, actor: str, key: str) -> object:
        raw = self.store.get((actor, key))
        return None if raw is None else json.loads(raw)

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                answer = await self._answer(*request)
                if answer is None:  # died with the request in hand: no answer, no FIN
                    writer.transport.abort()
                    if self.listening:  # not yet stopped (a hung request ends with the stop)
                        await self.stop()
                    return
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _answer(self, verb: str, path: str, body: bytes) -> bytes | None:
        if self.mode == "hang":
            await self._released.wait()
            return None
        if self.mode == "error":
            code, text = (
                ("ERR_ACTOR_STATE_GET", "error getting actor state: disk I/O error")
                if verb == "GET"
                else (
                    "ERR_ACTOR_STATE_TRANSACTION_SAVE",
                    "error saving actor transaction state: disk I/O error",
                )
            )
            return _response(500, json.dumps({"errorCode": code, "message": text}).encode())
        actor, _, key = path.removeprefix(STATE_PREFIX).partition("/state")
        if verb == "GET":
            value = self.store.get((actor, key.removeprefix("/")))
            return _response(204) if value is None else _response(200, value)
        if self.mode == "crash before saving":
            return None
        for operation in json.loads(body):
            request = operation["request"]
            if operation["operation"] == "upsert":
                self.store[(actor, request["key"])] = json.dumps(request["value"]).encode()
            else:
                self.store.pop((actor, request["key"]), None)
        if self.mode == "crash after saving":
            return None
        return _response(204)


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    """One request off a keep-alive connection; ``None`` when the client closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    verb, path, _ = lines[0].split(" ")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return verb, path, await reader.readexactly(length)


def _response(status: int, body: bytes = b"") -> bytes:
    reason = {200: "OK", 204: "No Content", 500: "Internal Server Error"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + body


def counter_runtime() -> ActorRuntime:
    """The app: a counter that reads its count, adds one and saves it, in one turn."""
    runtime = ActorRuntime(sidecar=SidecarClient(timeout=CLIENT_TIMEOUT))

    @runtime.actor("counter")
    class Counter(Actor):
        @method
        async def increment(self) -> int:
            count: int = await self.state.get("count", int, default=0) + 1
            await self.state.set("count", count)
            return count

    return runtime


@contextlib.asynccontextmanager
async def app_and_sidecar(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeSidecar]]:
    """The counter app, served on a real port, its sidecar address read from DAPR_HTTP_PORT
    as under ``dapr run``; a client that calls it as daprd would; the fake sidecar, healthy."""
    sidecar = FakeSidecar(free_port())
    monkeypatch.delenv("DAPR_HTTP_ENDPOINT", raising=False)
    monkeypatch.setenv("DAPR_HTTP_PORT", str(sidecar.port))
    await sidecar.start()
    try:
        async with (
            serve(make_app(counter_runtime())) as url,
            httpx.AsyncClient(base_url=url, timeout=10) as daprd,
        ):
            yield daprd, sidecar
    finally:
        if sidecar.listening:
            await sidecar.stop()


async def increment(daprd: httpx.AsyncClient, actor_id: str = "1") -> httpx.Response:
    return await daprd.put(f"/actors/counter/{actor_id}/method/increment")


def the_failure(answer: httpx.Response, code: str) -> dict[str, object]:
    """The app's answer to a turn its sidecar failed: not a 200, Dapr's body, ``code``."""
    assert answer.status_code == 500, answer.text
    body = error_body(answer)
    assert body["errorCode"] == code, body
    assert "Dapr sidecar" in body["message"], body
    return body


@pytest.mark.parametrize("fault", ["down", "error"])
async def test_a_failing_sidecar_fails_the_turn_with_its_code_and_the_app_recovers(
    monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    async with app_and_sidecar(monkeypatch) as (daprd, sidecar):
        assert (await increment(daprd)).json() == 1
        assert sidecar.value("counter/1", "count") == 1

        if fault == "down":
            await sidecar.stop()
        else:
            sidecar.mode = "error"
        saving = await increment(daprd)  # the count is cached: only the save reaches the sidecar
        reading = await increment(daprd, "2")  # a new actor: its first read fails

        if fault == "down":
            for answer in (saving, reading):
                body = the_failure(answer, "ERR_SIDECAR_UNREACHABLE")
                assert f"127.0.0.1:{sidecar.port}" in str(body["message"])
            await sidecar.start()
        else:
            body = the_failure(saving, "ERR_SIDECAR_ERROR")
            assert body["sidecarStatus"] == 500
            assert body["sidecarErrorCode"] == "ERR_ACTOR_STATE_TRANSACTION_SAVE"
            assert "disk I/O error" in str(body["message"])
            body = the_failure(reading, "ERR_SIDECAR_ERROR")
            assert body["sidecarErrorCode"] == "ERR_ACTOR_STATE_GET"
            sidecar.mode = "healthy"
        assert sidecar.value("counter/1", "count") == 1  # the failed turn persisted nothing
        assert sidecar.value("counter/2", "count") is None

        # Recovered, the app not restarted: the next turn starts from the stored 1, not from
        # the 2 that failed to save.
        assert (await increment(daprd)).json() == 2
        assert (await increment(daprd, "2")).json() == 1
        assert sidecar.value("counter/1", "count") == 2


async def test_a_hung_sidecar_costs_the_caller_no_more_than_the_client_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with app_and_sidecar(monkeypatch) as (daprd, sidecar):
        assert (await increment(daprd)).json() == 1
        sidecar.mode = "hang"
        for actor_id in ("1", "2"):  # a save that hangs, then a read (not retried: it was slow)
            started = time.monotonic()
            answer = await increment(daprd, actor_id)
            elapsed = time.monotonic() - started
            print(f"hung sidecar: actor {actor_id} answered after {elapsed:.3f}s", end=" ")
            print(f"(client timeout {CLIENT_TIMEOUT}s)")
            body = the_failure(answer, "ERR_SIDECAR_TIMEOUT")
            assert f"within {CLIENT_TIMEOUT}s" in str(body["message"])
            assert CLIENT_TIMEOUT <= elapsed < CLIENT_TIMEOUT + SLACK

        # The hung requests are still open on the sidecar's side: a restart ends them.
        await sidecar.stop()
        sidecar.mode = "healthy"
        await sidecar.start()
        assert sidecar.value("counter/1", "count") == 1
        assert (await increment(daprd)).json() == 2
        assert (await increment(daprd, "2")).json() == 1


@pytest.mark.parametrize("mode", ["crash before saving", "crash after saving"])
async def test_a_sidecar_killed_mid_save_leaves_no_stale_value_in_the_cache(
    monkeypatch: pytest.MonkeyPatch, mode: Mode
) -> None:
    async with app_and_sidecar(monkeypatch) as (daprd, sidecar):
        assert (await increment(daprd)).json() == 1
        sidecar.mode = mode
        the_failure(await increment(daprd), "ERR_SIDECAR_UNREACHABLE")
        stored = sidecar.value("counter/1", "count")
        # Whether a save the sidecar died in reached the store is the store's to say ...
        assert stored == (2 if mode == "crash after saving" else 1)

        sidecar.mode = "healthy"
        await sidecar.start()
        # ... and the next turn reads what it says, instead of trusting the cache either way.
        assert (await increment(daprd)).json() == stored + 1
        assert sidecar.value("counter/1", "count") == stored + 1
