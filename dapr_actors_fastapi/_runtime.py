"""``ActorRuntime``: the settings, the registered actor types and the app's lifespan.

Layer 7, the composition root: the one module that wires the layers together (see
docs/architecture.md). It makes each type's host, hands it the sidecar client and the
outbound calls, and builds the router over the live table of hosts. Nothing below imports it.

A runtime is an ordinary object: there is no module- or class-level registry, so two runtimes
in one process (two apps, or tests) never see each other's actors.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar, overload

from fastapi import APIRouter
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from ._actor_api.actor import Actor, record_registration
from ._actor_api.actor_type import ActorType
from ._actor_api.definition import define_actor, validate_wire_name
from ._actor_api.settings import (
    DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_STACK_DEPTH,
    DEFAULT_SCAN_INTERVAL,
    WIRE_SETTINGS,
    ActorSettings,
    Duration,
    duration_setting,
    validate_settings,
)
from ._client.sidecar_client import SidecarClient, SidecarResponse
from ._hosting.config_document import TypeConfig, config_document
from ._hosting.endpoints import CallbackPolicy, ErrorStyle
from ._hosting.front_door import ActorFrontDoor, ASGIApp
from ._hosting.method_docs import document_actor_type
from ._hosting.outbound import OutboundCalls
from ._hosting.router import (
    CONFIG_PATH,
    DaprdEndpoints,
    build_router,
    config_route_paths,
    daprd_endpoints,
)
from ._hosting.serving import ServingState
from ._hosting.type_host import ActorTypeHost
from ._hosting.worker_processes import several_workers
from ._telemetry.telemetry import Telemetry
from ._wire.headers import DEFAULT_MAX_BODY_SIZE
from ._wire.paths import QueryParams
from .durations import SECOND
from .exceptions import ActorConfigError, ActorTypeNotFound, MultipleWorkersError

A = TypeVar("A", bound=type[Actor])
ActorT = TypeVar("ActorT", bound=Actor)

logger = logging.getLogger(__name__)


class ActorRuntime:
    """Hosts actor types in a FastAPI app.

    Global settings become the top level of ``/dapr/config``; ``@runtime.actor`` can override
    each of them per type. Durations accept a ``timedelta`` or a string (``"30s"``,
    ``"PT30S"``).

    * ``idle_timeout``: how long daprd keeps an unused actor active.
    * ``scan_interval``: emitted for older daprd and the dev sidecar (daprd ≥ 1.14 ignores it).
    * ``drain_timeout`` / ``drain_rebalanced``: how long in-flight calls may finish when actors
      move to another host; the same timeout bounds deactivation at shutdown.
    * ``reentrancy`` / ``max_stack_depth``: let a call chain re-enter an actor it holds.
    * ``cache_state``: keep an actor's state in memory between its turns (the default). This is
      correct while one process hosts each actor, which holds when each sidecar fronts exactly
      one app process (one uvicorn worker per sidecar). ``False`` re-reads state in each turn.
    * ``multiple_workers``: the app runs as several worker processes behind one sidecar
      (``uvicorn --workers N``, ``gunicorn -w N``). Without it the lifespan refuses to start
      when it detects that (``MultipleWorkersError``); with it, ``cache_state`` is off for
      every type and the sidecar's per-actor lock alone keeps one turn at a time.
    * ``app_api_token``: the token daprd must send (default: env ``APP_API_TOKEN``).
    * ``max_body_size``: larger request bodies get 413.
    * ``error_style``: ``"status"`` answers actor exceptions with 500; ``"header"`` with 200 and
      ``X-DaprErrorResponseHeader``, so callers through daprd receive the error body verbatim.
    * ``sidecar``: the ``SidecarClient`` actors use (default: one configured from the
      environment when the lifespan starts).
    * ``tracer_provider`` / ``meter_provider``: where turn spans and actor metrics go (default:
      the global providers, if an OpenTelemetry SDK installed them when the lifespan starts;
      without one, nothing is traced or measured). See Observability in the README.
    * ``long_turn_threshold``: a turn that runs longer is logged as a warning naming the actor,
      the turn and how long it ran, and counted in ``dapr.actors.turn.long`` when metrics are on.
    """

    def __init__(
        self,
        *,
        idle_timeout: Duration = DEFAULT_IDLE_TIMEOUT,
        scan_interval: Duration = DEFAULT_SCAN_INTERVAL,
        drain_timeout: Duration = DEFAULT_DRAIN_TIMEOUT,
        drain_rebalanced: bool = True,
        reentrancy: bool | None = None,
        max_stack_depth: int = DEFAULT_MAX_STACK_DEPTH,
        cache_state: bool | None = None,
        multiple_workers: bool = False,
        app_api_token: str | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        error_style: ErrorStyle = "status",
        sidecar: SidecarClient | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        long_turn_threshold: Duration = "1s",
    ) -> None:
        if not isinstance(multiple_workers, bool):
            raise ActorConfigError(
                f"multiple_workers must be True or False, got {multiple_workers!r}"
            )
        if multiple_workers and cache_state:
            raise ActorConfigError(
                "cache_state=True cannot be combined with multiple_workers=True: each worker "
                "would cache its own copy of an actor's state; leave cache_state unset"
            )
        self._multiple_workers = multiple_workers
        self._defaults = ActorSettings(
            **validate_settings(
                {
                    "idle_timeout": idle_timeout,
                    "drain_timeout": drain_timeout,
                    "drain_rebalanced": drain_rebalanced,
                    "reentrancy": bool(reentrancy),
                    "max_stack_depth": max_stack_depth,
                    "cache_state": not multiple_workers if cache_state is None else cache_state,
                }
            )
        )
        self._scan_interval = duration_setting("scan_interval", scan_interval)
        self._reentrancy_configured = reentrancy is not None
        if (
            isinstance(max_body_size, bool)
            or not isinstance(max_body_size, int)
            or max_body_size < 1
        ):
            raise ActorConfigError(
                f"max_body_size must be a positive int of bytes, got {max_body_size!r}"
            )
        if error_style not in ("status", "header"):
            raise ActorConfigError(f"error_style must be 'status' or 'header', got {error_style!r}")
        token = app_api_token if app_api_token is not None else os.environ.get("APP_API_TOKEN")
        self._policy = CallbackPolicy(token.encode() if token else None, max_body_size, error_style)
        self._hosts: dict[str, ActorTypeHost] = {}
        self._overridden: set[str] = set()
        self._telemetry = Telemetry(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            long_turn_seconds=duration_setting("long_turn_threshold", long_turn_threshold) / SECOND,
        )
        if sidecar is None:
            sidecar = SidecarClient(tracer_provider=tracer_provider, meter_provider=meter_provider)
        self._sidecar = sidecar
        self._outbound = OutboundCalls(self._sidecar, self._hosts)
        self._serving = ServingState()

    @property
    def sidecar(self) -> SidecarClient:
        """The client to this app's sidecar, opened and closed by ``lifespan``."""
        return self._sidecar

    @property
    def max_body_size(self) -> int:
        """Request bodies larger than this many bytes are answered with 413."""
        return self._policy.max_body_size

    @property
    def error_style(self) -> ErrorStyle:
        """How actor exceptions are answered: ``"status"`` (500) or ``"header"``."""
        return self._policy.error_style

    # -- registration -------------------------------------------------------------------------

    @overload
    def actor(self, type_name_or_class: A, /) -> A: ...
    @overload
    def actor(
        self,
        type_name_or_class: str | None = None,
        /,
        *,
        idle_timeout: Duration | None = None,
        drain_timeout: Duration | None = None,
        drain_rebalanced: bool | None = None,
        reentrancy: bool | None = None,
        max_stack_depth: int | None = None,
        cache_state: bool | None = None,
    ) -> Callable[[A], A]: ...
    def actor(
        self,
        type_name_or_class: Any = None,
        /,
        *,
        idle_timeout: Duration | None = None,
        drain_timeout: Duration | None = None,
        drain_rebalanced: bool | None = None,
        reentrancy: bool | None = None,
        max_stack_depth: int | None = None,
        cache_state: bool | None = None,
    ) -> Any:
        """Register an ``Actor`` subclass under a type name (default: the class name).

        Works bare (``@runtime.actor``) and called (``@runtime.actor("x-wing", idle_timeout="10m")``).
        Keyword arguments override the runtime's settings for this type only.
        """
        overrides = {
            "idle_timeout": idle_timeout,
            "drain_timeout": drain_timeout,
            "drain_rebalanced": drain_rebalanced,
            "reentrancy": reentrancy,
            "max_stack_depth": max_stack_depth,
            "cache_state": cache_state,
        }

        def register(actor_class: A) -> A:
            name = type_name if type_name is not None else getattr(actor_class, "__name__", "")
            self._register(actor_class, name, overrides)
            return actor_class

        if isinstance(type_name_or_class, type):
            type_name = None
            return register(type_name_or_class)
        if type_name_or_class is not None and not isinstance(type_name_or_class, str):
            raise ActorConfigError(
                f"@runtime.actor takes a type name string, got {type_name_or_class!r}"
            )
        type_name = type_name_or_class
        return register

    def _register(self, actor_class: type[Actor], name: str, overrides: Mapping[str, Any]) -> None:
        validate_wire_name("actor type", name)
        if not (isinstance(actor_class, type) and issubclass(actor_class, Actor)):
            raise ActorConfigError(
                "@runtime.actor decorates subclasses of dapr_actors_fastapi.Actor, "
                f"got {actor_class!r}"
            )
        if self._multiple_workers and overrides.get("cache_state"):
            raise ActorConfigError(
                f"actor type {name!r}: cache_state=True cannot be combined with the runtime's "
                "multiple_workers=True, as each worker would cache its own copy of the state"
            )
        if name in self._hosts:
            raise ActorConfigError(
                f"actor type {name!r} is already registered with this runtime "
                f"(by {self._hosts[name].actor_type.actor_class.__qualname__})"
            )
        host = ActorTypeHost(
            name,
            actor_class,
            self._defaults.overridden(overrides),
            define_actor(actor_class, name),
            sidecar=self._sidecar,
            proxies=self._outbound,
            serving=self._serving,
            telemetry=self._telemetry,
        )
        self._hosts[name] = host
        record_registration(host.actor_type)
        if any(overrides.get(setting) is not None for setting in WIRE_SETTINGS):
            self._overridden.add(name)
        if "router" in self.__dict__:  # registered after the router was built
            document_actor_type(self.router, host, self._sidecar.configured_endpoint())

    # -- what users read ----------------------------------------------------------------------

    @property
    def actor_types(self) -> Mapping[str, ActorType[Actor]]:
        """The registered actor types by name."""
        return MappingProxyType({name: host.actor_type for name, host in self._hosts.items()})

    def active_actors(self, actor_type: str) -> list[str]:
        """The ids of the active actors of ``actor_type`` in this process, in no set order.

        Raises ``ActorTypeNotFound`` (a ``LookupError``) for a type this runtime does not host.
        """
        host = self._hosts.get(actor_type)
        if host is None:
            raise ActorTypeNotFound(actor_type, list(self._hosts))
        return host.active_ids

    def config(self) -> dict[str, Any]:
        """The ``GET /dapr/config`` document for the types registered so far."""
        return config_document(
            defaults=self._defaults,
            scan_interval=self._scan_interval,
            reentrancy_configured=self._reentrancy_configured,
            types=(
                TypeConfig(name, host.actor_type.settings, name in self._overridden)
                for name, host in self._hosts.items()
            ),
        )

    @cached_property
    def _endpoints(self) -> DaprdEndpoints:
        """What answers daprd's routes, shared by the router and every front door."""
        return daprd_endpoints(self._hosts, self._policy, self._sidecar, self.config, self._serving)

    @cached_property
    def router(self) -> APIRouter:
        """The routes daprd calls; mount with ``app.include_router(runtime.router)``."""
        return build_router(self._endpoints, self._hosts, self._sidecar.configured_endpoint())

    def front_door(self, app: ASGIApp) -> ActorFrontDoor:
        """``app`` behind a front door that serves daprd's routes for this runtime and runs its
        lifespan: serve the result instead of ``app``, with any ASGI framework.

        daprd's fixed paths (``/dapr/config``, ``/healthz``, ``/actors/...``) are answered
        before ``app`` sees them, so its middleware and mounts cannot hide them from daprd
        (``APP_API_TOKEN`` guards them); every other request goes to ``app`` unchanged. The
        runtime's lifespan runs inside the app's own, so ``app`` must not run it too.
        """
        return ActorFrontDoor(app, self._endpoints, self.lifespan)

    # -- calling other actors and apps --------------------------------------------------------

    def proxy(
        self, actor_class: type[ActorT], actor_id: str, *, actor_type: str | None = None
    ) -> ActorT:
        """A typed client for actor ``actor_id``, sending calls through this runtime's sidecar.

        ``actor_class`` supplies the methods' signatures; it need not be registered here: when
        another app hosts the type, import (or write) its class and name the type,
        ``runtime.proxy(XWing, "33", actor_type="x-wing")``. Without ``actor_type`` the class
        must be registered under exactly one name. For classes registered with this runtime,
        ``XWing.proxy("33")`` is the same.
        """
        return self._outbound.proxy(actor_class, actor_id, actor_type)

    async def invoke_actor(
        self,
        actor_type: str,
        actor_id: str,
        method: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see the docstring)
    ) -> SidecarResponse:
        """Call an actor method without a proxy: ``body`` as it is when it is bytes, else as
        JSON (``None`` sends none). Raises ``ActorInvokeError`` when the call failed, whichever
        error style the callee uses. ``timeout`` as for ``invoke``."""
        return await self._outbound.invoke_actor(
            actor_type, actor_id, method, body, headers=headers, timeout=timeout
        )

    async def invoke(
        self,
        app_id: str,
        method_path: str,
        *,
        verb: str = "POST",
        json: Any = None,
        data: bytes | None = None,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        namespace: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see the docstring)
    ) -> SidecarResponse:
        """Service invocation: ``verb /{method_path}?{params}`` on another app
        (docs/protocol.md §8).

        ``app_id`` is an app id, ``"app-id.namespace"`` (or pass ``namespace=``), the name of
        an ``HTTPEndpoint`` resource, or an ``http(s)://`` URL. ``method_path`` is the target's
        path, not URL-encoded (``"api/v1/add"``). The body is ``json`` (sent as JSON) or
        ``data`` (bytes). The target's answer comes back whatever its status; call
        ``.raise_for_status()`` to turn 4xx/5xx into ``SidecarError``. Only a sidecar that
        cannot be reached raises (``SidecarUnavailable``), or does not answer in time
        (``SidecarTimeout``). ``timeout`` (seconds) replaces the sidecar client's own limit
        for this call, longer or shorter, which ``asyncio.timeout`` could not do.
        """
        return await self._outbound.invoke(
            app_id,
            method_path,
            verb=verb,
            json=json,
            data=data,
            params=params,
            headers=headers,
            namespace=namespace,
            timeout=timeout,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """The app's lifespan: check that ``app`` serves the router where daprd calls, open the
        sidecar client and start taking callbacks (before, they get 500
        ``ERR_ACTOR_RUNTIME_NOT_STARTED``, P19); on shutdown, drain (new callbacks get 503
        ``ERR_ACTOR_RUNTIME_CLOSED`` and ``/healthz`` 503, docs/protocol.md P17), let the turns
        in flight finish and deactivate live actors within the drain timeout, then close the
        client.

        Use as ``FastAPI(lifespan=runtime.lifespan)``, or enter ``runtime.lifespan(app)`` from
        your own lifespan. Raises ``ActorConfigError`` when ``app`` serves ``runtime.router``
        only under a prefix.
        """
        if not self._multiple_workers:
            self._refuse_several_workers()
        if app is not None:
            self._refuse_unreachable_router(app)
        self._telemetry.bind()
        await self.sidecar.open()
        self._serving.start()
        try:
            yield
        finally:
            self._serving.drain()
            try:
                await self.deactivate_all()
            finally:
                await self.sidecar.close()

    def _refuse_unreachable_router(self, app: Any) -> None:
        """Raise ``ActorConfigError`` when ``app`` serves the router only under a prefix, where
        daprd never calls (it calls ``/dapr/config`` and ``/actors/...`` at the root); log a
        warning when ``app`` does not serve it at all."""
        if isinstance(app, ActorFrontDoor):
            return  # it answers daprd's routes itself, at the root
        paths = config_route_paths(app, self.router)
        if CONFIG_PATH in paths:
            return
        if paths:
            prefix = paths[0].removesuffix(CONFIG_PATH)
            raise ActorConfigError(
                f"runtime.router is served under the prefix {prefix!r} (its /dapr/config is at "
                f"{paths[0]!r}), but daprd calls /dapr/config, /healthz and /actors/... at the "
                "root of the app: use app.include_router(runtime.router) without a prefix, in "
                "the app the server runs, not in a mounted sub-app"
            )
        logger.warning(
            "the app whose lifespan runs this actor runtime does not serve runtime.router, so "
            "daprd's calls will get 404: add app.include_router(runtime.router)"
        )

    @staticmethod
    def _refuse_several_workers() -> None:
        """Raise ``MultipleWorkersError`` when several processes serve this app
        (``_hosting/worker_processes.py`` lists the signals and their limits)."""
        found = several_workers(os.environ, sys.argv, multiprocessing.current_process())
        if found is not None:
            raise MultipleWorkersError(found.count, found.evidence)

    async def deactivate_all(self) -> None:
        """Deactivate every active actor (running ``on_deactivate``), each type within its
        drain timeout; what does not finish in time is cancelled and logged."""
        await asyncio.gather(*(self._deactivate_type(host) for host in self._hosts.values()))

    async def _deactivate_type(self, host: ActorTypeHost) -> None:
        name = host.actor_type.name
        drain_seconds = host.actor_type.settings.drain_timeout / SECOND
        done, unfinished = await host.deactivate_all(drain_seconds)
        if done:
            logger.info("deactivated %d %r actors at shutdown", done, name)
        if unfinished:
            logger.warning(
                "%d %r actors did not deactivate within drain_timeout=%ss and were cancelled",
                unfinished,
                name,
                drain_seconds,
            )
