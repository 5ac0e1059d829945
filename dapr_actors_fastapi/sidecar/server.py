"""The dev sidecar's HTTP API (the sidecar side of Dapr's Actors and Service invocation API
reference pages), as a Starlette app.

Start-up follows daprd (docs/protocol.md §1–2): wait until the app's port accepts connections, read
``/dapr/config`` once, then serve. Routes answer with daprd's statuses and error bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import Tracer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send, StatefulLifespan

from .._telemetry.telemetry import installed_tracer
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
from .cors import allowing_origins
from .errors import INSTANCE_MISSING, DaprError, actor_invoke_failed, start_failed
from .invoke import AnyVerb, ServiceInvoker
from .metadata import ActorRuntimeStatus, ExtendedMetadata, metadata_document
from .name_checks import checked_method, checked_name, utf8
from .raw_asgi import (
    BAD_TOKEN,
    BAD_TOKEN_BODY,
    NO_CONTENT,
    Answer,
    ClientDisconnected,
    RawRequest,
    error_answer,
    json_answer,
    send_answer,
)
from .routing import ACTOR_ROUTES, ActorRoute, actor_route, not_served, not_served_paths
from .scheduler import Scheduler
from .settings import SidecarSettings
from .state import decode_transaction, transaction_writes
from .store import StateKey, StateStore
from .tracing import ActorCallSpan

logger = logging.getLogger(__name__)

TRACER_SCOPE = "dapr_actors_fastapi.sidecar"
# Request headers an actor call does not pass on to the app: the token is for this sidecar,
# the reentrancy id is re-sent as decided, and the caller's identity is the sidecar's to stamp
# (daprd strips both, pkg/acl/workflow/identity.go StripUntrustedCallerIdentity).
_NOT_RELAYED = frozenset(
    {b"dapr-api-token", b"dapr-reentrancy-id", b"dapr-caller-app-id", b"dapr-caller-namespace"}
)


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
        # The callback path of each (type, id, method) recently called: escaping three names
        # was a tenth of the Python time of a relayed call.
        self._callback_path = functools.lru_cache(maxsize=4096)(method_callback_path)
        # What every relayed actor call adds to the caller's headers, as daprd does.
        self._stamp = [
            ("Dapr-Api-Call", "true"),
            ("dapr-caller-app-id", settings.app_id),
            ("dapr-caller-namespace", settings.namespace),
        ]

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

    # -- hot routes: raw ASGI, dispatched by SidecarApp before Starlette -------------------------

    async def invoke_actor(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        method = checked_method(route.rest)
        hosted = self._hosted(actor_type, actor_id)
        headers: list[tuple[str, str]] = []
        presented_id = None
        for name, value in request.headers:
            if name not in _NOT_RELAYED:
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
            elif name == b"dapr-reentrancy-id" and presented_id is None:
                presented_id = value.decode("latin-1")
        reentrancy_id = self.actors.reentrancy(
            hosted, () if presented_id is None else [(REENTRANCY_HEADER, presented_id)]
        )
        if reentrancy_id is not None:
            headers.append((REENTRANCY_HEADER, reentrancy_id))
        headers += self._stamp
        path = self._callback_path(actor_type, actor_id, method)
        if request.query:
            path += "?" + request.query.decode("latin-1")  # as the caller encoded it
        body = await request.body(self.settings.max_body_size)
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
        # Every header the app sent, repeated ones included (daprd adds them one by one).
        out = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in answer.headers.items()
        ]
        if "content-type" not in answer.headers:
            out.append((b"content-type", b"application/json"))
        return Answer(200, out, answer.body)

    async def state_transaction(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        # daprd decodes the body before it looks at the actor (pkg/api/http/actors.go
        # onActorStateTransaction): a malformed body is 400 even for an inactive actor.
        operations = decode_transaction(await request.body(self.settings.max_body_size))
        if not self.actors.is_active(actor_type, actor_id):
            raise INSTANCE_MISSING
        writes = transaction_writes(
            operations, lambda key: StateKey(self.settings.app_id, actor_type, actor_id, key)
        )
        self.store.apply(writes, time.time())
        return NO_CONTENT

    async def get_state(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        key = StateKey(self.settings.app_id, actor_type, actor_id, utf8(route.rest, "key"))
        stored = self.store.get(key, time.time())
        if stored is None:
            return NO_CONTENT
        headers = []
        if stored.expires_at is not None:
            expiry = datetime.fromtimestamp(stored.expires_at, UTC)
            expires = expiry.isoformat().replace("+00:00", "Z")
            headers.append((b"metadata.ttlexpiretime", expires.encode()))
        return json_answer(stored.value, headers)

    async def create_reminder(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        name = checked_name(route.rest)
        hosted = self._hosted_for_reminders(actor_type)
        body = await request.body(self.settings.max_body_size)
        self.scheduler.register_reminder(hosted, actor_id, name, body)
        return NO_CONTENT

    async def get_reminder(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        name = checked_name(route.rest)
        self._hosted_for_reminders(actor_type)
        reminder = self.scheduler.get_reminder(actor_type, actor_id, name)
        return json_answer(json.dumps(reminder).encode())

    async def delete_reminder(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        name = checked_name(route.rest)
        self._hosted_for_reminders(actor_type)
        self.scheduler.delete("reminder", actor_type, actor_id, name)
        return NO_CONTENT

    async def create_timer(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        name = checked_name(route.rest)
        hosted = self.actors.hosted(actor_type)
        if hosted is None:
            raise DaprError(
                500,
                "ERR_ACTOR_TIMER_CREATE",
                f"error creating actor timer: actor type {actor_type!r} not registered",
            )
        body = await request.body(self.settings.max_body_size)
        self.scheduler.register_timer(hosted, actor_id, name, body)
        return NO_CONTENT

    async def delete_timer(self, request: RawRequest, route: ActorRoute) -> Answer:
        actor_type, actor_id = _actor_names(route)
        self.scheduler.delete("timer", actor_type, actor_id, route.rest)  # always 204, as daprd
        return NO_CONTENT

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


def _actor_names(route: ActorRoute) -> tuple[str, str]:
    return checked_name(route.actor_type, "actorType"), checked_name(route.actor_id, "actorId")


Endpoint = Callable[[Request], Awaitable[Response]]
HotEndpoint = Callable[[RawRequest, ActorRoute], Awaitable[Answer]]
Lifespan = StatefulLifespan[Starlette]


class SidecarApp(Starlette):
    """The sidecar's Starlette app, with the actor routes served as raw ASGI before Starlette
    sees the request.

    They are matched on the escaped path (``routing.actor_route``); anything else, including
    an actor path with a verb its route does not take, goes on to Starlette's routes, the last
    of which is service invocation. The checks are those of the other routes, in the same
    order: the API token, then the app's actor config (the hosted types are known once the app
    is up), then the route's own.
    """

    def __init__(self, sidecar: Sidecar, routes: list[Route], lifespan: Lifespan) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self.state.sidecar = sidecar
        self._sidecar = sidecar
        token = sidecar.settings.api_token
        self._token = None if token is None else token.encode()
        self._endpoints: dict[str, HotEndpoint] = {
            name: getattr(sidecar, name) for name in set(ACTOR_ROUTES.values())
        }
        # CORS, when allowed, answers preflights and marks answers of the hot routes too.
        self._entry = allowing_origins(self._serve, sidecar.settings.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._entry(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope["path"].encode()
            route = actor_route(scope["method"], raw_path)
            if route is not None:
                request = RawRequest(scope, receive)
                try:
                    answer = await self._answer(request, route)
                except ClientDisconnected:
                    return  # nobody is left to read an answer
                await send_answer(send, answer)
                return
        await super().__call__(scope, receive, send)

    async def _answer(self, request: RawRequest, route: ActorRoute) -> Answer:
        if self._token is not None and not _token_matches(
            request.header(b"dapr-api-token"), self._token
        ):
            return BAD_TOKEN
        sidecar = self._sidecar
        if not sidecar.started.is_set():
            await sidecar.started.wait()
        if sidecar.start_failure is not None:
            return error_answer(sidecar.start_failure)
        try:
            return await self._endpoints[route.name](request, route)
        except DaprError as error:
            return error_answer(error)


def create_app(settings: SidecarSettings) -> SidecarApp:
    """The dev sidecar as an ASGI app; serve it with uvicorn."""
    sidecar = Sidecar(settings)

    def guarded(endpoint: Endpoint, *, public: bool = False) -> Endpoint:
        async def handle(request: Request) -> Response:
            if not public and not _token_ok(request, settings.api_token):
                # daprd answers with Go's http.Error: plain text (docs/protocol.md §7.0).
                return PlainTextResponse(BAD_TOKEN_BODY, status_code=401)
            try:
                return await endpoint(request)
            except DaprError as error:
                return error.response()

        return handle

    routes = [
        Route("/v1.0/healthz", guarded(sidecar.healthz, public=True), methods=["GET"]),
        Route(
            "/v1.0/healthz/outbound",
            guarded(sidecar.healthz_outbound, public=True),
            methods=["GET"],
        ),
        Route("/v1.0/metadata", guarded(sidecar.metadata), methods=["GET"]),
        Route("/v1.0/metadata/{key}", guarded(sidecar.put_metadata), methods=["PUT"]),
        # The actor routes are served by SidecarApp, in front of these.
        *(Route(path, AnyVerb(guarded(not_served))) for path in not_served_paths()),
        # Anything unmatched, including an unmatched verb on a known route, falls through to
        # service invocation, as in daprd (docs/protocol.md §7.0, §8.1); AnyVerb lets every verb in.
        Route("/{path:path}", AnyVerb(guarded(sidecar.invoker.handle))),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Mapping[str, Any]]:
        async with sidecar.running():
            yield {"sidecar": sidecar}

    return SidecarApp(sidecar, routes, lifespan)


def _token_ok(request: Request, token: str | None) -> bool:
    if token is None:
        return True
    presented = request.headers.get("dapr-api-token")
    # Starlette decodes header bytes as latin-1: compare the bytes that were sent.
    return _token_matches(
        None if presented is None else presented.encode("latin-1"), token.encode()
    )


def _token_matches(presented: bytes | None, token: bytes) -> bool:
    return presented is not None and hmac.compare_digest(presented, token)
