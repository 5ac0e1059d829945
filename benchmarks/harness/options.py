"""The command line: how long, how many rounds, which scenarios, and whether to rewrite the
README's tables; ``--quick`` shrinks every default for a smoke run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

# The README's results sections, each rewritten whole by --write-readme, and their scenarios
# in run order: the single list of scenario names.
SECTIONS: dict[str, tuple[str, ...]] = {
    "comparison": ("stateless", "activations", "memory"),
    "passthrough": ("passthrough",),
    "sidecar": ("sidecar", "state"),
    "stateful": ("stateful",),
    "scale": ("host-scale", "sidecar-scale", "state-memory"),
}
SCENARIO_NAMES = tuple(name for names in SECTIONS.values() for name in names)


@dataclass(frozen=True)
class Options:
    duration: int  # seconds of each measured wrk run
    warmup: int  # seconds of the unmeasured wrk run before it, on the same server
    rounds: int
    actors: int  # actors activated in the memory scenarios
    scale: tuple[int, ...]  # live actors at each step of the scale scenarios, ascending
    write_readme: bool
    scenarios: tuple[str, ...]  # in SCENARIO_NAMES order
    report: str | None = None  # a results file to render again instead of running


FULL: dict[str, int | str] = {
    "duration": 10,
    "warmup": 3,
    "rounds": 3,
    "actors": 100_000,
    "scale": "1000,10000,100000",
}
QUICK: dict[str, int | str] = {
    "duration": 1,
    "warmup": 1,
    "rounds": 1,
    "actors": 3000,
    "scale": "200,2000",
}


def parse_options(argv: list[str] | None = None, description: str = "") -> Options:
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--duration", type=int, help=f"seconds per measured run (default {FULL['duration']})"
    )
    parser.add_argument(
        "--warmup", type=int, help=f"seconds of warm-up per run (default {FULL['warmup']})"
    )
    parser.add_argument(
        "--rounds", type=int, help=f"rounds over all servers (default {FULL['rounds']})"
    )
    parser.add_argument(
        "--actors", type=int, help=f"actors in the memory scenarios (default {FULL['actors']})"
    )
    parser.add_argument(
        "--scale",
        help=f"live actors at each step of the scale scenarios (default {FULL['scale']})",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIO_NAMES),
        help=f"comma-separated scenarios to run (default: all, {','.join(SCENARIO_NAMES)})",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK}")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite the results in README.md"
    )
    parser.add_argument(
        "--report",
        metavar="RESULTS_JSON",
        help="run nothing: render the tables of an earlier run's results file again (with its "
        "options and command), e.g. after the report changed",
    )
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    values = {
        name: str(default if getattr(args, name) is None else getattr(args, name))
        for name, default in defaults.items()
    }
    try:
        scale = scale_steps(values.pop("scale"))
        scenarios = select_scenarios(args.scenarios, args.write_readme)
    except ValueError as error:
        parser.error(str(error))
    counts = {name: int(value) for name, value in values.items()}
    if min(counts.values()) < 1:
        parser.error("--duration, --warmup, --rounds and --actors must be positive")
    return Options(
        **counts,
        scale=scale,
        write_readme=args.write_readme,
        scenarios=scenarios,
        report=args.report,
    )


def scale_steps(text: str) -> tuple[int, ...]:
    """``--scale``: at least two positive counts, in ascending order, no repeats."""
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        steps = ()
    if len(steps) < 2 or min(steps) < 1 or list(steps) != sorted(set(steps)):
        raise ValueError(
            f"--scale {text!r}: give two or more ascending actor counts, e.g. 1000,10000,100000"
        )
    return steps


def select_scenarios(text: str, write_readme: bool) -> tuple[str, ...]:
    """The named scenarios in SCENARIO_NAMES order; a README section is only rewritten whole."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(SCENARIO_NAMES)
    if unknown or not names:
        raise ValueError(
            f"--scenarios: unknown {sorted(unknown)}; choose from {', '.join(SCENARIO_NAMES)}"
        )
    if write_readme:
        for section, scenarios in SECTIONS.items():
            partial = names & set(scenarios)
            if partial and partial != set(scenarios):
                raise ValueError(
                    f"--write-readme rewrites the {section} section whole: run all of "
                    f"{','.join(scenarios)}, or drop --write-readme"
                )
    return tuple(name for name in SCENARIO_NAMES if name in names)
