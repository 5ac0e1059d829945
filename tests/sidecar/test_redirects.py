"""Redirects on service invocation (docs/protocol.md §1, §8.4): an ``HTTPEndpoint`` target's
301/302/303 are followed the way Go's default client follows them, up to 10 requests; 307 and
308, literal URL targets and app ids get the redirect back. Over real loopback HTTP: a client,
the dev sidecar in front of an app, and a redirecting server, each under uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dapr_actors_fastapi import ActorRuntime
from dapr_actors_fastapi.sidecar.invoke import AnyVerb
from dapr_actors_fastapi.testing import ActorTestEnv

from ..helpers import make_app, serve
from .test_invoke import Answer


async def echo(request: Request) -> Response:
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "body": (await request.body()).decode(),
            "headers": {k: v for k, v in request.headers.items() if k != "host"},
        }
    )


async def hop(request: Request) -> Response:
    """``/hop/{n}?status=S`` redirects to ``/hop/{n-1}``, down to ``/hop/0``, the echo."""
    left = int(request.path_params["n"])
    if left == 0:
        return await echo(request)
    status = int(request.query_params.get("status", "302"))
    return RedirectResponse(f"/hop/{left - 1}?status={status}", status_code=status)


async def elsewhere(request: Request) -> Response:
    """Redirects to the URL in ``?to=``, with the status in ``?status=``."""
    status = int(request.query_params.get("status", "302"))
    return RedirectResponse(request.query_params["to"], status_code=status)


def redirecting_server() -> Starlette:
    return Starlette(
        routes=[
            Route("/hop/{n:int}", AnyVerb(hop)),
            Route("/elsewhere", AnyVerb(elsewhere)),
            Route("/echo", AnyVerb(echo)),
        ]
    )


@dataclass
class Setup:
    http: aiohttp.ClientSession
    sidecar: str
    server: str  # the redirecting server's URL

    async def invoke(self, target: str, method: str, verb: str = "POST") -> Answer:
        """The sidecar's answer as it came: this client follows no redirect itself."""
        url = f"{self.sidecar}/v1.0/invoke/{target}/method/{method}"
        data = b"payload" if verb != "GET" else None
        async with self.http.request(verb, url, data=data, allow_redirects=False) as response:
            return Answer(response.status, response.headers.copy(), await response.read())


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with serve(redirecting_server()) as server:
        (tmp_path / "ep.yaml").write_text(
            "apiVersion: dapr.io/v1alpha1\nkind: HTTPEndpoint\nmetadata:\n  name: ep\n"
            f"spec:\n  baseUrl: {server}\n  headers:\n"
            "    - name: Authorization\n      value: Bearer endpoint-token\n"
        )
        async with (
            ActorTestEnv(
                make_app(ActorRuntime()), resources_path=str(tmp_path), apps={"peer": server}
            ) as env,
            aiohttp.ClientSession() as http,
        ):
            yield Setup(http, env.sidecar_url, server)


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_an_endpoint_follows_301_302_303_as_a_get_without_body(
    setup: Setup, status: int
) -> None:
    answer = await setup.invoke("ep", f"hop/2?status={status}")
    assert answer.status == 200, answer.text
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["body"]) == ("GET", "/hop/0", "")
    assert seen["headers"]["authorization"] == "Bearer endpoint-token"  # same host: kept
    assert seen["headers"]["referer"] == f"{setup.server}/hop/1?status={status}"


async def test_an_endpoint_follows_a_get_as_a_get(setup: Setup) -> None:
    answer = await setup.invoke("ep", "hop/1?status=301", verb="GET")
    assert (answer.status, answer.json()["method"]) == (200, "GET")


@pytest.mark.parametrize("status", [307, 308])
async def test_307_and_308_come_back_because_daprd_cannot_replay_the_body(
    setup: Setup, status: int
) -> None:
    answer = await setup.invoke("ep", f"hop/1?status={status}")
    assert (answer.status, answer.headers["location"]) == (status, f"/hop/0?status={status}")


async def test_literal_urls_and_app_ids_get_the_redirect_back(setup: Setup) -> None:
    for target in (quote(setup.server, safe=""), "peer"):
        answer = await setup.invoke(target, "hop/1?status=302")
        assert (answer.status, answer.headers["location"]) == (302, "/hop/0?status=302")


async def test_at_most_ten_requests(setup: Setup) -> None:
    nine_hops = await setup.invoke("ep", "hop/9")  # the 10th request answers
    ten_hops = await setup.invoke("ep", "hop/10")
    assert (nine_hops.status, nine_hops.json()["path"]) == (200, "/hop/0")
    assert ten_hops.status == 500
    assert ten_hops.json() == {
        "errorCode": "ERR_DIRECT_INVOKE",
        "message": 'failed to invoke, id: ep, err: Post "/hop/0?status=302": '
        "stopped after 10 redirects",
    }


async def test_credentials_do_not_follow_to_another_host(setup: Setup) -> None:
    other_host = setup.server.replace("127.0.0.1", "localhost") + "/echo"
    answer = await setup.invoke("ep", f"elsewhere?to={quote(other_host, safe='')}")
    assert answer.status == 200, answer.text
    headers: dict[str, Any] = answer.json()["headers"]
    assert "authorization" not in headers
    assert headers["referer"].startswith(f"{setup.server}/elsewhere?to=")
