"""Test kit: an actor app and the dev sidecar on ephemeral loopback ports, inside one test.

Both run under uvicorn in the test's own event loop, so calls take the real path, as in
production: client -> sidecar HTTP API -> app routes -> your actor::

    from dapr_actors_fastapi.testing import ActorTestEnv

    async def test_fly() -> None:
        async with ActorTestEnv(app, app_id="fleet") as env:
            answer = await env.invoke_actor("x-wing", "33", "fly", {"destination": "Hoth"})
            assert (answer.status, answer.json()) == (200, {"from": "Yavin 4", "to": "Hoth"})

Or as a pytest fixture, in ``conftest.py`` (the fixture is named after the variable)::

    from dapr_actors_fastapi.testing import actor_env_fixture
    from myapp import app

    actor_env = actor_env_fixture(app, app_id="fleet")

    # in a test module
    async def test_fly(actor_env: ActorTestEnv) -> None: ...

Async tests need an asyncio runner such as pytest-asyncio. This module itself does not import
pytest; only ``actor_env_fixture`` does, when called. It needs the ``dev`` extra (``pip install
'dapr-actors-fastapi[dev]'``); without it, importing it raises ``ModuleNotFoundError`` saying so.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack
from urllib.parse import quote

from multidict import CIMultiDict, CIMultiDictProxy
from starlette.types import ASGIApp

from ._client.sidecar_client import SidecarResponse
from ._dev_extra import require_dev_extra
from ._wire.paths import actor_path

require_dev_extra(__name__)

import aiohttp

from .sidecar import SidecarSettings, create_app
from .sidecar.serving import (
    LOOPBACK,
    EmbeddedServer,
    RunningServer,
    bind_loopback,
    port_of,
    server_config,
    start_server,
)

__all__ = ["ActorTestEnv", "EnvOptions", "SidecarResponse", "actor_env_fixture"]

POLL_SECONDS = 0.01


class EnvOptions(TypedDict, total=False):
    """The keyword arguments of ``ActorTestEnv`` (and ``actor_env_fixture``)."""

    app_id: str
    state_db: str
    apps: Mapping[str, str]
    resources_path: str | None
    api_token: str | None
    app_api_token: str | None
    set_environ: bool
    startup_seconds: float
    shutdown_seconds: float


class ActorTestEnv:
    """``async with ActorTestEnv(app) as env``: ``app`` and the dev sidecar, serving.

    * ``app``: the ASGI app (e.g. your FastAPI app); its lifespan runs on enter and on exit.
    * ``app_id``, ``apps``, ``resources_path``: as for ``SidecarSettings``.
    * ``state_db``: ``":memory:"`` (default: every env starts empty) or a SQLite file.
    * ``api_token`` / ``app_api_token``: the sidecar's tokens. Unlike the CLI, they are not
      read from the environment, so a token in your shell cannot change a test.
    * ``set_environ``: while the env runs, set ``DAPR_HTTP_PORT`` and ``APP_ID`` (and
      ``DAPR_API_TOKEN`` when given) for code that looks for its sidecar there; restored on
      exit. Turn off when several envs run at once.
    * ``startup_seconds`` / ``shutdown_seconds``: deadlines; past them the env raises
      ``TimeoutError`` instead of hanging the test.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        app_id: str = "app",
        state_db: str = ":memory:",
        apps: Mapping[str, str] | None = None,
        resources_path: str | None = None,
        api_token: str | None = None,
        app_api_token: str | None = None,
        set_environ: bool = True,
        startup_seconds: float = 10.0,
        shutdown_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.app_id = app_id
        self._state_db = state_db
        self._apps = dict(apps or {})
        self._resources_path = resources_path
        self._api_token = api_token
        self._app_api_token = app_api_token
        self._set_environ = set_environ
        self._startup_seconds = startup_seconds
        self._shutdown_seconds = shutdown_seconds
        self._servers: list[RunningServer] = []
        self._sockets: list[socket.socket] = []
        self._http: aiohttp.ClientSession | None = None
        self._saved_environ: dict[str, str | None] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._servers:
            raise RuntimeError("this ActorTestEnv is already running; create a new one")
        try:
            await self._start()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        problems = await self._stop()
        # Report a failed shutdown, but never in place of the test's own failure.
        if problems and exc is None:
            raise RuntimeError("; ".join(problems))

    async def _start(self) -> None:
        for _ in range(2):
            self._sockets.append(bind_loopback(0))
        app_sock, sidecar_sock = self._sockets
        if self._set_environ:
            # Before the app starts: its lifespan may already look for the sidecar.
            self._apply_environ(port_of(sidecar_sock))
        # The sidecar starts first: it answers at once and waits for the app in the
        # background, while an app may wait for its sidecar during its own startup.
        settings = SidecarSettings(
            app_url=f"http://{LOOPBACK}:{port_of(app_sock)}",
            app_id=self.app_id,
            state_db=self._state_db,
            apps=self._apps,
            resources_path=self._resources_path,
            api_token=self._api_token,
            app_api_token=self._app_api_token,
        )
        sidecar = await self._serve("the dev sidecar", create_app(settings), sidecar_sock)
        await self._serve("the app", self.app, app_sock)
        # Stop the app first, so that its shutdown can still reach the sidecar.
        self._servers.reverse()
        token = {} if self._api_token is None else {"dapr-api-token": self._api_token}
        self._http = aiohttp.ClientSession(sidecar.url, headers=token)
        await self._wait_healthy()

    async def _serve(self, name: str, app: ASGIApp, sock: socket.socket) -> RunningServer:
        server = EmbeddedServer(server_config(app))
        running = await start_server(name, server, sock, startup_seconds=self._startup_seconds)
        self._servers.append(running)
        return running

    async def _wait_healthy(self) -> None:
        """Poll ``/v1.0/healthz`` until the sidecar says it is ready, within the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_seconds
        while (answer := await self.request("GET", "/v1.0/healthz")).status != 204:
            if loop.time() > deadline:
                raise TimeoutError(
                    f"the dev sidecar was not healthy within {self._startup_seconds}s: "
                    f"GET /v1.0/healthz answered {answer.status} {answer.text}"
                )
            await asyncio.sleep(POLL_SECONDS)

    async def _stop(self) -> list[str]:
        """Stop everything that started; the app first, so its shutdown can still reach the
        sidecar. Returns what went wrong."""
        problems = []
        if self._http is not None:
            await self._http.close()
            self._http = None
        for server in self._servers:
            try:
                await server.stop(grace_seconds=self._shutdown_seconds)
            except TimeoutError as error:
                problems.append(str(error))
            if (error_ := server.error()) is not None:
                problems.append(f"{server.name} failed: {error_!r}")
        self._servers.clear()
        for sock in self._sockets:
            sock.close()  # the servers close theirs; these are the ones that never started
        self._sockets = []
        self._restore_environ()
        return problems

    def _apply_environ(self, sidecar_port: int) -> None:
        values = {"DAPR_HTTP_PORT": str(sidecar_port), "APP_ID": self.app_id}
        if self._api_token is not None:
            values["DAPR_API_TOKEN"] = self._api_token
        self._saved_environ = {name: os.environ.get(name) for name in values}
        os.environ.update(values)

    def _restore_environ(self) -> None:
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ = {}

    # -- where things are ---------------------------------------------------------------------

    @property
    def app_url(self) -> str:
        """The app's base URL, e.g. ``http://127.0.0.1:41234`` (what daprd would call)."""
        return self._server(0).url

    @property
    def sidecar_url(self) -> str:
        """The dev sidecar's base URL, for your own HTTP client or the app's sidecar client."""
        return self._server(1).url

    def _server(self, index: int) -> RunningServer:
        if len(self._servers) <= index:
            raise RuntimeError("the env is not running; use it as `async with ActorTestEnv(...)`")
        return self._servers[index]

    # -- the sidecar API ----------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> SidecarResponse:
        """Call the sidecar: ``body`` ``None`` sends none, ``bytes`` as they are, anything else
        as JSON (``b"null"`` sends a JSON null). The ``dapr-api-token`` is added for you."""
        if self._http is None:
            raise RuntimeError("the env is not running; use it as `async with ActorTestEnv(...)`")
        outgoing = CIMultiDict(headers or {})
        data: bytes | None
        if body is None or isinstance(body, bytes | bytearray):
            data = None if body is None else bytes(body)
        else:
            data = json.dumps(body).encode()
            outgoing.setdefault("Content-Type", "application/json")
        async with self._http.request(
            method, path, data=data, headers=outgoing, skip_auto_headers=("Content-Type",)
        ) as response:
            payload = await response.read()
            return SidecarResponse(
                status=response.status,
                headers=CIMultiDictProxy(CIMultiDict(response.headers)),
                body=payload,
                method=method,
                path=path,
            )

    async def invoke_actor(
        self,
        actor_type: str,
        actor_id: str,
        method: str,
        body: Any = None,
        *,
        verb: str = "PUT",
        headers: Mapping[str, str] | None = None,
    ) -> SidecarResponse:
        """``PUT /v1.0/actors/{type}/{id}/method/{method}``, as any Dapr client calls it."""
        path = f"{actor_path(actor_type, actor_id)}/method/{quote(method, safe='/')}"
        return await self.request(verb, path, body, headers=headers)

    async def get_state(self, actor_type: str, actor_id: str, key: str) -> SidecarResponse:
        """One state key of an actor: 200 with the JSON value, or 204 when it is absent."""
        path = f"{actor_path(actor_type, actor_id)}/state/{quote(key, safe='')}"
        return await self.request("GET", path)

    async def state_transaction(
        self, actor_type: str, actor_id: str, operations: Sequence[Mapping[str, Any]]
    ) -> SidecarResponse:
        """Apply ``[{"operation": "upsert"|"delete", "request": {"key": ...}}, ...]`` at once.

        As with daprd, the actor must be active (call one of its methods first), else 400.
        """
        path = f"{actor_path(actor_type, actor_id)}/state"
        return await self.request("POST", path, list(operations))

    async def set_state(
        self, actor_type: str, actor_id: str, values: Mapping[str, Any]
    ) -> SidecarResponse:
        """Upsert ``values`` (key -> JSON value) in one transaction; 204 on success."""
        operations = [
            {"operation": "upsert", "request": {"key": key, "value": value}}
            for key, value in values.items()
        ]
        return await self.state_transaction(actor_type, actor_id, operations)

    async def delete_state(self, actor_type: str, actor_id: str, *keys: str) -> SidecarResponse:
        """Delete ``keys`` in one transaction; 204 on success."""
        operations = [{"operation": "delete", "request": {"key": key}} for key in keys]
        return await self.state_transaction(actor_type, actor_id, operations)

    async def get_metadata(self) -> SidecarResponse:
        """``GET /v1.0/metadata``: app id, hosted actor types and their active counts."""
        return await self.request("GET", "/v1.0/metadata")

    async def active_actors(self) -> dict[str, int]:
        """Active actors per hosted type, from the metadata, e.g. ``{"x-wing": 1}``."""
        answer = await self.get_metadata()
        if answer.status != 200:
            raise RuntimeError(f"GET /v1.0/metadata answered {answer.status}: {answer.text}")
        # daprd leaves "actors" out when no type is hosted.
        return {entry["type"]: entry["count"] for entry in answer.json().get("actors", [])}


def actor_env_fixture(
    app: ASGIApp, *, name: str | None = None, **options: Unpack[EnvOptions]
) -> Any:
    """A pytest fixture yielding a running ``ActorTestEnv(app, **options)`` for each test.

    Assign it in ``conftest.py`` or a test module; it is named after that variable unless
    ``name`` is given: ``actor_env = actor_env_fixture(app, app_id="fleet")``. It is made with
    ``pytest_asyncio.fixture`` when pytest-asyncio is installed (strict mode needs that), else
    with ``pytest.fixture`` (e.g. for anyio's plugin).
    """
    import pytest  # here, not at the top: the module must import without pytest

    make_fixture: Callable[..., Any]
    try:
        import pytest_asyncio
    except ImportError:
        make_fixture = pytest.fixture
    else:
        make_fixture = pytest_asyncio.fixture

    async def actor_env() -> AsyncIterator[ActorTestEnv]:
        async with ActorTestEnv(app, **options) as env:
            yield env

    return make_fixture(actor_env, name=name)
