"""A raw actor host written without this package's runtime, for the exit tests: whatever
``on_deactivate``-like work happens at exit must come from the sidecar's ``DELETE`` callbacks.

It hosts ``abc``, ``def`` and ``xyz`` (the types of daprd's
``tests/integration/suite/actors/deactivation/onexit.go``) and answers every method call. Each
``DELETE`` is recorded: in-process through ``create_app(on_delete)``, or, as ``app`` under
``dapr-actors run``, as one ``type/id`` line appended to the file named by
``DEACTIVATIONS_FILE``. In-process, a ``DELETE`` for an id starting with ``hang`` answers
only once ``release_hung`` is set.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TYPES = ["abc", "def", "xyz"]


def create_app(
    on_delete: Callable[[str, str], None], release_hung: asyncio.Event | None = None
) -> Starlette:
    async def config(request: Request) -> Response:
        return JSONResponse({"entities": TYPES})

    async def call(request: Request) -> Response:
        return JSONResponse("ok")

    async def deactivate(request: Request) -> Response:
        actor_type, actor_id = request.path_params["type"], request.path_params["id"]
        on_delete(actor_type, actor_id)
        if release_hung is not None and actor_id.startswith("hang"):
            await release_hung.wait()  # the sidecar's bound must end the wait before this does
        return Response(status_code=200)

    return Starlette(
        routes=[
            Route("/dapr/config", config),
            Route("/actors/{type}/{id}/method/{method:path}", call, methods=["PUT"]),
            Route("/actors/{type}/{id}", deactivate, methods=["DELETE"]),
        ]
    )


def _append_to_file(actor_type: str, actor_id: str) -> None:
    with open(os.environ["DEACTIVATIONS_FILE"], "a", encoding="utf-8") as file:
        file.write(f"{actor_type}/{actor_id}\n")


app = create_app(_append_to_file)
