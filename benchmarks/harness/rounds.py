"""The scenarios by name, and the rounds that run them.

Every round runs every scenario selected, and within a scenario every variant one after the
other, each on fresh processes: a noisy minute of the machine lands on all variants of a
scenario alike. Odd rounds run the variants in their listed order, even rounds in reverse
(ABBA), so that a slow drift of the machine's speed favours none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .context import Context, Results, log
from .dev_sidecar import sidecar_overhead, sidecar_scale, state_transactions
from .hosting import (
    Run,
    activations,
    host_scale,
    memory,
    on_fresh_server,
    passthrough_run,
    stateless,
)
from .load import Sample
from .options import SCENARIO_NAMES, Options
from .stateful import state_memory, stateful_turns

STATELESS_SERVERS = ("ours", "front-door", "peer", "raw", "bare")
ACTOR_SERVERS = ("ours", "peer")  # activations and memory: the two actor runtimes


def scale_variants(options: Options) -> tuple[str, ...]:
    return tuple(str(count) for count in options.scale)


@dataclass(frozen=True)
class Scenario:
    run: Run
    variants: Callable[[Options], tuple[str, ...]]  # odd rounds' order (even: reversed)


def fixed(*variants: str) -> Callable[[Options], tuple[str, ...]]:
    return lambda _: variants


SCENARIOS: dict[str, Scenario] = {
    "stateless": Scenario(on_fresh_server(stateless), fixed(*STATELESS_SERVERS)),
    "activations": Scenario(on_fresh_server(activations), fixed(*ACTOR_SERVERS)),
    "memory": Scenario(on_fresh_server(memory), fixed(*ACTOR_SERVERS)),
    "passthrough": Scenario(passthrough_run, fixed("plain", "plain-front-door", "in-process")),
    "sidecar": Scenario(sidecar_overhead, fixed("direct", "relayed")),
    "state": Scenario(state_transactions, fixed("memory", "file")),
    "stateful": Scenario(stateful_turns, fixed(*ACTOR_SERVERS)),
    "host-scale": Scenario(host_scale, scale_variants),
    "sidecar-scale": Scenario(sidecar_scale, scale_variants),
    "state-memory": Scenario(state_memory, fixed("ours")),
}
assert tuple(SCENARIOS) == SCENARIO_NAMES, "options.SECTIONS and SCENARIOS name the same set"


def run_rounds(context: Context) -> Results:
    options = context.options
    results: Results = {
        name: {variant: [] for variant in SCENARIOS[name].variants(options)}
        for name in options.scenarios
    }
    for round_no in range(1, options.rounds + 1):
        for name in options.scenarios:
            variants = SCENARIOS[name].variants(options)
            for variant in variants if round_no % 2 else variants[::-1]:
                tag = f"r{round_no}-{name}-{variant}"
                started = time.monotonic()
                sample = SCENARIOS[name].run(context, variant, tag)
                results[name][variant].append(sample)
                log(
                    f"[round {round_no}/{options.rounds}] {name:<13} {variant:<16} "
                    f"({time.monotonic() - started:.0f} s) {describe(sample)}"
                )
    return results


def describe(sample: Sample) -> str:
    return "  ".join(f"{key}={value:,.2f}" for key, value in sample.items())
