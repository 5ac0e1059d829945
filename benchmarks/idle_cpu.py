"""What an idle dev sidecar costs (issue #12: no measurable CPU when nothing is due).

    python benchmarks/idle_cpu.py                  # 30 s idle, 3 rounds
    python benchmarks/idle_cpu.py --seconds 10 --rounds 1

Starts ``benchmarks/apps/burst.py`` under uvicorn and the dev sidecar in front of it (two
processes, as ``benchmarks/reminder_burst.py`` does), activates ``--actors`` actors with one call
each and registers as many reminders due in an hour, then leaves both alone for ``--seconds``.
Reports, per round, the sidecar's CPU over that time (utime + stime from ``/proc``, which counts
in clock ticks, 10 ms here) and how often its threads woke up (voluntary context switches),
then the medians. Nothing is pinned.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from benchmarks.reminder_burst import cpu_seconds, servers, wait_ready


@dataclass(frozen=True)
class IdleRound:
    seconds: float
    cpu: float  # sidecar CPU seconds over the idle time
    wakeups: int  # voluntary context switches of the sidecar's threads over the idle time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="idle time (default: 30)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--actors", type=int, default=100, help="active actors (default: 100)")
    args = parser.parse_args()
    rounds = [asyncio.run(measure(args.seconds, args.actors)) for _ in range(args.rounds)]
    for n, each in enumerate(rounds, 1):
        print(
            f"round {n}: {each.seconds:.0f} s idle: sidecar CPU {each.cpu * 1000:.0f} ms, "
            f"{each.wakeups} wakeups ({each.wakeups / each.seconds:.1f}/s)"
        )
    cpu = statistics.median(each.cpu for each in rounds)
    wakeups = statistics.median(each.wakeups / each.seconds for each in rounds)
    print(
        f"median: sidecar CPU {cpu * 1000:.0f} ms per {args.seconds:g} s "
        f"({cpu / args.seconds * 100:.2f} %), {wakeups:.1f} wakeups/s"
    )
    return 0


async def measure(seconds: float, actors: int) -> IdleRound:
    with (
        tempfile.TemporaryDirectory() as folder,
        servers(Path(folder) / "state.db") as (_, url, sidecar_pid),
    ):
        async with aiohttp.ClientSession(url) as http:
            await wait_ready(http)
            await settle(http, actors)
        await asyncio.sleep(1.0)  # let the last responses and connection closes pass
        cpu, wakeups = cpu_seconds(sidecar_pid), voluntary_switches(sidecar_pid)
        await asyncio.sleep(seconds)
        return IdleRound(
            seconds,
            cpu_seconds(sidecar_pid) - cpu,
            voluntary_switches(sidecar_pid) - wakeups,
        )


async def settle(http: aiohttp.ClientSession, actors: int) -> None:
    """Activate ``actors`` probe actors and give as many drones a reminder due in an hour."""
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    for n in range(actors):
        async with http.put(f"/v1.0/actors/probe/{n}/method/ping") as response:
            if response.status != 200:
                raise SystemExit(f"probe {n}: {response.status} {await response.text()}")
        body = {"dueTime": due, "period": "1h"}
        async with http.put(f"/v1.0/actors/drone/{n}/reminders/later", json=body) as response:
            if response.status != 204:
                raise SystemExit(f"drone {n}: {response.status} {await response.text()}")


def voluntary_switches(pid: int) -> int:
    """Voluntary context switches of every thread of ``pid`` (Linux ``/proc``): each is a
    thread going to sleep, so their count is how often the process woke up."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        for line in Path(f"/proc/{pid}/task/{task}/status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


if __name__ == "__main__":
    sys.exit(main())
