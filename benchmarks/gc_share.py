"""How much of a relayed call's time the garbage collector takes as live actors grow: the
profile behind the flat-cost figure of the dev sidecar (benchmarks/README.md, "Flat cost").

    python benchmarks/gc_share.py 1000
    python benchmarks/gc_share.py 100000

Starts ``dapr-actors run benchmarks.apps.ours:app`` pinned to CPU 0 (app and dev sidecar in
one process, as the harness measures them), activates N x-wings through the sidecar, then
drives relayed ``fly`` calls round robin over them with wrk (CPU 1, ``calls.lua``) and samples
the process with ``py-spy record --native`` (15 s at 200 Hz). Prints wrk's result and the share
of samples inside CPython's cyclic garbage collector. Needs Linux, ``taskset``, ``wrk`` and
``py-spy`` (in the venv or on PATH).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from benchmarks.reminder_burst import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
FLY = "/v1.0/actors/x-wing/{}/method/fly"
BODY = '{"destination":"Hoth"}'
GC_FRAMES = ("gc_collect_main", "collect_with_callback", "gc_collect")
ACTIVATING_CALLS = 64
SAMPLE_SECONDS = 15


def wait_ready(url: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/v1.0/healthz", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def activate(url: str, count: int) -> None:
    ids = iter(range(count))  # shared by the workers
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for n in ids:
                async with session.put(url + FLY.format(f"ship-{n}"), data=BODY) as answer:
                    if answer.status != 200:
                        raise RuntimeError(f"ship-{n}: {answer.status} {await answer.text()}")

        await asyncio.gather(*(worker() for _ in range(ACTIVATING_CALLS)))


def gc_share(raw_profile: Path) -> tuple[int, int]:
    """(samples, samples with a garbage collector frame) of a py-spy ``raw`` profile."""
    total = in_gc = 0
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        if any(frame in stack for frame in GC_FRAMES):
            in_gc += int(count)
    return total, in_gc


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if py_spy is None:
        print("needs py-spy: pip install py-spy", file=sys.stderr)
        return 2
    app_port, sidecar_port = free_port(), free_port()
    url = f"http://127.0.0.1:{sidecar_port}"
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "dapr_actors_fastapi.sidecar.cli", "run",
        "benchmarks.apps.ours:app", "--app-id=bench", f"--app-port={app_port}",
        f"--dapr-http-port={sidecar_port}", "--state-db=:memory:", "--log-level=warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "profile.txt"
        try:
            wait_ready(url)
            started = time.monotonic()
            asyncio.run(activate(url, count))
            print(f"activated {count:,} actors in {time.monotonic() - started:.0f} s", flush=True)
            wrk = subprocess.Popen(
                ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SAMPLE_SECONDS + 10}s",
                 "-s", str(REPO_ROOT / "benchmarks" / "calls.lua"), url, "--",
                 "PUT", FLY.format("%s"), BODY, "200", "ship", str(count)],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(5)  # wrk's warm-up, not a wait for an event: the sampled window follows
            subprocess.run(
                [py_spy, "record", "--native", "-r", "200", "-d", str(SAMPLE_SECONDS),
                 "-p", str(server.pid), "-f", "raw", "-o", str(profile)],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            print(wrk.communicate()[0].strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(600)
        total, in_gc = gc_share(profile)
    print(f"{count:,} live actors: {in_gc} of {total} samples in the garbage collector "
          f"({100 * in_gc / max(total, 1):.1f} %)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
