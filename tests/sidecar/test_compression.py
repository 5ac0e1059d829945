"""Compressed answers between the dev sidecar and an app behind ``GZipMiddleware``.

daprd's Go client sends no ``Accept-Encoding`` of its own: the app compresses only when the
caller asked for it, and then the caller gets the compressed body as the app sent it.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator

import aiohttp
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from dapr_actors_fastapi import Actor, ActorRuntime, method
from dapr_actors_fastapi.sidecar import SidecarSettings, create_app

from ..helpers import serve
from .test_actors import until_ready

ACTOR_TYPES = [f"compressed-{n:02d}-with-a-long-type-name" for n in range(30)]


def gzip_app() -> FastAPI:
    """Many actor types, so ``/dapr/config`` is well over ``minimum_size``; everything gzipped."""
    runtime = ActorRuntime()
    for name in ACTOR_TYPES:

        @runtime.actor(name)
        class Echo(Actor):
            @method
            async def echo(self, text: str) -> dict[str, str]:
                return {"echo": text * 20}

    app = FastAPI(lifespan=runtime.lifespan)
    app.include_router(runtime.router)
    app.add_middleware(GZipMiddleware, minimum_size=10)

    @app.post("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world" * 20}

    return app


@contextlib.asynccontextmanager
async def gzip_cluster() -> AsyncIterator[aiohttp.ClientSession]:
    """The app and the dev sidecar; a client that neither asks for nor decodes compression."""
    async with serve(gzip_app()) as app_url:
        settings = SidecarSettings(app_url=app_url, app_id="zipped", state_db=":memory:")
        async with (
            serve(create_app(settings)) as sidecar_url,
            aiohttp.ClientSession(
                sidecar_url, auto_decompress=False, skip_auto_headers=("Accept-Encoding",)
            ) as http,
        ):
            await until_ready(http)
            yield http


async def test_actors_behind_gzip_middleware_are_hosted_and_answer_uncompressed() -> None:
    async with gzip_cluster() as http:
        async with http.get("/v1.0/metadata") as response:
            hosted = {
                entry["type"] for entry in (await response.json())["actorRuntime"]["activeActors"]
            }
        assert hosted == set(ACTOR_TYPES)
        async with http.put(
            f"/v1.0/actors/{ACTOR_TYPES[-1]}/a/method/echo", json={"text": "hi"}
        ) as response:
            assert response.status == 200, await response.text()
            assert "content-encoding" not in response.headers
            assert json.loads(await response.read()) == {"echo": "hi" * 20}


async def test_service_invocation_passes_the_callers_accept_encoding_through() -> None:
    async with gzip_cluster() as http:
        path = "/v1.0/invoke/zipped/method/hello"
        async with http.post(path) as response:
            assert "content-encoding" not in response.headers
            assert json.loads(await response.read()) == {"hello": "world" * 20}
        async with http.post(path, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
            assert json.loads(gzip.decompress(await response.read())) == {"hello": "world" * 20}
