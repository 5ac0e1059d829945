"""Scenarios with state saved through a stub sidecar (``stub_sidecar.py`` in its own process,
on the client core): the stateful turn of ours and the peer, and the memory a live actor with
one cached key costs."""

from __future__ import annotations

import json
import time

from .context import Context
from .cpu import cpu_busy_seconds
from .hosting import STATELESS_IDS, WARM_IDS
from .load import (
    CALLS_LUA,
    CONNECTIONS,
    STATEFUL_LUA,
    Calls,
    Sample,
    activate_exactly,
    latency_sample,
    run_wrk,
)
from .probes import BenchmarkError, http_request, wait_until
from .processes import CLIENT_CPU, SERVER_CPU, Server, StubProcess

COUNT_PATH = "/actors/x-wing/{id}/method/count"  # the stateful method of both actor apps
STUB_COUNT_PATH = "/v1.0/actors/x-wing/{id}/state/count"  # the stored count, on the stub
HOLD_PATH = "/actors/x-wing/%s/method/hold"  # sets one 100-character key, saved at turn end


def stateful_turns(context: Context, server_name: str, tag: str) -> Sample:
    """Turns/s of ``count`` (one state read, one write, one transaction per turn) over
    STATELESS_IDS actors, the app on CPU 0 and a fresh stub sidecar on CPU 1 with wrk.

    The warm-up activates every id (its first turn reads ``count`` from the stub; both
    frameworks cache what they read). The stub's counters around the measured run give the
    turns it saved (the growth of the stored counts) and the sidecar requests per turn.
    """
    ids = [str(STATELESS_IDS)]
    with (
        StubProcess(context.log_dir / f"{tag}-stub.log") as stub,
        Server(server_name, stub.port, context.log_dir / f"{tag}.log") as server,
    ):
        check_stateful(server, stub)
        run_wrk(server, context.options.warmup, ids, STATEFUL_LUA)
        before = stub.settled_stats()
        app_before, stub_before, busy_before = (
            server.cpu_seconds(), stub.cpu_seconds(), cpu_busy_seconds()
        )  # fmt: skip
        started = time.monotonic()
        result = run_wrk(server, context.options.duration, ids, STATEFUL_LUA)
        elapsed = time.monotonic() - started
        app_cpu, stub_cpu = server.cpu_seconds() - app_before, stub.cpu_seconds() - stub_before
        busy = [b - a for a, b in zip(busy_before, cpu_busy_seconds(), strict=True)]
        after = stub.settled_stats()
    check_stub(stub.name, after)
    turns = after["count_total"] - before["count_total"]
    # Every 200 wrk counted is a saved turn; up to CONNECTIONS more were still in flight when
    # wrk stopped, and landed before the counters settled.
    if not result.requests <= turns <= result.requests + CONNECTIONS:
        raise BenchmarkError(
            f"{server_name}: the stub saved {turns} turns while wrk counted {result.requests} "
            f"answers: lost or extra state writes"
        )
    return latency_sample(result) | {
        "transactions_per_turn": (after["transactions"] - before["transactions"]) / turns,
        "reads_per_turn": (after["reads"] - before["reads"]) / turns,
        "cpu_us": app_cpu * 1e6 / turns,  # the app's
        "stub_cpu_us": stub_cpu * 1e6 / turns,
        "app_busy_pct": 100 * app_cpu / elapsed,
        "cpu0_other_pct": 100 * max(0.0, busy[int(SERVER_CPU)] - app_cpu) / elapsed,
        "cpu1_busy_pct": 100 * busy[int(CLIENT_CPU)] / elapsed,
    }


def check_stateful(server: Server, stub: StubProcess) -> None:
    """Before timing: two turns on a fresh actor answer 1 then 2, the stub stored 2, and the
    bodies it received were valid transactions."""
    path = COUNT_PATH.format(id="check-0")
    for expected in (1, 2):
        status, content_type, body = http_request(server.port, "PUT", path)
        if status != 200 or json.loads(body) != expected:
            raise BenchmarkError(
                f"{server.name} count answered {status} {content_type!r} {body!r}, "
                f"expected 200 {expected}"
            )
    status, _, body = http_request(stub.port, "GET", STUB_COUNT_PATH.format(id="check-0"))
    if status != 200 or json.loads(body) != 2:
        raise BenchmarkError(f"{stub.name} holds {status} {body!r} for check-0's count, not 2")
    check_stub(stub.name, stub.settled_stats())


def check_stub(name: str, stats: dict[str, int]) -> None:
    wrong = {key: stats[key] for key in ("invalid", "unexpected", "count_skips") if stats[key]}
    if wrong:
        raise BenchmarkError(f"{name} saw {wrong} (see its log)")


def state_memory(context: Context, variant: str, tag: str) -> Sample:
    """RSS growth per live actor of ours while ``options.actors`` new actors each set one key
    of 100 characters, saved through a fresh stub sidecar (and kept in the actor's cache)."""
    actors = context.options.actors
    with (
        StubProcess(context.log_dir / f"{tag}-stub.log") as stub,
        Server(variant, stub.port, context.log_dir / f"{tag}.log") as server,
    ):
        warm = Calls(HOLD_PATH, WARM_IDS)  # ship-0 .. ship-99; the start-up check woke ship-0
        run_wrk(server, 1, warm.args(), CALLS_LUA)
        wait_until(lambda: server.live_actors() == WARM_IDS, 30, f"{WARM_IDS} warm actors")
        before, cpu_before = server.rss(), server.cpu_seconds()
        calls = Calls(HOLD_PATH, actors, prefix=f"{context.run_id}-{tag}")
        activate_exactly(server, server.live_actors, actors, calls.args(actors), CALLS_LUA)
        after, cpu_after = server.rss(), server.cpu_seconds()
        stats = stub.settled_stats()
    check_stub(stub.name, stats)
    if stats["actors"] < actors + WARM_IDS:
        raise BenchmarkError(
            f"{stub.name} holds state of {stats['actors']} actors, expected at least "
            f"{actors + WARM_IDS}: some turns saved nothing"
        )
    return {
        "bytes_per_actor": (after - before) / actors,
        "cpu_us": (cpu_after - cpu_before) * 1e6 / actors,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
    }
