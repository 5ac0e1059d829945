"""Benchmark dapr_actors_fastapi ("ours", through its router or its front door) against
dapr-ext-fastapi ("peer"), a raw FastAPI route and a bare ASGI app; the front door's
pass-through cost; a stateful turn of ours and the peer against a stub sidecar; the package's
dev sidecar under ``dapr-actors run`` (a relayed call against a direct one, its state
transactions); and the cost of a call as the live actors grow from 1,000 to 100,000.

    python benchmarks/run.py                        # full run: 3 rounds of 10 s, every scenario
    python benchmarks/run.py --quick                # smoke run, under two minutes
    python benchmarks/run.py --scenarios sidecar,state   # only the dev sidecar's scenarios
    python benchmarks/run.py --write-readme         # also rewrite benchmarks/README.md results

Every measurement starts fresh servers (uvicorn, 1 worker, pinned to CPU 0; ``dapr-actors run``
too; the stub sidecars on CPU 1) and drives them with wrk (1 thread, 32 connections, pinned to
CPU 1). Each figure leads with the server's CPU time per request, read from /proc; rounds
alternate the variants and the report gives medians across rounds, ratios, and the project's
targets. See benchmarks/README.md.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

# ``python benchmarks/run.py`` puts benchmarks/ first on sys.path; the harness and the apps are
# imported as the ``benchmarks`` package, from the repository's root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.context import Context, Results, log
from benchmarks.harness.environment import environment, load_average
from benchmarks.harness.options import SECTIONS, Options, parse_options
from benchmarks.harness.probes import BenchmarkError
from benchmarks.harness.processes import CLIENT_CPU, StubSidecar
from benchmarks.harness.report import RENDERERS, targets
from benchmarks.harness.rounds import run_rounds

BENCH_DIR = Path(__file__).resolve().parent
README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"


def markers(section: str) -> tuple[str, str]:
    """The comments around a section's results in README.md."""
    prefix = "results" if section == "comparison" else f"{section}-results"
    return f"<!-- {prefix}:start -->", f"<!-- {prefix}:end -->"


def write_readme(text: str, section: str) -> None:
    start_marker, end_marker = markers(section)
    readme = README.read_text()
    start, end = readme.find(start_marker), readme.find(end_marker)
    if start < 0 or end < start:
        raise BenchmarkError(f"{README} lacks the {start_marker} ... {end_marker} markers")
    README.write_text(f"{readme[: start + len(start_marker)]}\n{text}\n{readme[end:]}")


def save_json(results: Results, options: Options, env: dict[str, str], run_id: str) -> Path:
    path = RESULTS_DIR / f"{run_id}.json"
    target_data = [
        asdict(target) | {"value": target.value(results), "passed": target.passed(results)}
        for target in targets(options)
        if target.scenario in results
    ]
    payload = {
        "options": asdict(options),
        "environment": env,
        "results": results,
        "targets": target_data,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv, __doc__ or "")
    if options.report is not None:
        return render_again(Path(options.report), options.write_readme)
    # The harness (and its stub sidecar) shares the client core with wrk, never the server's.
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    run_id = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    load_before = load_average()
    with StubSidecar() as sidecar:
        context = Context(options, sidecar, run_id, RESULTS_DIR / run_id)
        try:
            results = run_rounds(context)
        except (BenchmarkError, OSError) as error:  # OSError: a server that stopped answering
            reason = str(error) if isinstance(error, BenchmarkError) else repr(error)
            if error.__context__ is not None:  # a failed stop while handling the first failure
                reason += f"\n(raised while handling {error.__context__!r})"
            log(f"BENCHMARK FAILED: {reason}\n(server logs: {context.log_dir})")
            return 1
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    env = environment() | {
        "load_before": load_before,
        "load_after": load_average(),
        "finished": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "command": command.strip(),
    }
    render(results, options, env)
    log(f"raw results: {save_json(results, options, env, run_id)}")
    return 0


def render(results: Results, options: Options, env: dict[str, str]) -> None:
    """Print each section that has results; with --write-readme, replace it in README.md."""
    for section, scenarios in SECTIONS.items():
        if not any(scenario in results for scenario in scenarios):
            continue
        text = RENDERERS[section](results, options, env, env["command"])
        print(text + "\n")
        if options.write_readme:
            write_readme(text, section)
            log(f"{section} results written to {README}")


def render_again(path: Path, write: bool) -> int:
    """The tables of a results file written by an earlier run, as that run printed them."""
    payload = json.loads(path.read_text())
    saved = payload["options"]
    options = Options(
        **saved
        | {"scale": tuple(saved["scale"]), "scenarios": tuple(saved["scenarios"])}
        | {"write_readme": write, "report": str(path)}
    )
    render(payload["results"], options, payload["environment"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
