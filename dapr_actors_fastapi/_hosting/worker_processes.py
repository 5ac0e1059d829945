"""Whether several worker processes serve this app, in which case the runtime refuses to start.

daprd places each actor on one app *address* and cannot tell apart the processes behind it. With
several workers behind one sidecar, successive calls to one actor reach different workers, each
with its own copy of the actor and its cached state, so acknowledged writes are lost (issue #9:
1344 of 3000 increments under ``uvicorn --workers 2``). One worker per sidecar is the rule;
``ActorRuntime(multiple_workers=True)`` is the opt-out, which turns the state cache off.

The signals, each read from the process at lifespan start-up:

* **uvicorn ``--workers N``** (or ``uvicorn.run(..., workers=N)``): uvicorn binds the socket in
  a supervisor and starts each worker with multiprocessing's *spawn*. In a worker,
  ``multiprocessing.current_process()`` is that process object: its target is
  ``uvicorn._subprocess.subprocess_started`` and its keyword arguments hold uvicorn's
  ``Config``, whose ``workers`` is N. This is authoritative, so it also clears a stray
  ``WEB_CONCURRENCY``. ``--reload`` starts its one server process the same way; uvicorn then
  ignores ``workers``, and so does this check. It reads multiprocessing's private ``_target``
  and ``_kwargs``; should they change, the signal is silently lost, never a false alarm.
* **gunicorn ``-w N``**: the arbiter sets ``SERVER_SOFTWARE=gunicorn/<version>`` before it forks
  its workers. The count is read as gunicorn reads it, highest precedence first: the command
  line (forked workers keep the master's ``sys.argv``), ``GUNICORN_CMD_ARGS``, then
  ``WEB_CONCURRENCY``; none of these means gunicorn's default of one worker. *Limit*: a count
  set only in a gunicorn configuration file (``workers = 4`` in ``gunicorn.conf.py``) is not
  seen.
* **``WEB_CONCURRENCY`` above 1** under any other server: uvicorn and gunicorn take it as their
  default worker count and platforms such as Heroku set it for that purpose. *Limit*: another
  pre-forking server configured otherwise (hypercorn ``--workers``, granian) is not seen.

Signals considered and not used:

* The ASGI lifespan scope names no server or socket (only HTTP scopes carry ``server``, the
  same address in every worker), and FastAPI hands a lifespan only the app.
* A listening socket inherited from the parent process is shared, but it is just as shared
  under ``uvicorn --reload`` and ``gunicorn -w 1``, where one process serves; counting the
  sibling processes that hold it races with their start-up, since a worker's lifespan may run
  before its siblings exist.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_UVICORN_WORKER_TARGET = "uvicorn._subprocess"


@dataclass(frozen=True, slots=True)
class SeveralWorkers:
    """How many worker processes serve the app, and what says so (for the error message)."""

    count: int
    evidence: str


def several_workers(
    environ: Mapping[str, str], argv: Sequence[str], process: object
) -> SeveralWorkers | None:
    """The evidence that more than one process serves this app, or ``None``.

    ``environ``, ``argv`` and ``process`` are ``os.environ``, ``sys.argv`` and
    ``multiprocessing.current_process()``, passed in so that each signal can be tested alone.
    """
    found = _uvicorn_workers(process)
    if found is None:
        if environ.get("SERVER_SOFTWARE", "").startswith("gunicorn"):
            found = _gunicorn_workers(environ, argv)
        else:
            found = _web_concurrency(environ)
    return found if found is not None and found.count > 1 else None


def _uvicorn_workers(process: object) -> SeveralWorkers | None:
    """uvicorn's own worker count, when this process is one that uvicorn spawned."""
    target = getattr(process, "_target", None)
    arguments = getattr(process, "_kwargs", None)
    if getattr(target, "__module__", None) != _UVICORN_WORKER_TARGET:
        return None
    config = arguments.get("config") if isinstance(arguments, Mapping) else None
    workers = getattr(config, "workers", None)
    if not isinstance(workers, int) or isinstance(workers, bool):
        return None
    if getattr(config, "should_reload", False):
        return SeveralWorkers(1, "uvicorn --reload")
    return SeveralWorkers(workers, f"uvicorn --workers {workers}")


def _gunicorn_workers(environ: Mapping[str, str], argv: Sequence[str]) -> SeveralWorkers | None:
    for source, arguments in (
        ("the command line", list(argv[1:])),
        ("GUNICORN_CMD_ARGS", shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))),
    ):
        count = _workers_option(arguments)
        if count is not None:
            return SeveralWorkers(count, f"gunicorn -w {count}, from {source}")
    found = _web_concurrency(environ)
    if found is not None:
        return SeveralWorkers(found.count, f"gunicorn with {found.evidence}")
    return None


def _workers_option(arguments: Sequence[str]) -> int | None:
    """The last ``-w N``, ``-wN``, ``--workers N`` or ``--workers=N`` in ``arguments``."""
    count: int | None = None
    for index, argument in enumerate(arguments):
        following = arguments[index + 1] if index + 1 < len(arguments) else ""
        if argument in ("-w", "--workers"):
            value = following
        elif argument.startswith("--workers="):
            value = argument.partition("=")[2]
        elif argument.startswith("-w") and not argument.startswith("--"):
            value = argument[2:]
        else:
            continue
        count = _positive_int(value) or count
    return count


def _web_concurrency(environ: Mapping[str, str]) -> SeveralWorkers | None:
    value = environ.get("WEB_CONCURRENCY", "")
    count = _positive_int(value)
    return None if count is None else SeveralWorkers(count, f"WEB_CONCURRENCY={value}")


def _positive_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None
