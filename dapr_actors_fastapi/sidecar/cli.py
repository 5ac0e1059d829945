"""``dapr-actors``: run an app together with the dev sidecar, or the dev sidecar alone.

    dapr-actors run samples.quickstart:app --app-id fleet
    dapr-actors sidecar --app-url http://127.0.0.1:3000 --app-id fleet

Flags are named as in ``dapr run``. Both servers run under uvicorn in one process, on loopback
only: this is a development tool, not a daprd replacement. The building blocks
(``bind_loopback``, ``start_server``) live in ``serving`` and are shared with
``dapr_actors_fastapi.testing``.

Start order follows daprd (docs/protocol.md §3): the sidecar's API answers first, before the
app listens, because an app may wait for ``/v1.0/healthz/outbound`` in its startup (the
official SDK does, with a blocking call). So under ``run`` the sidecar starts first, on an event
loop of its own in a thread, and ``sidecar`` serves at once and finds the app in the background.

Stop follows daprd's graceful shutdown: the first SIGINT/SIGTERM makes the sidecar start no new
actor turns (503 ERR_ACTOR_RUNTIME_CLOSED) and deactivates every active actor while the app
still answers, then stops accepting, gives requests in flight ``SHUTDOWN_SECONDS`` in all (the
deactivation included), then cancels them (and the calls they make), runs the lifespan
shutdowns and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
import socket
import sqlite3
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import LOG_LEVELS
from uvicorn.logging import DefaultFormatter

from .._version import __version__
from .._wire.address import sidecar_endpoint
from .cors import parse_allowed_origins
from .doctor import diagnose
from .resources import ResourceError
from .server import create_app
from .serving import (
    LOOPBACK,
    EmbeddedServer,
    PortUnavailable,
    RunningServer,
    ServerThread,
    StartupFailed,
    bind_loopback,
    launch,
    port_of,
    server_config,
)
from .settings import DEFAULT_INVOKE_TIMEOUT, SidecarSettings, namespace_from_env

DEFAULT_STATE_DB = "dapr-actors.db"
# daprd's default graceful shutdown (--dapr-graceful-shutdown-seconds): how long requests in
# flight may take, all servers together, once a stop is asked for.
SHUTDOWN_SECONDS = 5.0


class CliError(Exception):
    """A problem the user can fix; ``main`` prints it as one line and exits with 1."""


def app_target(text: str) -> str:
    """argparse type for ``MODULE:APP``."""
    module, sep, attribute = text.partition(":")
    if not sep or not module or not attribute:
        raise argparse.ArgumentTypeError(
            f"expected MODULE:APP, e.g. samples.quickstart:app, got {text!r}"
        )
    return text


def load_app(target: str) -> ASGIApp:
    """Import ``MODULE:APP`` with the current directory importable, as uvicorn does."""
    module_name, _, attribute = target.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name + ".").startswith(error.name + "."):
            raise CliError(
                f"cannot import module {module_name!r}: {error}; run from the folder that "
                f"holds it (the current directory {cwd} is importable) and name it as "
                "MODULE:APP, e.g. samples.quickstart:app"
            ) from None
        raise CliError(f"importing module {module_name!r} failed: {_describe(error)}") from None
    except Exception as error:
        raise CliError(f"importing module {module_name!r} failed: {_describe(error)}") from None
    app: object = module
    for part in attribute.split("."):
        if not hasattr(app, part):
            raise CliError(
                f"module {module_name!r} has no attribute {attribute!r}; MODULE:APP names the "
                f"ASGI app object, e.g. {module_name}:app"
            )
        app = getattr(app, part)
    if not callable(app):
        raise CliError(
            f"{target} is not an ASGI app (it is of type {type(app).__name__}); point "
            "MODULE:APP at the FastAPI app object"
        )
    return cast(ASGIApp, app)


def _describe(error: BaseException) -> str:
    """``Type: message (file:line)``, the line being the deepest frame outside importlib."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, SyntaxError):
        return text  # its message already names the file and line
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<frozen")
    ]
    if frames:
        text += f" ({frames[-1].filename}:{frames[-1].lineno})"
    return text


# -- arguments ------------------------------------------------------------------------------------


def port_number(text: str) -> int:
    """argparse type for a TCP port; 0 picks a free one."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return port


def timeout_seconds(text: str) -> float | None:
    """argparse type for ``--invoke-timeout``: seconds, ``0`` for none."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected seconds, e.g. 60 or 2.5, or 0 to wait forever, got {text!r}"
        )
    return seconds or None


def app_entry(text: str) -> tuple[str, str]:
    """argparse type for ``--app NAME=URL``; NAME is an app id or ``<app-id>.<namespace>``."""
    name, sep, url = text.partition("=")
    if not sep or not name or not _is_http_url(url):
        raise argparse.ArgumentTypeError(
            f"expected NAME=URL, e.g. inventory=http://127.0.0.1:3001, got {text!r}"
        )
    app_id, _, namespace = name.partition(".")
    if not app_id or "." in namespace or name.endswith("."):
        raise argparse.ArgumentTypeError(
            f"expected NAME as <app-id> or <app-id>.<namespace>, e.g. inventory.prod, got {name!r}"
        )
    return name, url.rstrip("/")


def http_url(text: str) -> str:
    """argparse type for ``--app-url``."""
    if not _is_http_url(text):
        raise argparse.ArgumentTypeError(
            f"expected an http:// URL with a host, e.g. http://127.0.0.1:3000, got {text!r}"
        )
    return text.rstrip("/")


def allowed_origins(text: str) -> tuple[str, ...]:
    """argparse type for ``--allowed-origins``."""
    try:
        return parse_allowed_origins(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dapr-actors",
        description="Run a Dapr actor app with the dev sidecar on this machine, no daprd "
        "needed. Flags are named as in `dapr run`; everything listens on 127.0.0.1 only.",
        epilog="DAPR_API_TOKEN and APP_API_TOKEN in the environment work as with daprd: the "
        "sidecar then requires the first and sends the second to the app. NAMESPACE sets the "
        "sidecar's namespace, as with daprd (default: 'default').",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run an app and the dev sidecar in one process",
        description="Serve MODULE:APP with uvicorn and the dev sidecar in front of it, in one "
        "process. Ctrl-C or SIGTERM stops both: the sidecar deactivates every active actor "
        "(DELETE, as daprd before it exits), requests in flight get "
        f"{SHUTDOWN_SECONDS:g} s in all, then the app's lifespan shutdown runs. The app sees "
        "DAPR_HTTP_PORT, APP_ID and APP_PORT in its environment, as under `dapr run`.",
    )
    run.add_argument(
        "target",
        type=app_target,
        metavar="MODULE:APP",
        help="the ASGI app to serve, e.g. samples.quickstart:app; the current directory is "
        "importable",
    )
    run.add_argument(
        "--app-id",
        help="the app's id in Dapr (state keys, service invocation); default: the last part "
        "of MODULE, e.g. 'quickstart'",
    )
    run.add_argument(
        "--app-port",
        type=port_number,
        default=3000,
        help="port the app listens on (default: %(default)s; 0 picks a free one)",
    )
    _add_sidecar_flags(run)
    run.add_argument(
        "--allowed-origins",
        type=allowed_origins,
        metavar="ORIGINS",
        help="origins whose pages may call the sidecar from a browser (CORS), in daprd's "
        "syntax: comma-separated, '*' for any, '' for none (default: the app's own, "
        'http://127.0.0.1:PORT and http://localhost:PORT, so that "Try it out" in the '
        "app's /docs calls the sidecar)",
    )
    run.set_defaults(handler=_run_command)

    sidecar = commands.add_parser(
        "sidecar",
        help="run only the dev sidecar, in front of an app that runs elsewhere",
        description="Run the dev sidecar in front of an app you start yourself, in either "
        "order. It serves at once; actor calls wait until the app's port accepts connections "
        "and its /dapr/config is read.",
    )
    sidecar.add_argument(
        "--app-url",
        type=http_url,
        required=True,
        help="where the app listens, e.g. http://127.0.0.1:3000",
    )
    sidecar.add_argument(
        "--app-id", default="app", help="the app's id in Dapr (default: %(default)s)"
    )
    _add_sidecar_flags(sidecar)
    sidecar.add_argument(
        "--allowed-origins",
        type=allowed_origins,
        default=(),
        metavar="ORIGINS",
        help="origins whose pages may call the sidecar from a browser (CORS), as daprd's flag: "
        "comma-separated, '*' for any (default: none, as daprd)",
    )
    sidecar.set_defaults(handler=_sidecar_command)

    doctor = commands.add_parser(
        "doctor",
        help="check a running app and its sidecar for what keeps actors from being hosted",
        description="Ask a running app and its sidecar (daprd or the dev sidecar) what daprd "
        "asks, and print one line per check with the fix; exit 1 if any check fails.",
    )
    doctor.add_argument(
        "--app-url",
        type=http_url,
        default="http://127.0.0.1:3000",
        help="where the app listens (default: %(default)s)",
    )
    doctor.add_argument(
        "--sidecar-url",
        type=http_url,
        help="the sidecar's HTTP API (default: DAPR_HTTP_ENDPOINT, else "
        "http://127.0.0.1:$DAPR_HTTP_PORT, port 3500 when unset)",
    )
    doctor.add_argument(
        "--app-token", help="the app's token, as daprd sends it (default: APP_API_TOKEN)"
    )
    doctor.add_argument("--api-token", help="the sidecar's API token (default: DAPR_API_TOKEN)")
    doctor.set_defaults(handler=_doctor_command)
    return parser


def _doctor_command(args: argparse.Namespace) -> int:
    try:
        sidecar_url = args.sidecar_url or sidecar_endpoint(os.environ)
    except ValueError as error:
        raise CliError(str(error)) from None
    findings = diagnose(
        args.app_url,
        sidecar_url,
        app_token=args.app_token or os.environ.get("APP_API_TOKEN"),
        api_token=args.api_token or os.environ.get("DAPR_API_TOKEN"),
    )
    for finding in findings:
        print(finding.line())
    return 0 if all(finding.ok for finding in findings) else 1


def _add_sidecar_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dapr-http-port",
        type=port_number,
        default=3500,
        help="port of the sidecar's Dapr HTTP API (default: %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--resources-path",
        metavar="PATH",
        help="folder (or file) of Dapr resource YAML files; HTTPEndpoint resources are read, "
        "other kinds skipped",
    )
    parser.add_argument(
        "--state-db",
        default=DEFAULT_STATE_DB,
        metavar="FILE",
        help="SQLite file for actor state and reminders, relative to the current directory "
        "(default: ./%(default)s); ':memory:' keeps nothing after exit",
    )
    parser.add_argument(
        "--app",
        dest="apps",
        type=app_entry,
        action="append",
        default=[],
        metavar="NAME=URL",
        help="another app reachable by service invocation, e.g. "
        "inventory=http://127.0.0.1:3001, or inventory.prod=URL for one in namespace 'prod' "
        "(repeatable)",
    )
    parser.add_argument(
        "--invoke-timeout",
        type=timeout_seconds,
        default=DEFAULT_INVOKE_TIMEOUT,
        metavar="SECONDS",
        help="how long a service invocation waits for its target before answering 500 "
        "ERR_DIRECT_INVOKE (default: %(default)g; 0 waits forever, as daprd does without a "
        "resiliency policy)",
    )
    parser.add_argument(
        "--log-level",
        choices=list(LOG_LEVELS),
        default="info",
        help="log level of both servers and of this package (default: %(default)s)",
    )


def _version() -> str:
    return __version__


# -- commands -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedServer:
    name: str
    config: uvicorn.Config
    sock: socket.socket
    banner: str  # printed once it listens
    own_loop: bool = False  # serve on an event loop of its own, in a thread
    # Called the moment a stop is asked for, before any server stops accepting.
    begin_shutdown: Callable[[], None] | None = None
    # Awaited on the server's loop after every begin_shutdown, before any server stops, with
    # the seconds left of SHUTDOWN_SECONDS: the sidecar deactivates its actors while the app
    # still answers, as daprd does before it exits.
    before_stop: Callable[[float], Coroutine[Any, Any, object]] | None = None


@dataclass(frozen=True)
class Plan:
    """What to serve, in start order: the sidecar before the app, whose startup may wait for
    the sidecar; stopped in the reverse order."""

    servers: Sequence[PlannedServer]


def _run_command(args: argparse.Namespace) -> int:
    app_id: str = args.app_id or args.target.partition(":")[0].rpartition(".")[2]
    settings = _settings(args, app_id, app_url="")  # checked before any port is taken
    if args.app_port != 0 and args.app_port == args.dapr_http_port:
        raise CliError(
            f"--app-port and --dapr-http-port are both {args.app_port}; give them different ports"
        )
    with contextlib.ExitStack() as sockets:
        app_sock = sockets.enter_context(bind_loopback(args.app_port, "--app-port"))
        sidecar_sock = sockets.enter_context(bind_loopback(args.dapr_http_port, "--dapr-http-port"))
        app_port, sidecar_port = port_of(app_sock), port_of(sidecar_sock)
        # Set before the import: module-level code may already read them, as under `dapr run`.
        os.environ.update(DAPR_HTTP_PORT=str(sidecar_port), APP_ID=app_id, APP_PORT=str(app_port))
        app = load_app(args.target)
        app_url = f"http://{LOOPBACK}:{app_port}"
        if args.allowed_origins is None:
            args.allowed_origins = (app_url, f"http://localhost:{app_port}")
        settings = _settings(args, app_id, app_url=app_url)
        plan = Plan(
            servers=[
                _planned_sidecar(
                    settings,
                    args,
                    sidecar_sock,
                    f"dev sidecar on http://{LOOPBACK}:{sidecar_port} (state: {settings.state_db})",
                    own_loop=True,  # the app's startup may block its loop waiting for it
                ),
                PlannedServer(
                    f"app {app_id!r}", _config(app, args), app_sock, f"app {app_id!r} on {app_url}"
                ),
            ],
        )
        return _serve_plan(plan, args.log_level)


def _sidecar_command(args: argparse.Namespace) -> int:
    settings = _settings(args, args.app_id, app_url=args.app_url)
    with bind_loopback(args.dapr_http_port, "--dapr-http-port") as sock:
        banner = (
            f"dev sidecar on http://{LOOPBACK}:{port_of(sock)} for app {args.app_id!r} at "
            f"{args.app_url} (state: {settings.state_db}); actor calls wait until the app listens"
        )
        plan = Plan(servers=[_planned_sidecar(settings, args, sock, banner)])
        return _serve_plan(plan, args.log_level)


def _settings(args: argparse.Namespace, app_id: str, *, app_url: str) -> SidecarSettings:
    namespace = namespace_from_env(os.environ)
    apps: dict[str, str] = {}
    for entry, url in args.apps:
        name = _in_own_namespace(entry, namespace)
        if name == app_id:
            raise CliError(
                f"--app {entry}={url}: {app_id!r} in namespace {namespace!r} is this app's own "
                "--app-id"
            )
        if name in apps and apps[name] != url:
            raise CliError(f"--app {name} is given twice ({apps[name]} and {url}); keep one")
        apps[name] = url
    if args.resources_path is not None and not os.path.exists(args.resources_path):
        raise CliError(f"--resources-path {args.resources_path}: no such folder or file")
    return SidecarSettings(
        app_url=app_url,
        app_id=app_id,
        namespace=namespace,
        state_db=_state_db(args.state_db),
        apps=apps,
        resources_path=args.resources_path,
        invoke_timeout=args.invoke_timeout,
        allowed_origins=args.allowed_origins or (),
    )


def _state_db(path: str) -> str:
    if path == ":memory:":
        return path
    absolute = os.path.abspath(path)
    folder = os.path.dirname(absolute)
    if not os.path.isdir(folder):
        raise CliError(f"--state-db {path}: folder {folder} does not exist; create it first")
    return absolute


def _in_own_namespace(name: str, namespace: str) -> str:
    """``--app`` NAME without its namespace when that is the sidecar's: ``a.default`` -> ``a``."""
    app_id, _, its_namespace = name.partition(".")
    return app_id if its_namespace == namespace else name


def _config(app: ASGIApp, args: argparse.Namespace) -> uvicorn.Config:
    return server_config(app, log_level=args.log_level)


def _planned_sidecar(
    settings: SidecarSettings,
    args: argparse.Namespace,
    sock: socket.socket,
    banner: str,
    *,
    own_loop: bool = False,
) -> PlannedServer:
    try:
        app = create_app(settings)
    except sqlite3.Error as error:
        raise CliError(f"cannot open --state-db {settings.state_db}: {error}") from None
    except ResourceError as error:  # its message names the file and what to change
        raise CliError(f"--resources-path {settings.resources_path}: {error}") from None
    # Both servers share uvicorn's one access logger: a call shows as the sidecar's
    # "/v1.0/actors/..." line, then the app's "/actors/..." line.
    return PlannedServer(
        "dev sidecar",
        _config(app, args),
        sock,
        banner,
        own_loop=own_loop,
        # Like daprd once its shutdown began: new actor calls get 503 ERR_ACTOR_RUNTIME_CLOSED
        # while the app still drains, rather than an error about the app's closed port.
        begin_shutdown=app.state.sidecar.begin_shutdown,
        # Like daprd before it exits: DELETE every active actor, so on_deactivate runs.
        before_stop=app.state.sidecar.actors.deactivate_all,
    )


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on uvloop when it is installed (uvicorn[standard] brings it), as uvicorn
    itself would: ``asyncio.run`` alone would never use it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes a server thread's event loop: uvloop's when installed, as ``_run_loop``."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def _serve_plan(plan: Plan, log_level: str) -> int:
    _configure_package_logging(log_level)
    return _run_loop(_serve_until_stopped(plan))


def _configure_package_logging(log_level: str) -> None:
    """Show this package's logs (actor types found, shutdown) like uvicorn's own lines."""
    logger = logging.getLogger("dapr_actors_fastapi")
    handler = logging.StreamHandler()
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(LOG_LEVELS[log_level])
    logger.propagate = False


class Stopper:
    """SIGINT/SIGTERM handling for all servers of the loop: the first signal asks for a graceful
    stop, a second one forces it (as with uvicorn)."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.servers: list[EmbeddedServer] = []

    def __call__(self) -> None:
        if self.requested.is_set():
            for server in self.servers:
                server.force_exit = True  # skip waiting for open connections
        self.requested.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            try:
                loop.add_signal_handler(sig, self)
            except NotImplementedError:  # Windows' event loops
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(self))
        try:
            yield
        finally:
            for sig in signals:
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(sig)


Server = RunningServer | ServerThread


async def _serve_until_stopped(plan: Plan) -> int:
    stopper = Stopper()
    running: list[Server] = []
    with stopper.installed():
        try:
            for planned in plan.servers:
                server = EmbeddedServer(planned.config)
                stopper.servers.append(server)
                running.append(await _launch(planned, server))
                if not await _unless_signalled(running[-1].wait_started(), stopper):
                    break
                print(planned.banner, flush=True)
            else:
                # What start-up loaded (modules, the app, the routes) lives as long as the
                # process: leave it out of the garbage collector's full passes, which otherwise
                # walk it all and stall the loop for tens of milliseconds, making reminders late.
                gc.freeze()
                await _first_signal_or_crash(stopper, running)
        except StartupFailed as error:
            raise CliError(str(error)) from None
        finally:
            for planned in plan.servers:
                if planned.begin_shutdown is not None:
                    planned.begin_shutdown()
            deadline = asyncio.get_running_loop().time() + SHUTDOWN_SECONDS
            await _before_stop(plan, running, deadline)
            await _stop_all(running, deadline)
    crashed = [f"{each.name} ({each.error()!r})" for each in running if each.error()]
    if crashed:
        raise CliError(f"{', '.join(crashed)} stopped unexpectedly; see the log above")
    return 0


async def _launch(planned: PlannedServer, server: EmbeddedServer) -> Server:
    if not planned.own_loop:
        return launch(planned.name, server, planned.sock)
    thread = ServerThread(planned.name, server, planned.sock, _loop_factory())
    await thread.start()
    return thread


async def _before_stop(plan: Plan, running: Sequence[Server], deadline: float) -> None:
    """Each started server's ``before_stop``, on its loop, within what is left until
    ``deadline``; a failure is logged, and the stop goes on."""
    loop = asyncio.get_running_loop()
    for planned, server in zip(plan.servers, running, strict=False):
        if planned.before_stop is None or server.error() is not None:
            continue
        try:
            await server.run_on_loop(planned.before_stop(max(deadline - loop.time(), 0.0)))
        except Exception:
            logging.getLogger(__name__).exception("%s: preparing to stop failed", planned.name)


async def _stop_all(running: Sequence[Server], deadline: float) -> None:
    """Stop in reverse start order, requests in flight within what is left until ``deadline``
    (``SHUTDOWN_SECONDS`` after the stop was asked for).

    The app stops first, while the sidecar still answers the calls its shutdown makes (saving
    actor state); then the sidecar, with what is left of the time (its calls to the app that
    are still open are cancelled then).
    """
    loop = asyncio.get_running_loop()
    for each in reversed(running):
        await each.stop(drain_seconds=deadline - loop.time())


async def _unless_signalled(step: Coroutine[Any, Any, None], stopper: Stopper) -> bool:
    """Run ``step``: True once it is done (its error raised), False if a signal comes first."""
    task = asyncio.create_task(step)
    await _first(task, asyncio.create_task(stopper.requested.wait()))
    if task.cancelled():
        return False
    task.result()
    return True


async def _first_signal_or_crash(stopper: Stopper, running: Sequence[Server]) -> None:
    """Until a signal arrives or a server stops on its own (a crash)."""
    ends = [asyncio.create_task(each.finished()) for each in running]
    await _first(asyncio.create_task(stopper.requested.wait()), *ends)


async def _first(*tasks: asyncio.Future[Any]) -> None:
    """Wait for the first of ``tasks`` to finish, then cancel and reap the others."""
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # seen: the caller reads what it needs; no "never retrieved" log


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (CliError, PortUnavailable) as error:
        print(f"dapr-actors: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the servers took over signals (e.g. on import)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
