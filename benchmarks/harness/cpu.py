"""CPU time read straight from ``/proc``: what a server spent, whatever the machine's speed.

Requests/s swing with everything else the machine runs; the CPU time a server spends per
request holds steady, so the report leads with it. A process' figure is its ``utime + stime``
plus that of its descendants (a server with workers), and of children it has waited for;
``dapr-actors run`` serves the app on its main thread and the dev sidecar on a thread of its
own, so there the figure is read per thread.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs in the venv

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(path: Path) -> list[str]:
    """The fields of a ``stat`` file after the command name (which may contain spaces)."""
    text = path.read_text()
    return text[text.rindex(")") + 2 :].split()


def _seconds(path: Path, *, reaped_children: bool) -> float:
    # Fields 14-17 of proc(5), numbered from 1: utime, stime, cutime, cstime; the split above
    # starts at field 3.
    fields = _stat_fields(path)
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS_PER_SECOND


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every live descendant, and of reaped children."""
    pids = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    total = 0.0
    for each in pids:
        try:
            total += _seconds(PROC / str(each) / "stat", reaped_children=True)
        except FileNotFoundError:  # a child that ended between the listing and the read
            continue
    return total


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU seconds of ``pid``'s main thread, and of all its other threads."""
    main = others = 0.0
    for task in (PROC / str(pid) / "task").iterdir():
        try:
            seconds = _seconds(task / "stat", reaped_children=False)
        except FileNotFoundError:  # a thread that ended between the listing and the read
            continue
        if task.name == str(pid):
            main += seconds
        else:
            others += seconds
    return main, others


def cpu_busy_seconds() -> list[float]:
    """Per CPU, the seconds it has been busy (not idle nor waiting for I/O) since boot."""
    busy = []
    for line in (PROC / "stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            ticks = [int(value) for value in values]
            # user nice system idle iowait irq softirq steal ...: all but idle and iowait
            busy.append((sum(ticks[:8]) - ticks[3] - ticks[4]) / TICKS_PER_SECOND)
    return busy
