"""Scenarios of the dev sidecar, served as ``dapr-actors run`` serves it (app and sidecar in one
process, each on its own thread, the process pinned to the server core): a ``fly`` call relayed
through the sidecar against one straight to the app, state transactions into ``:memory:`` or a
file, and relayed calls at growing numbers of live actors.

The app's CPU is its main thread's, the sidecar's every other thread's, both from ``/proc``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .context import Context
from .hosting import FLY, STATELESS_IDS
from .load import (
    CALLS_LUA,
    SIDECAR_LUA,
    Calls,
    Endpoint,
    Sample,
    Target,
    activate_exactly,
    measured_run,
    run_wrk,
)
from .probes import BenchmarkError, http_request
from .processes import DevRun

STATE_VALUE_PATH = "/v1.0/actors/x-wing/{id}/state/k"  # the key sidecar.lua's upserts write
STATE_VALUE = {"n": 1}
RELAYED_FLY = Calls("/v1.0" + FLY.path, STATELESS_IDS, body=FLY.body)


def meters(run: DevRun) -> dict[str, Callable[[], float]]:
    return {
        "app": lambda: run.split_cpu_seconds()[0],
        "sidecar": lambda: run.split_cpu_seconds()[1],
    }


def sidecar_overhead(context: Context, variant: str, tag: str) -> Sample:
    """The stateless ``fly`` call over STATELESS_IDS ids, straight to the app ("direct") or
    relayed through the sidecar ("relayed"), on the same kind of process."""
    args = ["fly", "app" if variant == "direct" else "sidecar", str(STATELESS_IDS)]
    with DevRun(":memory:", context.log_dir / f"{tag}.log") as run:
        target: Target = run if variant == "relayed" else Endpoint(f"{run.name} app", run.app_port)
        run_wrk(target, context.options.warmup, args, SIDECAR_LUA)
        return measured_run(target, context.options.duration, args, meters(run), SIDECAR_LUA)


def state_transactions(context: Context, variant: str, tag: str) -> Sample:
    """One-upsert state transactions over STATELESS_IDS active actors, to a file or :memory:."""
    state_db = ":memory:" if variant == "memory" else str(context.log_dir / f"{tag}.db")
    args = ["state", str(STATELESS_IDS)]
    with DevRun(state_db, context.log_dir / f"{tag}.log") as run:
        # The sidecar only writes state of active actors (400 ERR_ACTOR_INSTANCE_MISSING).
        activate_relayed(run, STATELESS_IDS)
        run_wrk(run, context.options.warmup, args, SIDECAR_LUA)
        sample = measured_run(run, context.options.duration, args, meters(run), SIDECAR_LUA)
        check_state(run)
    return sample


def sidecar_scale(context: Context, variant: str, tag: str) -> Sample:
    """Relayed ``fly`` calls spread round robin over N active actors (N: the variant), all
    activated through the sidecar first."""
    calls = Calls(RELAYED_FLY.path, int(variant), body=RELAYED_FLY.body)
    with DevRun(":memory:", context.log_dir / f"{tag}.log") as run:
        activate_relayed(run, calls.ids)
        run_wrk(run, context.options.warmup, calls.args(), CALLS_LUA)
        return measured_run(run, context.options.duration, calls.args(), meters(run), CALLS_LUA)


def activate_relayed(run: DevRun, count: int) -> None:
    """A relayed ``fly`` to each of ship-0 .. ship-(count-1); exactly those are then active
    (the process' own check activated ship-0 already)."""
    calls = Calls(RELAYED_FLY.path, count, body=RELAYED_FLY.body)
    already = run.active_actors()
    activate_exactly(run, run.active_actors, count - already, calls.args(count), CALLS_LUA)


def check_state(run: DevRun) -> None:
    """The upserts landed, and a file database really is in WAL mode.

    ship-1 is the first id sidecar.lua sends (wrk builds, and never sends, one request first),
    and ship-0 the last of a lap, which a slow run may not reach."""
    status, _, body = http_request(run.port, "GET", STATE_VALUE_PATH.format(id="ship-1"))
    if status != 200 or json.loads(body) != STATE_VALUE:
        raise BenchmarkError(f"{run.name} state read answered {status} {body!r}")
    if run.state_db != ":memory:" and not Path(run.state_db + "-wal").exists():
        raise BenchmarkError(f"{run.state_db} has no -wal file: not in WAL mode")
