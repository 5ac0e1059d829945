"""The results as Markdown: one section per README results block, each with its run line, its
tables of medians (CPU per request first, requests/s and latency after), its targets, and every
round's figures; and the targets themselves, which the JSON file records too."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .context import Results
from .environment import machine_line, software_line
from .options import Options

Render = Callable[[Results, Options, dict[str, str], str], str]
Row = tuple[str, str, str]  # metric, label, format

HEADERS = {  # variant -> column header
    "ours": "ours (router)",
    "front-door": "ours (front door)",
    "peer": "peer",
    "raw": "raw route",
    "bare": "bare ASGI",
    "plain": "plain FastAPI",
    "plain-front-door": "behind the front door",
    "in-process": "in process, alternating",
    "direct": "straight to app",
    "relayed": "relayed by the sidecar",
    "memory": "`:memory:`",
    "file": "file (WAL)",
}
LATENCY_ROWS: list[Row] = [
    ("rps", "requests/s", "{:,.0f}"),
    ("p50_ms", "p50 latency (ms)", "{:.2f}"),
    ("p99_ms", "p99 latency (ms)", "{:.2f}"),
]
SERVER_ROWS: list[Row] = [
    ("cpu_us", "server CPU per request (µs)", "{:.1f}"),
    ("busy_pct", "CPU 0 busy with the server (%)", "{:.0f}"),
    ("other_pct", "CPU 0 busy with other work (%)", "{:.0f}"),
    *LATENCY_ROWS,
]
DEV_RUN_ROWS: list[Row] = [
    ("cpu_us", "CPU per request, app + sidecar (µs)", "{:.0f}"),
    ("app_cpu_us", "CPU per request, app thread (µs)", "{:.0f}"),
    ("sidecar_cpu_us", "CPU per request, sidecar threads (µs)", "{:.0f}"),
    ("busy_pct", "CPU 0 busy with app + sidecar (%)", "{:.0f}"),
    ("other_pct", "CPU 0 busy with other work (%)", "{:.0f}"),
    *LATENCY_ROWS,
]
MEMORY_ROWS: list[Row] = [
    ("bytes_per_actor", "RSS per live actor (bytes)", "{:,.0f}"),
    ("cpu_us", "server CPU per activation (µs)", "{:.0f}"),
    ("rss_before_mb", "RSS after warm-up, before activating (MB)", "{:.1f}"),
]


# The metrics a ratio (or difference) of two variants means something for.
COMPARABLE = frozenset(
    {"cpu_us", "app_cpu_us", "sidecar_cpu_us", "stub_cpu_us", "rps", "p50_ms", "p99_ms",
     "bytes_per_actor", "transactions_per_turn"}
)  # fmt: skip


def median(results: Results, scenario: str, variant: str, metric: str) -> float:
    return statistics.median(sample[metric] for sample in results[scenario][variant])


def paired_median(tops: Sequence[float], bottoms: Sequence[float], difference: bool) -> float:
    """The median of each round's own ratio (or difference), not a ratio of medians: a round
    measures its variants minutes apart, while the machine's speed drifts more than that
    between rounds (a bare ASGI echo took 40 to 56 µs of CPU per request in one run), so
    pairing by round cancels most of the drift. Unequal counts of rounds (a variant that was
    measured again alone) fall back to the ratio of the medians."""
    if len(tops) != len(bottoms):
        tops, bottoms = [statistics.median(tops)], [statistics.median(bottoms)]
    if difference:
        return statistics.median(top - bottom for top, bottom in zip(tops, bottoms, strict=True))
    return statistics.median(top / bottom for top, bottom in zip(tops, bottoms, strict=True))


def _samples(results: Results, scenario: str, variant: str, metric: str) -> list[float]:
    return [sample[metric] for sample in results[scenario][variant]]


def label_of(variant: str) -> str:
    if variant.isdigit():
        return f"{int(variant):,} live actors"
    return HEADERS.get(variant, variant)


# -- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A figure the project aims for: ``numerator`` over ``denominator`` (``paired_median``),
    or their difference; no ``threshold`` means the figure is only reported."""

    label: str
    scenario: str
    numerator: tuple[str, str]  # variant, metric
    denominator: tuple[str, str] | None
    threshold: float | None
    at_most: bool = False
    unit: str = "x"  # "x": a ratio; anything else: numerator - denominator in that unit

    def value(self, results: Results) -> float:
        if self.denominator is None:
            return median(results, self.scenario, *self.numerator)
        tops = _samples(results, self.scenario, *self.numerator)
        bottoms = _samples(results, self.scenario, *self.denominator)
        return paired_median(tops, bottoms, difference=self.unit != "x")

    def passed(self, results: Results) -> bool | None:
        if self.threshold is None:
            return None
        value = self.value(results)
        return value <= self.threshold if self.at_most else value >= self.threshold

    @property
    def rule(self) -> str:
        if self.threshold is None:
            return "reported"
        sign = "<=" if self.at_most else ">="
        return f"{sign} {self.threshold:g}{'x' if self.unit == 'x' else ' ' + self.unit}"

    def measured(self, results: Results) -> str:
        value = self.value(results)
        if self.unit == "x":
            return f"{value:.2f}x"
        if self.unit == "bytes":
            return f"{value:,.0f} bytes"
        return f"{value:+.1f} {self.unit}"


def targets(options: Options) -> list[Target]:
    small, large = str(options.scale[0]), str(options.scale[-1])
    scale = f"{int(large):,} / {int(small):,} live actors"
    # Where a target is a ratio of requests/s, its CPU form comes first: with the server's core
    # saturated, requests/s is the inverse of CPU per request, and CPU per request is what
    # holds when other work takes part of that core.
    return [
        Target("stateless CPU per request, front door / bare ASGI", "stateless",
               ("front-door", "cpu_us"), ("bare", "cpu_us"), 1.25, at_most=True),
        Target("stateless CPU per request, peer / front door", "stateless",
               ("peer", "cpu_us"), ("front-door", "cpu_us"), 4.0),
        Target("stateless requests/s, front door / peer", "stateless",
               ("front-door", "rps"), ("peer", "rps"), 4.0),
        Target("stateless CPU per request, peer / ours (router)", "stateless",
               ("peer", "cpu_us"), ("ours", "cpu_us"), 2.5),
        Target("stateless requests/s, ours (router) / peer", "stateless",
               ("ours", "rps"), ("peer", "rps"), 2.5),
        Target("stateless CPU per request, raw route / ours (router)", "stateless",
               ("raw", "cpu_us"), ("ours", "cpu_us"), 0.75),
        Target("stateless requests/s, ours (router) / raw route", "stateless",
               ("ours", "rps"), ("raw", "rps"), 0.75),
        Target("CPU per activation, peer / ours", "activations",
               ("peer", "cpu_us"), ("ours", "cpu_us"), 2.0),
        Target("activations/s, ours / peer", "activations",
               ("ours", "rps"), ("peer", "rps"), 2.0),
        Target("memory per actor, ours / peer", "memory",
               ("ours", "bytes_per_actor"), ("peer", "bytes_per_actor"), 1.0, at_most=True),
        Target("pass-through: front door's dispatch per request, in process", "passthrough",
               ("in-process", "difference_us"), None, 5.0, at_most=True, unit="µs"),
        Target("pass-through: server CPU per request behind the front door - plain, under wrk",
               "passthrough", ("plain-front-door", "cpu_us"), ("plain", "cpu_us"), None,
               unit="µs"),
        Target("CPU per call, direct / relayed (app + sidecar)", "sidecar",
               ("direct", "cpu_us"), ("relayed", "cpu_us"), 0.5),
        Target("relayed requests/s / direct requests/s", "sidecar",
               ("relayed", "rps"), ("direct", "rps"), 0.5),
        Target("sidecar CPU / app CPU, per relayed call", "sidecar",
               ("relayed", "sidecar_cpu_us"), ("relayed", "app_cpu_us"), 1.5, at_most=True),
        Target("app CPU per turn, peer / ours", "stateful",
               ("peer", "cpu_us"), ("ours", "cpu_us"), 2.5),
        Target("stateful turns/s, ours / peer", "stateful", ("ours", "rps"), ("peer", "rps"), 2.5),
        Target(f"host CPU per call, {scale}", "host-scale",
               (large, "cpu_us"), (small, "cpu_us"), 1.1, at_most=True),
        Target(f"relayed CPU per call (app + sidecar), {scale}", "sidecar-scale",
               (large, "cpu_us"), (small, "cpu_us"), 1.1, at_most=True),
        Target("memory per live actor holding one 100-character key", "state-memory",
               ("ours", "bytes_per_actor"), None, None, unit="bytes"),
    ]  # fmt: skip


def verdict(passed: bool | None) -> str:
    return {None: "-", True: "PASS", False: "**MISS**"}[passed]


def targets_table(
    results: Results, options: Options, scenarios: Sequence[str], extra: Sequence[str] = ()
) -> str:
    lines = ["| Target | Required | Measured | Result |", "|---|---:|---:|---|"]
    for target in targets(options):
        if target.scenario in scenarios and target.scenario in results:
            lines.append(
                f"| {target.label} | {target.rule} | {target.measured(results)} | "
                f"{verdict(target.passed(results))} |"
            )
    return "\n".join([*lines, *extra])


# -- tables -------------------------------------------------------------------------------------


def variant_table(
    results: Results,
    scenario: str,
    title: str,
    rows: Sequence[Row],
    ratios: Sequence[tuple[str, str]] = (),
    difference: bool = False,
    variants: Sequence[str] | None = None,
) -> str:
    """Medians of rounds: one column per variant, one row per metric the samples have, then a
    column per (numerator, denominator) in ``ratios`` (a difference when ``difference``; both
    paired by round, ``paired_median``), on the rows where one means something (CPU,
    throughput, latency, memory)."""
    variants = list(results[scenario] if variants is None else variants)
    sign = "-" if difference else "/"
    headers = [label_of(v) for v in variants] + [
        f"{label_of(a)} {sign} {label_of(b)}" for a, b in ratios
    ]
    lines = [
        f"| {title} (median of rounds) | {' | '.join(headers)} |",
        "|---|" + "---:|" * len(headers),
    ]
    for metric, label, fmt in rows:
        if metric not in results[scenario][variants[0]][0]:
            continue
        values = {v: median(results, scenario, v, metric) for v in variants}
        cells = [fmt.format(values[v]) for v in variants]
        for a, b in ratios:
            tops = _samples(results, scenario, a, metric)
            bottoms = _samples(results, scenario, b, metric)
            if metric not in COMPARABLE:
                cells.append("")
            elif difference:
                cells.append(f"{paired_median(tops, bottoms, difference=True):+.1f}")
            elif 0 in bottoms:
                cells.append("n/a")
            else:
                cells.append(f"{paired_median(tops, bottoms, difference=False):.2f}x")
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def rounds_table(results: Results, scenarios: Sequence[str]) -> str:
    """Each round's CPU per request and requests/s (or bytes per actor), per variant."""
    lines = ["| Scenario | Variant | Metric | Per round |", "|---|---|---|---|"]
    for scenario in scenarios:
        if scenario not in results:
            continue
        for variant, samples in results[scenario].items():
            for metric, fmt in (
                ("cpu_us", "{:.1f}"), ("difference_us", "{:+.1f}"), ("rps", "{:,.0f}"),
                ("bytes_per_actor", "{:,.0f}"),
            ):  # fmt: skip
                if metric in samples[0]:
                    values = ", ".join(fmt.format(sample[metric]) for sample in samples)
                    lines.append(f"| {scenario} | {label_of(variant)} | {metric} | {values} |")
    return "\n".join(lines)


def details(table: str) -> str:
    return "<details><summary>Every round</summary>\n\n" + table + "\n\n</details>"


def header(
    options: Options, env: dict[str, str], command: str, packages: tuple[str, ...], detail: str = ""
) -> list[str]:
    return [
        f"Run {env['finished']} UTC with `{command}`: {options.rounds} round(s), "
        f"{options.duration} s per measured run after {options.warmup} s of warm-up{detail}. "
        f"Load average (1 min): {env['load_before']} before, {env['load_after']} after.",
        f"Machine: {machine_line(env)}. Software: {software_line(env, packages)}.",
    ]


# -- sections -----------------------------------------------------------------------------------

APP_PACKAGES = ("python", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic")


def comparison_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    packages = (*APP_PACKAGES, "dapr-ext-fastapi", "dapr", "dapr-actors-fastapi")
    memory_note = f", memory at {options.actors:,} actors" if "memory" in results else ""
    parts = header(options, env, command, packages, memory_note)
    if "stateless" in results:
        parts.append(variant_table(
            results, "stateless", "Stateless `fly` call", SERVER_ROWS,
            [("front-door", "bare"), ("ours", "bare"), ("front-door", "peer"), ("ours", "peer")],
        ))  # fmt: skip
    if "activations" in results:
        parts.append(variant_table(
            results, "activations", "Activation (a new actor per call)", SERVER_ROWS,
            [("ours", "peer")],
        ))  # fmt: skip
    if "memory" in results:
        parts.append(variant_table(
            results, "memory", "Memory per live actor", MEMORY_ROWS, [("ours", "peer")]
        ))  # fmt: skip
    scenarios = ("stateless", "activations", "memory")
    parts += [targets_table(results, options, scenarios), details(rounds_table(results, scenarios))]
    return "\n\n".join(parts)


IN_PROCESS_ROWS: list[Row] = [
    ("plain_cpu_us", "CPU per request, plain FastAPI (µs)", "{:.1f}"),
    ("cpu_us", "CPU per request, behind the front door (µs)", "{:.1f}"),
    ("difference_us", "difference, median of rounds' differences (µs)", "{:+.1f}"),
]


def passthrough_report(
    results: Results, options: Options, env: dict[str, str], command: str
) -> str:
    packages = (*APP_PACKAGES, "dapr-actors-fastapi")
    return "\n\n".join([
        *header(options, env, command, packages),
        variant_table(
            results, "passthrough", "`GET /ships/{ship}` under wrk", SERVER_ROWS,
            [("plain-front-door", "plain")], difference=True,
            variants=("plain", "plain-front-door"),
        ),
        variant_table(
            results, "passthrough", "`GET /ships/{ship}` in process", IN_PROCESS_ROWS,
            variants=("in-process",),
        ),
        targets_table(results, options, ("passthrough",)),
        details(rounds_table(results, ("passthrough",))),
    ])  # fmt: skip


def sidecar_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    packages = (*APP_PACKAGES, "aiohttp", "sqlite", "dapr-actors-fastapi")
    parts = header(options, env, command, packages)
    if "sidecar" in results:
        parts.append(variant_table(
            results, "sidecar", "`fly` call", DEV_RUN_ROWS, [("relayed", "direct")]
        ))  # fmt: skip
    if "state" in results:
        parts.append(variant_table(
            results, "state", "State transaction (1 upsert)", DEV_RUN_ROWS, [("file", "memory")]
        ))  # fmt: skip
    scenarios = ("sidecar", "state")
    parts += [targets_table(results, options, scenarios), details(rounds_table(results, scenarios))]
    return "\n\n".join(parts)


STATEFUL_ROWS: list[Row] = [
    ("cpu_us", "app CPU per turn (µs)", "{:.0f}"),
    ("stub_cpu_us", "stub sidecar CPU per turn (µs)", "{:.0f}"),
    ("rps", "turns/s", "{:,.0f}"),
    ("p50_ms", "p50 latency (ms)", "{:.2f}"),
    ("p99_ms", "p99 latency (ms)", "{:.2f}"),
    ("transactions_per_turn", "state transactions sent to the sidecar per turn", "{:.2f}"),
    ("reads_per_turn", "state reads sent to the sidecar per turn", "{:.2f}"),
    ("app_busy_pct", "CPU 0 busy with the app (%)", "{:.0f}"),
    ("cpu0_other_pct", "CPU 0 busy with anything else (%)", "{:.0f}"),
    ("cpu1_busy_pct", "CPU 1 busy: wrk, stub sidecar, harness (%)", "{:.0f}"),
]


def stateful_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    packages = (*APP_PACKAGES, "aiohttp", "dapr-ext-fastapi", "dapr", "dapr-actors-fastapi")
    # Every round's count, not the median: one turn saved twice or not at all is a bug.
    per_turn = [sample["transactions_per_turn"] for sample in results["stateful"]["ours"]]
    one_each = all(abs(value - 1) < 1e-9 for value in per_turn)
    extra = (
        f"| sidecar transactions per turn, ours (every round) | = 1 | "
        f"{', '.join(f'{v:.3f}' for v in per_turn)} | {verdict(one_each)} |",
    )
    return "\n\n".join([
        *header(options, env, command, packages),
        variant_table(results, "stateful", "Stateful turn", STATEFUL_ROWS, [("ours", "peer")]),
        targets_table(results, options, ("stateful",), extra),
        details(rounds_table(results, ("stateful",))),
    ])  # fmt: skip


SCALE_ROWS: list[Row] = [
    ("cpu_us", "CPU per call (µs)", "{:.1f}"),
    ("app_cpu_us", "CPU per call, app thread (µs)", "{:.1f}"),
    ("sidecar_cpu_us", "CPU per call, sidecar threads (µs)", "{:.1f}"),
    ("busy_pct", "CPU 0 busy with the servers (%)", "{:.0f}"),
    ("other_pct", "CPU 0 busy with other work (%)", "{:.0f}"),
    *LATENCY_ROWS,
]
STATE_MEMORY_ROWS: list[Row] = [
    ("bytes_per_actor", "RSS per live actor (bytes)", "{:,.0f}"),
    ("cpu_us", "app CPU per activation and save (µs)", "{:.0f}"),
    ("rss_before_mb", "RSS after warm-up, before activating (MB)", "{:.1f}"),
    ("rss_after_mb", "RSS after activating (MB)", "{:.1f}"),
]


def scale_report(results: Results, options: Options, env: dict[str, str], command: str) -> str:
    packages = (*APP_PACKAGES, "aiohttp", "sqlite", "dapr-actors-fastapi")
    largest = (str(options.scale[-1]), str(options.scale[0]))
    parts = header(
        options, env, command, packages, f", memory at {options.actors:,} actors with state"
    )
    if "host-scale" in results:
        parts.append(variant_table(
            results, "host-scale", "Host: `fly` straight to the app", SCALE_ROWS, [largest]
        ))  # fmt: skip
    if "sidecar-scale" in results:
        parts.append(variant_table(
            results, "sidecar-scale", "Dev sidecar: `fly` relayed", SCALE_ROWS, [largest]
        ))  # fmt: skip
    if "state-memory" in results:
        parts.append(variant_table(
            results, "state-memory", "Live actors holding one 100-character key",
            STATE_MEMORY_ROWS,
        ))  # fmt: skip
    scenarios = ("host-scale", "sidecar-scale", "state-memory")
    parts += [targets_table(results, options, scenarios), details(rounds_table(results, scenarios))]
    return "\n\n".join(parts)


RENDERERS: dict[str, Render] = {
    "comparison": comparison_report,
    "passthrough": passthrough_report,
    "sidecar": sidecar_report,
    "stateful": stateful_report,
    "scale": scale_report,
}
