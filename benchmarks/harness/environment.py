"""The machine and software a run measured, detected at run time and printed with the results."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def machine_line(env: dict[str, str]) -> str:
    return f"{env['cpu']}, {env['cores']} cores, Linux {env['kernel']}"


def software_line(env: dict[str, str], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {env[name]}" for name in names) + f"; {env['wrk']}"


def environment() -> dict[str, str]:
    def version(distribution: str) -> str:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    packages = [
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "aiohttp",
        "dapr",
        "dapr-ext-fastapi",
    ]
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in packages},
        "sqlite": sqlite3.sqlite_version,
        "dapr-actors-fastapi": f"{version('dapr-actors-fastapi')} (commit {library_commit()})",
        "wrk": (wrk.stdout + wrk.stderr).split("Copyright")[0].strip(),
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
    }


def load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def library_commit() -> str:
    """The checked-out commit, marked dirty if the library's files differ from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("-dirty" if git("status", "--porcelain", "--", "dapr_actors_fastapi") else "")


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
