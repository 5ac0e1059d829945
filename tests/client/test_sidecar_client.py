"""``SidecarClient``: configuration from the environment, header propagation, typed errors."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from fastapi import FastAPI, Request, Response

from dapr_actors_fastapi import (
    Actor,
    ActorRuntime,
    SidecarClient,
    SidecarError,
    SidecarUnavailable,
    method,
)
from dapr_actors_fastapi.exceptions import SidecarTimeout
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app, serve


class StubSidecar:
    """A stand-in sidecar that records what it receives and answers as told."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        self.content_types: list[list[str]] = []
        self.answer = Response(status_code=204)
        self.hold: asyncio.Event | None = None  # when set, answers wait for it
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self.handle, methods=["GET", "POST", "PUT"])

    async def handle(self, request: Request) -> Response:
        self.seen.append({k.lower(): v for k, v in request.headers.items()})
        self.content_types.append(request.headers.getlist("content-type"))
        if self.hold is not None:
            await self.hold.wait()
        return self.answer


def test_address_and_token_are_read_when_the_client_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    client = SidecarClient()
    monkeypatch.setenv("DAPR_HTTP_PORT", "3999")
    assert client.endpoint == ""  # nothing read at construction

    async def opened() -> str:
        await client.open()
        try:
            return client.endpoint
        finally:
            await client.close()

    assert asyncio.run(opened()) == "http://127.0.0.1:3999"
    monkeypatch.setenv("DAPR_HTTP_ENDPOINT", "http://sidecar.local:3500/")
    assert asyncio.run(opened()) == "http://sidecar.local:3500"


async def test_calls_made_in_a_turn_carry_its_reentrancy_id_and_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub = StubSidecar()
    runtime = ActorRuntime()

    @runtime.actor("relay")
    class Relay(Actor):
        @method
        async def forward(self) -> None:
            await runtime.sidecar.request("GET", "/v1.0/actors/other/1/state/k", idempotent=True)

    async with serve(stub.app) as stub_url:
        monkeypatch.setenv("DAPR_HTTP_ENDPOINT", stub_url)
        monkeypatch.setenv("DAPR_API_TOKEN", "sidecar-secret")
        async with serve(make_app(runtime)) as app_url:
            headers = {
                "Dapr-Reentrancy-Id": "chain-7",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tracestate": "congo=t61rcWkgMzE",
            }
            async with (
                aiohttp.ClientSession(app_url) as http,
                http.put("/actors/relay/1/method/forward", headers=headers) as answer,
            ):
                assert answer.status == 200
    (seen,) = stub.seen
    assert seen["dapr-reentrancy-id"] == "chain-7"
    assert seen["traceparent"] == headers["traceparent"]
    assert seen["tracestate"] == headers["tracestate"]
    assert seen["dapr-api-token"] == "sidecar-secret"


@pytest.mark.parametrize(
    ("answer", "status", "code", "message"),
    [
        (
            Response(
                '{"errorCode":"ERR_ACTOR_INSTANCE_MISSING","message":"actor instance is missing"}',
                status_code=400,
                media_type="application/json",
            ),
            400,
            "ERR_ACTOR_INSTANCE_MISSING",
            "actor instance is missing",
        ),
        (Response("invalid api token\n", status_code=401), 401, "HTTP_401", "invalid api token"),
    ],
)
async def test_errors_carry_daprs_status_code_and_message(
    answer: Response, status: int, code: str, message: str
) -> None:
    stub = StubSidecar()
    stub.answer = answer
    async with serve(stub.app) as stub_url:
        client = SidecarClient(endpoint=stub_url)
        await client.open()
        try:
            with pytest.raises(SidecarError) as raised:
                await client.request("POST", "/v1.0/actors/a/1/state", json_body=[])
        finally:
            await client.close()
    error = raised.value
    assert (error.status, error.error_code, error.message) == (status, code, message)
    assert "/v1.0/actors/a/1/state" in str(error)


async def test_error_answers_can_be_returned_with_case_insensitive_headers() -> None:
    stub = StubSidecar()
    stub.answer = Response("no such order", status_code=404, headers={"X-Order": "7"})
    async with serve(stub.app) as stub_url:
        client = SidecarClient(endpoint=stub_url)
        await client.open()
        try:
            answer = await client.request("GET", "/v1.0/invoke/a/method/o", raise_for_status=False)
        finally:
            await client.close()
    assert (answer.status, answer.text) == (404, "no such order")
    assert answer.headers["x-order"] == answer.headers["X-ORDER"] == "7"
    with pytest.raises(SidecarError, match=r"GET /v1\.0/invoke/a/method/o -> 404 HTTP_404"):
        answer.raise_for_status()


async def test_the_callers_headers_win_whatever_their_case() -> None:
    stub = StubSidecar()
    async with serve(stub.app) as stub_url:
        client = SidecarClient(endpoint=stub_url)
        await client.open()
        try:
            await client.request(
                "POST",
                "/v1.0/invoke/a/method/patch",
                json_body={"n": 1},
                headers={"content-type": "application/merge-patch+json"},
            )
        finally:
            await client.close()
    assert stub.content_types == [["application/merge-patch+json"]]


async def test_a_sidecar_that_does_not_answer_in_time_is_a_timeout_not_retried() -> None:
    stub = StubSidecar()
    stub.hold = asyncio.Event()
    async with serve(stub.app) as stub_url:
        client = SidecarClient(endpoint=stub_url, read_retries=2)
        await client.open()
        try:
            with pytest.raises(SidecarTimeout, match=r"did not answer within 0\.2s") as raised:
                await client.request("GET", "/v1.0/healthz", idempotent=True, timeout=0.2)
        finally:
            stub.hold.set()
            await client.close()
    assert isinstance(raised.value, TimeoutError)
    assert len(stub.seen) == 1  # reached once: retrying would only wait again


async def test_an_unreachable_sidecar_is_a_clear_connection_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = SidecarClient(endpoint=f"http://127.0.0.1:{port}", read_retries=1)
    await client.open()
    try:
        with pytest.raises(SidecarUnavailable, match=f"127.0.0.1:{port}") as raised:
            await client.request("GET", "/v1.0/healthz", idempotent=True)
    finally:
        await client.close()
    assert isinstance(raised.value, ConnectionError)


async def test_a_closed_client_says_how_to_open_it() -> None:
    with pytest.raises(RuntimeError, match=r"runtime\.lifespan"):
        await SidecarClient().request("GET", "/v1.0/healthz")


async def test_actors_reach_the_dev_sidecar_through_the_runtime_client() -> None:
    runtime = ActorRuntime()

    @runtime.actor("ledger")
    class Ledger(Actor):
        @method
        async def deposit(self, amount: int) -> Any:
            ops = [{"operation": "upsert", "request": {"key": "balance", "value": amount}}]
            await runtime.sidecar.request(
                "POST", f"/v1.0/actors/ledger/{self.id}/state", json_body=ops
            )
            stored = await runtime.sidecar.request(
                "GET", f"/v1.0/actors/ledger/{self.id}/state/balance", idempotent=True
            )
            return stored.json()

    async with ActorTestEnv(make_app(runtime), app_id="bank") as env:
        answer = await env.invoke_actor("ledger", "acc-1", "deposit", {"amount": 42})
        assert (answer.status, answer.json()) == (200, 42)
        assert (await env.get_state("ledger", "acc-1", "balance")).json() == 42
