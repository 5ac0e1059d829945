"""Scenarios of the app alone, served by uvicorn and called straight: ours (the router), ours
behind the front door, the peer, a raw FastAPI route, a bare ASGI app; the front door's
pass-through cost; and the host at growing numbers of live actors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .context import Context, log
from .load import (
    CALLS_LUA,
    Calls,
    Sample,
    activate_exactly,
    measured_run,
    run_wrk,
)
from .probes import BenchmarkError, wait_until
from .processes import CLIENT_CPU, REPO_ROOT, Server

STATELESS_IDS = 1000
WARM_IDS = 100  # live actors before a memory scenario's first RSS reading
SLOW_STOP = 5.0
INPROCESS = Path(__file__).resolve().parents[1] / "inprocess.py"
IN_PROCESS_CALLS = 2000  # per round and side: ~0.4 s of CPU
FLY = Calls("/actors/x-wing/%s/method/fly", STATELESS_IDS, body='{"destination":"Hoth"}')

Measure = Callable[[Context, Server, str], Sample]
Run = Callable[[Context, str, str], Sample]  # (context, variant, tag) -> one round's sample


def stateless(context: Context, server: Server, tag: str) -> Sample:
    """Requests/s and CPU per request over STATELESS_IDS live actors, after a warm-up that
    activates them."""
    ids = str(STATELESS_IDS)
    run_wrk(server, context.options.warmup, ["stateless", ids])
    meters = {"server": server.cpu_seconds}
    return measured_run(server, context.options.duration, ["stateless", ids], meters)


def activations(context: Context, server: Server, tag: str) -> Sample:
    """Activations/s: every request goes to a never-seen actor id."""
    run_wrk(server, context.options.warmup, ["activate", f"{context.run_id}-{tag}-warm"])
    args = ["activate", f"{context.run_id}-{tag}"]
    return measured_run(server, context.options.duration, args, {"server": server.cpu_seconds})


def memory(context: Context, server: Server, tag: str) -> Sample:
    """RSS growth per live actor while ``options.actors`` new actors are activated."""
    # Warm-up: exercise the whole path once (imports, caches, pools) and keep WARM_IDS live.
    run_wrk(server, 1, ["stateless", str(WARM_IDS)])
    wait_until(
        lambda: server.live_actors() == WARM_IDS, 30, f"{WARM_IDS} warm actors on {server.name}"
    )
    actors = context.options.actors
    before, cpu_before = server.rss(), server.cpu_seconds()
    activate_exactly(
        server, server.live_actors, actors, ["activate", f"{context.run_id}-{tag}", str(actors)]
    )
    after = server.rss()
    return {
        "bytes_per_actor": (after - before) / actors,
        "cpu_us": (server.cpu_seconds() - cpu_before) * 1e6 / actors,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
    }


def passthrough(context: Context, server: Server, tag: str) -> Sample:
    """``GET /ships/{ship}`` on a plain FastAPI route, with or without the front door."""
    calls = Calls("/ships/%s", STATELESS_IDS, verb="GET")
    run_wrk(server, context.options.warmup, calls.args(), CALLS_LUA)
    meters = {"server": server.cpu_seconds}
    return measured_run(server, context.options.duration, calls.args(), meters, CALLS_LUA)


def passthrough_in_process(context: Context, tag: str) -> Sample:
    """``inprocess.py --passthrough``: the same route straight and through the front door in
    alternating rounds of one process, to a tenth of a µs. It reads its own CPU time, so it
    runs on the client core, idle between wrk runs (other work crowds the server core)."""
    rounds = max(4, 2 * context.options.duration)
    command = [
        "taskset", "-c", CLIENT_CPU, sys.executable, str(INPROCESS), "--passthrough",
        "--rounds", str(rounds), "--calls", str(IN_PROCESS_CALLS),
    ]  # fmt: skip
    log_path = context.log_dir / f"{tag}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    log_path.write_text(done.stdout + done.stderr)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise BenchmarkError(f"{INPROCESS.name} --passthrough failed:\n{done.stdout}{done.stderr}")
    sample: Sample = json.loads(match.group(1))
    return sample


def host_scale(context: Context, variant: str, tag: str) -> Sample:
    """``fly`` spread round robin over N live actors (N: the variant), all activated first."""
    calls = Calls(FLY.path, int(variant), body=FLY.body)
    with (
        Server("ours", context.sidecar.port, context.log_dir / f"{tag}.log") as server,
        context.sidecar.forbid_calls("ours"),
    ):
        # The server's start-up check activated ship-0, one of the N.
        new = calls.ids - server.live_actors()
        activate_exactly(server, server.live_actors, new, calls.args(calls.ids), CALLS_LUA)
        run_wrk(server, context.options.warmup, calls.args(), CALLS_LUA)
        meters = {"server": server.cpu_seconds}
        return measured_run(server, context.options.duration, calls.args(), meters, CALLS_LUA)


def passthrough_run(context: Context, variant: str, tag: str) -> Sample:
    """The pass-through scenario's variants: two servers under wrk, or the in-process pair."""
    if variant == "in-process":
        return passthrough_in_process(context, tag)
    return on_fresh_server(passthrough)(context, variant, tag)


def on_fresh_server(measure: Measure) -> Run:
    """Run ``measure`` on a fresh server named by the variant, with the stub sidecar."""

    def run(context: Context, server_name: str, tag: str) -> Sample:
        log_path = context.log_dir / f"{tag}.log"
        # The sidecar may only be called while the server starts (the peer's health wait).
        with (
            Server(server_name, context.sidecar.port, log_path) as server,
            context.sidecar.forbid_calls(server_name),
        ):
            sample = measure(context, server, tag)
        sample["stop_s"] = server.stop_seconds  # shutdown deactivates every live actor (ours)
        if server.stop_seconds > SLOW_STOP:
            log(f"  note: {server_name} took {server.stop_seconds:.1f}s to shut down ({tag})")
        return sample

    return run
