"""The dev sidecar's HTTP API (the sidecar side of Dapr's Actors and Service invocation API
reference pages), as a Starlette app.

Start-up follows daprd (docs/protocol.md §1–2): wait until the app's port accepts connections, read
``/dapr/config`` once, then serve. Routes answer with daprd's statuses and error bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import Tracer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from .._telemetry.telemetry import installed_tracer
from .._wire.names import is_valid_name, normalize_method
from .._wire.paths import method_callback_path
from .actors import (
    REENTRANCY_HEADER,
    ActorsConfig,
    ActorTable,
    Callback,
    HostedType,
    method_response,
    parse_app_config,
    unreachable,
)
from .bodies import read_body
from .channel import AppChannel, AppUnreachable
from .errors import INSTANCE_MISSING, DaprError, actor_invoke_failed, bad_request, start_failed
from .invoke import AnyVerb, ServiceInvoker
from .metadata import ActorRuntimeStatus, ExtendedMetadata, metadata_document
from .routing import EscapedPathRoute, not_served, not_served_paths
from .scheduler import Scheduler
from .settings import SidecarSettings
from .state import is_text, parse_transaction
from .store import StateKey, StateStore
from .tracing import ActorCallSpan

logger = logging.getLogger(__name__)

TRACER_SCOPE = "dapr_actors_fastapi.sidecar"


class Sidecar:
    """The running sidecar: its store, its app channel and its actor table."""

    def __init__(self, settings: SidecarSettings) -> None:
        self.settings = settings
        self.channel = AppChannel(
            settings.app_url, app_id=settings.app_id, app_api_token=settings.app_api_token
        )
        # Reads HTTPEndpoint resources now: a bad file stops start-up with a ResourceError,
        # before the store has opened anything that would then have to be closed.
        self.invoker = ServiceInvoker(settings)
        self.store = StateStore(settings.state_db)
        self.actors = ActorTable(self.channel, ActorsConfig())
        self.scheduler = Scheduler(
            app_id=settings.app_id,
            store=self.store,
            actors=self.actors,
            retry_interval=settings.reminder_retry_interval,
        )
        self.ready = asyncio.Event()
        # Set once start-up has ended, well or not; ``start_failure`` then says which.
        self.started = asyncio.Event()
        self.start_failure: DaprError | None = None
        self.tracer: Tracer | None = None  # set when it starts, if an SDK is installed
        self.extended_metadata = ExtendedMetadata()
        self._workers: list[asyncio.Task[None]] = []

    def begin_shutdown(self) -> None:
        """Start no new actor turns from now on (503 ``ERR_ACTOR_RUNTIME_CLOSED``), as daprd
        once its shutdown began; turns in flight finish and their state saves still land.

        Safe to call from another thread than the sidecar's loop: it sets one flag, which the
        loop reads without awaiting in between.
        """
        self.actors.closed = True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve at once, and connect to the app in the background until the block exits.

        The API answers before the app is up, as daprd's does: an app may wait for its
        sidecar's ``/v1.0/healthz/outbound`` before it starts listening (the official SDK
        does), while the sidecar waits for the app's port. Actor routes wait until the app's
        actor config is loaded; ``/v1.0/healthz`` answers 500 until then.
        """
        self.tracer = installed_tracer(self.settings.tracer_provider, TRACER_SCOPE)
        await self.channel.open()
        await self.invoker.open()
        tasks = [asyncio.create_task(self._start())]
        try:
            yield
        finally:
            for task in tasks + self._workers:
                task.cancel()
            await asyncio.gather(*tasks, *self._workers, return_exceptions=True)
            await self.invoker.close()
            await self.channel.close()
            self.store.close()

    async def _start(self) -> None:
        try:
            await self._connect_to_app()
        except Exception as error:
            # Nothing would ever set ``ready``: actor calls get the reason at once instead of
            # waiting for a start that will not come, and the log says it once.
            logger.exception("the dev sidecar could not start its actor runtime")
            self.start_failure = start_failed(error)
        # Not on cancellation: the sidecar is stopping, and no actor call should go ahead.
        self.started.set()

    async def _connect_to_app(self) -> None:
        await self.channel.wait_until_listening()
        document = await self.channel.fetch_config()
        self.actors.config = parse_app_config(document or {})
        hosted = ", ".join(self.actors.config.types) or "none"
        logger.info("app %r is ready; hosted actor types: %s", self.settings.app_id, hosted)
        resumed = self.scheduler.load()
        if resumed:
            logger.info("resuming %d stored reminders", resumed)
        self._workers.append(asyncio.create_task(self.actors.run_idle_scanner()))
        self._workers.append(asyncio.create_task(self.scheduler.run()))
        self.ready.set()

    # -- routes -------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        if not self.ready.is_set():
            raise DaprError(500, "ERR_HEALTH_NOT_READY", "dapr is not ready")
        # Name resolvers ask with ?appid= whether the sidecar at an address is still the app
        # they resolved; present but different (even empty) is a mismatch (docs/protocol.md §3.1).
        asked = request.query_params.get("appid")
        if asked is not None and asked != self.settings.app_id:
            raise DaprError(500, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match")
        return Response(status_code=204)

    async def healthz_outbound(self, request: Request) -> Response:
        return Response(status_code=204)

    async def metadata(self, request: Request) -> Response:
        own = {
            "activations": str(self.actors.activations),
            "deactivations": str(self.actors.deactivations),
        }
        body = metadata_document(
            app_id=self.settings.app_id,
            app_url=self.settings.app_url,
            endpoint_names=self.invoker.endpoints,
            actors=self._actor_runtime_status(),
            extended={**self.extended_metadata.attributes, **own},
        )
        return Response(json.dumps(body), media_type="application/json")

    async def put_metadata(self, request: Request) -> Response:
        value = await read_body(request, self.settings.max_body_size)
        self.extended_metadata.set(request.path_params["key"], value)
        return Response(status_code=204)

    def _actor_runtime_status(self) -> ActorRuntimeStatus:
        if self.start_failure is not None:
            return ActorRuntimeStatus("DISABLED")
        if not self.ready.is_set():
            return ActorRuntimeStatus("INITIALIZING")
        return ActorRuntimeStatus("RUNNING", self.actors.active_counts())

    async def invoke_actor(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        method = _method_name(request.path_params["method"])
        hosted = self._hosted(actor_type, actor_id)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "dapr-api-token"]
        reentrancy_id = self.actors.reentrancy(hosted, headers)
        headers = [(k, v) for k, v in headers if k.lower() != "dapr-reentrancy-id"]
        if reentrancy_id is not None:
            headers.append((REENTRANCY_HEADER, reentrancy_id))
        headers += [
            ("Dapr-Api-Call", "true"),
            ("dapr-caller-app-id", self.settings.app_id),
            ("dapr-caller-namespace", self.settings.namespace),
        ]
        path = method_callback_path(actor_type, actor_id, method)
        query = request.scope["query_string"]
        if query:
            path += "?" + query.decode("latin-1")  # as the caller encoded it
        body = await read_body(request, self.settings.max_body_size)
        span = None
        if self.tracer is not None:
            span = ActorCallSpan(self.tracer, actor_type, actor_id, method, headers)
            headers = span.headers
        callback = Callback(path, headers, body, reentrancy_id)
        try:
            answer = await self.actors.call(hosted, actor_id, callback)
        except BaseException as error:
            if span is not None:
                span.end(None, error)
            if isinstance(error, AppUnreachable):
                raise unreachable(error) from None
            raise
        if span is not None:
            span.end(answer.status)
        answer = method_response(answer, actor_type, actor_id, method)
        out = answer.headers.copy()
        out.setdefault("content-type", "application/json")
        return Response(answer.body, status_code=200, headers=dict(out.items()))

    async def state_transaction(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        if not self.actors.is_active(actor_type, actor_id):
            raise INSTANCE_MISSING
        body = await read_body(request, self.settings.max_body_size)
        writes = parse_transaction(
            body, lambda key: StateKey(self.settings.app_id, actor_type, actor_id, key)
        )
        self.store.apply(writes, time.time())
        return Response(status_code=204)

    async def get_state(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = _utf8(request.path_params["key"], "key")
        key = StateKey(self.settings.app_id, actor_type, actor_id, name)
        stored = self.store.get(key, time.time())
        if stored is None:
            return Response(status_code=204)
        headers = {}
        if stored.expires_at is not None:
            expiry = datetime.fromtimestamp(stored.expires_at, UTC)
            headers["metadata.ttlExpireTime"] = expiry.isoformat().replace("+00:00", "Z")
        return Response(stored.value, media_type="application/json", headers=headers)

    async def create_reminder(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = _name(request.path_params["name"], "reminder name")
        hosted = self._hosted_for_reminders(actor_type)
        body = await read_body(request, self.settings.max_body_size)
        self.scheduler.register_reminder(hosted, actor_id, name, body)
        return Response(status_code=204)

    async def get_reminder(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = _name(request.path_params["name"], "reminder name")
        self._hosted_for_reminders(actor_type)
        reminder = self.scheduler.get_reminder(actor_type, actor_id, name)
        return Response(json.dumps(reminder), media_type="application/json")

    async def delete_reminder(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = _name(request.path_params["name"], "reminder name")
        self._hosted_for_reminders(actor_type)
        self.scheduler.delete("reminder", actor_type, actor_id, name)
        return Response(status_code=204)

    async def create_timer(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = _name(request.path_params["name"], "timer name")
        hosted = self.actors.hosted(actor_type)
        if hosted is None:
            raise DaprError(
                500,
                "ERR_ACTOR_TIMER_CREATE",
                f"error creating actor timer: actor type {actor_type!r} not registered",
            )
        body = await read_body(request, self.settings.max_body_size)
        self.scheduler.register_timer(hosted, actor_id, name, body)
        return Response(status_code=204)

    async def delete_timer(self, request: Request) -> Response:
        actor_type, actor_id = _actor_path(request)
        name = request.path_params["name"]
        self.scheduler.delete("timer", actor_type, actor_id, name)  # always 204, as daprd
        return Response(status_code=204)

    def _hosted_for_reminders(self, actor_type: str) -> HostedType:
        hosted = self.actors.hosted(actor_type)
        if hosted is None:
            raise DaprError(
                403,
                "ERR_ACTOR_REMINDER_NON_HOSTED",
                "operations on actor reminders are only possible on hosted actor types",
            )
        return hosted

    def _hosted(self, actor_type: str, actor_id: str) -> HostedType:
        hosted = self.actors.hosted(actor_type)
        if hosted is None:
            # daprd retries the placement lookup for ~5 s first; the dev sidecar knows at once.
            raise actor_invoke_failed(
                f"failed to lookup actor: did not find address for actor '{actor_type}/{actor_id}'"
            )
        return hosted


def _actor_path(request: Request) -> tuple[str, str]:
    params = request.path_params
    return _name(params["actor_type"], "actorType"), _name(params["actor_id"], "actorId")


def _name(name: str, what: str) -> str:
    """``name`` if daprd's ``ValidateName`` accepts it, else 400 ``ERR_BAD_REQUEST``."""
    if not is_valid_name(name):
        raise bad_request(f"invalid {what}: {name!r}")
    return _utf8(name, what)


def _method_name(method: str) -> str:
    """``method`` as daprd's ``NormalizeMethod`` leaves it (``admin/../legit`` is ``legit``),
    else 400 ``ERR_BAD_REQUEST`` as daprd answers (§7.1)."""
    try:
        cleaned = normalize_method(method)
    except ValueError as error:
        raise bad_request(str(error)) from None
    if not cleaned:
        # daprd would call PUT /actors/{type}/{id}/method on the app (docs/protocol.md §13.1).
        raise bad_request(f"invalid method: {method!r} names no method once cleaned")
    return _utf8(cleaned, "method")


def _utf8(name: str, what: str) -> str:
    """``name`` unless its escapes decoded to bytes that are not UTF-8 (``%FF``)."""
    if not is_text(name):
        shown = name.encode("utf-8", "surrogateescape")
        raise bad_request(f"invalid {what}: {shown!r} is not UTF-8 once unescaped")
    return name


Endpoint = Callable[[Request], Awaitable[Response]]


def create_app(settings: SidecarSettings) -> Starlette:
    """The dev sidecar as an ASGI app; serve it with uvicorn."""
    sidecar = Sidecar(settings)

    def guarded(endpoint: Endpoint, *, public: bool = False, actors: bool = False) -> Endpoint:
        async def handle(request: Request) -> Response:
            if not public and not _token_ok(request, settings.api_token):
                # daprd answers with Go's http.Error: plain text (docs/protocol.md §7.0).
                return PlainTextResponse("invalid api token\n", status_code=401)
            if actors:
                await sidecar.started.wait()  # the hosted types are known once the app is up
                if sidecar.start_failure is not None:
                    return sidecar.start_failure.response()
            try:
                return await endpoint(request)
            except DaprError as error:
                return error.response()

        return handle

    def actor_route(suffix: str, endpoint: Endpoint, *methods: str) -> Route:
        return EscapedPathRoute(
            "/v1.0/actors/{actor_type}/{actor_id}" + suffix,
            guarded(endpoint, actors=True),
            methods=list(methods),
        )

    routes = [
        Route("/v1.0/healthz", guarded(sidecar.healthz, public=True), methods=["GET"]),
        Route(
            "/v1.0/healthz/outbound",
            guarded(sidecar.healthz_outbound, public=True),
            methods=["GET"],
        ),
        Route("/v1.0/metadata", guarded(sidecar.metadata), methods=["GET"]),
        EscapedPathRoute("/v1.0/metadata/{key}", guarded(sidecar.put_metadata), methods=["PUT"]),
        actor_route("/method/{method:path}", sidecar.invoke_actor, "GET", "POST", "PUT", "DELETE"),
        actor_route("/state", sidecar.state_transaction, "POST", "PUT"),
        actor_route("/state/{key:path}", sidecar.get_state, "GET"),
        actor_route("/reminders/{name}", sidecar.create_reminder, "POST", "PUT"),
        actor_route("/reminders/{name}", sidecar.get_reminder, "GET"),
        actor_route("/reminders/{name}", sidecar.delete_reminder, "DELETE"),
        actor_route("/timers/{name}", sidecar.create_timer, "POST", "PUT"),
        actor_route("/timers/{name}", sidecar.delete_timer, "DELETE"),
        *(Route(path, AnyVerb(guarded(not_served))) for path in not_served_paths()),
        # Anything unmatched, including an unmatched verb on a known route, falls through to
        # service invocation, as in daprd (docs/protocol.md §7.0, §8.1); AnyVerb lets every verb in.
        Route("/{path:path}", AnyVerb(guarded(sidecar.invoker.handle))),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with sidecar.running():
            yield {"sidecar": sidecar}

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sidecar = sidecar
    return app


def _token_ok(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    presented = request.headers.get("dapr-api-token")
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())
