"""The processes a measurement starts: the servers under test, the dev sidecar under
``dapr-actors run``, the stateful scenario's stub sidecar, and the harness' own in-thread stub.

Each is a context manager that starts it pinned to a core, waits until it is ready, checks one
answer, and stops it with SIGTERM (uvicorn's graceful shutdown, lifespan included).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

from .cpu import process_cpu_seconds, thread_cpu_seconds
from .probes import BODY, BenchmarkError, expect_fly, free_port, http_request, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_CPU, CLIENT_CPU = "0", "1"
READY_TIMEOUT = 180.0  # a busy machine has starved a starting server for over 60 s
SETTLE_SECONDS = 1.0
# Ours deactivates every live actor at shutdown (100k in the memory and scale runs), which a
# server starved of its core by other work may take minutes over.
STOP_TIMEOUT = 300.0

METHOD_PATH = "/actors/x-wing/{id}/method/fly"
LIVE_PATH = "/bench/live-actors"
STUB_STATS_PATH = "/stub/stats"
SIDECAR_APP_ID = "bench"

# The servers under uvicorn: a variant's name, the ASGI app it serves ("module:attribute").
APPS = {
    "ours": "benchmarks.apps.ours:app",  # the runtime's router, app.include_router
    "front-door": "benchmarks.apps.front_door:app",  # runtime.front_door(FastAPI app)
    "peer": "benchmarks.apps.peer:app",  # dapr-ext-fastapi
    "raw": "benchmarks.apps.raw:app",  # an echo route in FastAPI: no actor runtime
    "bare": "benchmarks.apps.bare:app",  # an echo with no framework at all
    "plain": "benchmarks.apps.plain:app",  # a FastAPI route, the pass-through scenario's
    "plain-front-door": "benchmarks.apps.plain:front_door",  # the same behind the front door
}


class StubSidecar:
    """Answers 204 to everything and records what it was asked.

    The peer needs it at start-up only: registering an actor type builds the SDK's HTTP client,
    which blocks until ``GET /v1.0/healthz/outbound`` answers 2xx. Any request recorded while
    the peer is being measured fails the run, as a real sidecar call would skew the numbers.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                calls.append(f"{self.command} {self.path}")
                self.send_response(204)
                self.end_headers()

            do_GET = do_PUT = do_POST = do_DELETE = answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the recorded calls are the log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StubSidecar:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextlib.contextmanager
    def forbid_calls(self, server: str) -> Iterator[None]:
        before = len(self.calls)
        yield
        if len(self.calls) != before:
            raise BenchmarkError(
                f"{server} called the sidecar while measured: {self.calls[before:]}"
            )


class Process:
    """A server process pinned to ``cpu`` (SERVER_CPU unless a subclass says otherwise), its
    output in a log; a context manager that starts it, waits until it is ready, checks one
    answer, and stops it with SIGTERM."""

    cpu = SERVER_CPU
    stop_timeout = STOP_TIMEOUT

    def __init__(self, name: str, port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.log_path = log_path
        self.stop_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def check(self) -> None:
        """The answer the process must give before it is measured."""

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> Self:
        self._start()
        try:
            wait_until(self._alive_and_ready, READY_TIMEOUT, f"{self.name} to be ready")
            self.check()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._stop()

    def _start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                ["taskset", "-c", self.cpu, *self.command()],
                stdout=log, stderr=subprocess.STDOUT, env=self.environment(), cwd=REPO_ROOT,
            )  # fmt: skip

    def _alive_and_ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise BenchmarkError(
                f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}"
            )
        return self.ready()

    def _stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        started = time.monotonic()
        self._process.send_signal(signal.SIGTERM)  # graceful shutdown, lifespan included
        try:
            self._process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise BenchmarkError(
                f"{self.name} ignored SIGTERM for {self.stop_timeout:.0f}s and was killed"
            ) from None
        self.stop_seconds = time.monotonic() - started

    def cpu_seconds(self) -> float:
        """User + system CPU time the process (and its children) has used so far."""
        return process_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Server(Process):
    """One app of ``benchmarks/apps`` (``APPS[name]``) under uvicorn (1 worker)."""

    def __init__(self, name: str, sidecar_port: int, log_path: Path) -> None:
        if name not in APPS:
            raise ValueError(f"no server named {name!r}; choose from {', '.join(APPS)}")
        super().__init__(name, free_port(), log_path)
        self._sidecar_port = sidecar_port

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", APPS[self.name],
            "--app-dir", str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if k not in ("APP_API_TOKEN", "DAPR_HTTP_ENDPOINT")
        }
        return env | {"DAPR_RUNTIME_HOST": "127.0.0.1", "DAPR_HTTP_PORT": str(self._sidecar_port),
                      "DAPR_HEALTH_TIMEOUT": "10"}  # fmt: skip

    def check(self) -> None:
        if self.name.startswith("plain"):
            answer = http_request(self.port, "GET", "/ships/x")
            if answer[0] != 200 or json.loads(answer[2]) != {"ship": "x"}:
                raise BenchmarkError(f"{self.name} answered {answer}, expected 200 {{'ship': 'x'}}")
            return
        expect_fly(self.name, http_request(self.port, "PUT", METHOD_PATH.format(id="ship-0"), BODY))

    def live_actors(self) -> int:
        status, _, body = http_request(self.port, "GET", LIVE_PATH)
        if status != 200:
            raise BenchmarkError(f"{self.name} {LIVE_PATH} answered {status}: {body!r}")
        live: int = json.loads(body)["live"]
        return live

    def rss(self) -> int:
        """Resident set size of the server, children included (there are none with 1 worker)."""
        process = psutil.Process(self.pid)
        return sum(p.memory_info().rss for p in (process, *process.children(recursive=True)))


class DevRun(Process):
    """An app and the dev sidecar in front of it, as ``dapr-actors run`` serves them: one
    process, the app on its main thread, the sidecar on an event loop in a thread of its own.

    ``port`` is the sidecar's; ``app_port`` the app's. Tokens are unset.
    """

    # At exit the sidecar may deactivate its active actors through the app, one call each:
    # with 100,000 live that is minutes of calls, not a hang.
    stop_timeout = 2 * STOP_TIMEOUT

    def __init__(self, state_db: str, log_path: Path, target: str = APPS["ours"]) -> None:
        super().__init__("dapr-actors run", free_port(), log_path)
        self.app_port = free_port()
        self.state_db = state_db
        self._target = target

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli", "run", self._target,
            "--app-id", SIDECAR_APP_ID, "--app-port", str(self.app_port),
            "--dapr-http-port", str(self.port), "--state-db", self.state_db,
            "--log-level", "warning",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in ("DAPR_API_TOKEN", "APP_API_TOKEN")}

    def ready(self) -> bool:
        """``/v1.0/healthz`` answers 204 once the app's actor config is loaded (500 before)."""
        try:
            return http_request(self.port, "GET", "/v1.0/healthz")[0] == 204
        except OSError:  # not listening yet
            return False

    def check(self) -> None:
        """A call through the sidecar and one straight to the app both answer ``fly``."""
        path = METHOD_PATH.format(id="ship-0")
        expect_fly(f"{self.name} (sidecar)", http_request(self.port, "PUT", "/v1.0" + path, BODY))
        expect_fly(f"{self.name} (app)", http_request(self.app_port, "PUT", path, BODY))

    def split_cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds so far of the app (the main thread) and of the sidecar (its loop's
        thread, and any worker thread: the app's ``fly`` and ``hold`` start none)."""
        return thread_cpu_seconds(self.pid)

    def active_actors(self) -> int:
        status, _, body = http_request(self.port, "GET", "/v1.0/metadata")
        if status != 200:
            raise BenchmarkError(f"{self.name} /v1.0/metadata answered {status}: {body!r}")
        counts = {entry["type"]: entry["count"] for entry in json.loads(body)["actors"]}
        active: int = counts.get("x-wing", 0)
        return active

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)


class StubProcess(Process):
    """``stub_sidecar.py`` under uvicorn (uvloop, httptools), pinned to CLIENT_CPU with wrk:
    the stateful scenario's sidecar, so that CPU 0 serves the app alone, as next to daprd."""

    cpu = CLIENT_CPU

    def __init__(self, log_path: Path) -> None:
        super().__init__("stub sidecar", free_port(), log_path)

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "benchmarks.stub_sidecar:app",
            "--app-dir", str(REPO_ROOT), "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    def ready(self) -> bool:
        try:
            return http_request(self.port, "GET", STUB_STATS_PATH)[0] == 200
        except OSError:  # not listening yet
            return False

    def stats(self) -> dict[str, int]:
        status, _, body = http_request(self.port, "GET", STUB_STATS_PATH)
        if status != 200:
            raise BenchmarkError(f"{self.name} {STUB_STATS_PATH} answered {status}: {body!r}")
        stats: dict[str, int] = json.loads(body)
        return stats

    def settled_stats(self) -> dict[str, int]:
        """The counters once requests still in flight (wrk's last ones) have landed: unchanged
        for SETTLE_SECONDS, as an app starved of its core by other work may hold a turn that
        long (p99 latencies of half a second happen on a busy machine)."""
        previous, since = self.stats(), time.monotonic()
        deadline = since + READY_TIMEOUT
        while time.monotonic() - since < SETTLE_SECONDS:
            time.sleep(0.1)
            current = self.stats()
            if current != previous:
                previous, since = current, time.monotonic()
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.name} kept receiving requests after wrk ended")
        return previous
