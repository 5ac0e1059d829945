"""Detecting several worker processes behind one sidecar, signal by signal, and the runtime's
refusal and opt-in. tests/test_workers.py runs real ``uvicorn --workers 2``."""

from __future__ import annotations

import multiprocessing
from types import SimpleNamespace
from typing import Any

import pytest

from dapr_actors_fastapi import (
    Actor,
    ActorConfigError,
    ActorRuntime,
    MultipleWorkersError,
    method,
)
from dapr_actors_fastapi._hosting.worker_processes import SeveralWorkers, several_workers

from ..helpers import make_app


def subprocess_started() -> None:
    """Stands in for uvicorn's worker entry point, which the check recognises by module."""


subprocess_started.__module__ = "uvicorn._subprocess"


def uvicorn_worker(workers: int, *, reload: bool = False) -> Any:
    """What ``multiprocessing.current_process()`` is in a process uvicorn spawned."""
    config = SimpleNamespace(workers=workers, should_reload=reload)
    return SimpleNamespace(_target=subprocess_started, _kwargs={"config": config})


MAIN = multiprocessing.current_process()
GUNICORN = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}


@pytest.mark.parametrize(
    ("environ", "argv", "process", "expected"),
    [
        # uvicorn's own Config is authoritative, a stray WEB_CONCURRENCY included.
        ({}, ["uvicorn"], uvicorn_worker(2), SeveralWorkers(2, "uvicorn --workers 2")),
        ({"WEB_CONCURRENCY": "4"}, ["uvicorn"], uvicorn_worker(1), None),
        ({}, ["uvicorn"], uvicorn_worker(4, reload=True), None),
        # gunicorn: command line, then GUNICORN_CMD_ARGS, then WEB_CONCURRENCY, else one.
        (
            GUNICORN,
            ["gunicorn", "-k", "uvicorn_worker.UvicornWorker", "-w", "3", "app:app"],
            MAIN,
            SeveralWorkers(3, "gunicorn -w 3, from the command line"),
        ),
        (
            GUNICORN,
            ["gunicorn", "--workers=2", "app:app"],
            MAIN,
            SeveralWorkers(2, "gunicorn -w 2, from the command line"),
        ),
        (GUNICORN, ["gunicorn", "-w1", "app:app"], MAIN, None),
        (
            {**GUNICORN, "GUNICORN_CMD_ARGS": "--bind 0.0.0.0:3000 --workers 5"},
            ["gunicorn", "app:app"],
            MAIN,
            SeveralWorkers(5, "gunicorn -w 5, from GUNICORN_CMD_ARGS"),
        ),
        (
            {**GUNICORN, "WEB_CONCURRENCY": "2"},
            ["gunicorn", "app:app"],
            MAIN,
            SeveralWorkers(2, "gunicorn with WEB_CONCURRENCY=2"),
        ),
        (GUNICORN, ["gunicorn", "app:app"], MAIN, None),
        # Any other server: WEB_CONCURRENCY alone.
        ({"WEB_CONCURRENCY": "2"}, ["hypercorn"], MAIN, SeveralWorkers(2, "WEB_CONCURRENCY=2")),
        ({"WEB_CONCURRENCY": "1"}, ["uvicorn"], MAIN, None),
        ({"WEB_CONCURRENCY": "lots"}, ["uvicorn"], MAIN, None),
        ({}, ["uvicorn", "app:app"], MAIN, None),
    ],
)
def test_signals_of_several_workers(
    environ: dict[str, str], argv: list[str], process: Any, expected: SeveralWorkers | None
) -> None:
    assert several_workers(environ, argv, process) == expected


class Counter(Actor):
    @method
    async def increment(self) -> int:
        count = await self.state.get("count", int, default=0) + 1
        await self.state.set("count", count)
        return count


async def test_the_lifespan_refuses_to_start_as_one_of_several_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    runtime = ActorRuntime()
    runtime.actor(Counter)
    app = make_app(runtime)
    with pytest.raises(MultipleWorkersError) as refused:
        async with runtime.lifespan(app):
            pytest.fail("the lifespan started")
    message = str(refused.value)
    assert "2 worker processes (WEB_CONCURRENCY=2)" in message
    assert "one worker per sidecar" in message
    assert "ActorRuntime(multiple_workers=True)" in message
    assert isinstance(refused.value, RuntimeError)


async def test_multiple_workers_opts_in_and_turns_the_state_cache_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    runtime = ActorRuntime(multiple_workers=True)
    runtime.actor(Counter)
    assert runtime.actor_types["Counter"].settings.cache_state is False
    async with runtime.lifespan(make_app(runtime)):
        pass


def test_multiple_workers_refuses_a_state_cache() -> None:
    with pytest.raises(ActorConfigError, match="cache_state=True cannot be combined"):
        ActorRuntime(multiple_workers=True, cache_state=True)
    runtime = ActorRuntime(multiple_workers=True)
    with pytest.raises(ActorConfigError, match="'counter': cache_state=True cannot"):
        runtime.actor("counter", cache_state=True)(Counter)
    with pytest.raises(ActorConfigError, match="multiple_workers must be True or False"):
        ActorRuntime(multiple_workers="yes")  # type: ignore[arg-type]
    for settings, cached in (({"cache_state": False}, False), ({}, True)):
        runtime = ActorRuntime(**settings)
        runtime.actor(Counter)
        assert runtime.actor_types["Counter"].settings.cache_state is cached
