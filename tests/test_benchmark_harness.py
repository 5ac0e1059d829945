"""The benchmark harness' own logic, without running a benchmark: the command line refuses what
would leave a README table half rewritten, CPU time read from /proc lands on the thread that
spent it, the report judges each target by the rule it prints, and an earlier run's results
file renders again as that run printed it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.harness.cpu import process_cpu_seconds, thread_cpu_seconds
from benchmarks.harness.options import QUICK, SCENARIO_NAMES, parse_options
from benchmarks.harness.report import Target, targets_table, variant_table
from benchmarks.harness.rounds import SCENARIOS

BURN_SECONDS = 0.2


def test_every_scenario_has_a_runner_in_the_sections_order() -> None:
    assert tuple(SCENARIOS) == SCENARIO_NAMES


def test_quick_shrinks_every_default_and_explicit_flags_win() -> None:
    options = parse_options(["--quick", "--duration", "4"])
    assert options.duration == 4
    assert options.rounds == QUICK["rounds"]
    assert options.scale == tuple(int(n) for n in str(QUICK["scale"]).split(","))
    assert options.scenarios == SCENARIO_NAMES


def test_write_readme_refuses_a_section_left_half_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_options(["--write-readme", "--scenarios", "host-scale,state-memory"])
    error = capsys.readouterr().err
    assert "rewrites the scale section whole" in error
    assert "host-scale,sidecar-scale,state-memory" in error


@pytest.mark.parametrize("scale", ["1000", "10000,1000", "1000,1000", "0,10", "1k,10k"])
def test_scale_needs_two_or_more_ascending_counts(
    scale: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_options(["--scale", scale])
    assert f"--scale {scale!r}" in capsys.readouterr().err


def burn_cpu(seconds: float, burnt: threading.Event, release: threading.Event) -> None:
    """Spin until this thread has used ``seconds`` of CPU (whatever else the machine runs),
    then stay alive, so that its /proc entry can be read, until released."""
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass
    burnt.set()
    release.wait(timeout=30)


def test_a_worker_threads_cpu_is_counted_apart_from_the_main_threads() -> None:
    pid = threading.get_native_id()  # the main thread's id is the process'
    main_before, others_before = thread_cpu_seconds(pid)
    process_before = process_cpu_seconds(pid)
    burnt, release = threading.Event(), threading.Event()
    worker = threading.Thread(target=burn_cpu, args=(BURN_SECONDS, burnt, release))
    worker.start()
    try:
        assert burnt.wait(timeout=30)
        main_after, others_after = thread_cpu_seconds(pid)
        process_after = process_cpu_seconds(pid)
    finally:
        release.set()
        worker.join()

    # /proc counts in clock ticks (10 ms); waiting on an Event costs the main thread ~nothing.
    assert others_after - others_before >= BURN_SECONDS - 0.02
    assert main_after - main_before < BURN_SECONDS / 2
    assert process_after - process_before >= BURN_SECONDS - 0.02


def results_of(**cpu_us: float) -> dict[str, dict[str, list[dict[str, float]]]]:
    return {"stateless": {variant: [{"cpu_us": value}] for variant, value in cpu_us.items()}}


def test_a_ratio_target_passes_at_its_threshold_and_misses_above_it() -> None:
    target = Target("front door / bare", "stateless", ("front-door", "cpu_us"), ("bare", "cpu_us"),
                    1.25, at_most=True)  # fmt: skip
    assert target.rule == "<= 1.25x"
    assert target.passed(results_of(**{"front-door": 125.0, "bare": 100.0})) is True
    assert target.passed(results_of(**{"front-door": 126.0, "bare": 100.0})) is False
    assert target.measured(results_of(**{"front-door": 126.0, "bare": 100.0})) == "1.26x"


def test_a_ratio_target_pairs_the_variants_round_by_round() -> None:
    # The machine's speed drifted between rounds, and one noisy spell hit the front door alone
    # (round 3). Paired by round: 1.2x, 1.2x, 2.0x, median 1.2x. The ratio of the medians
    # (100 / 50 = 2.0x) would mix rounds measured at different speeds.
    target = Target("front door / bare", "stateless", ("front-door", "cpu_us"), ("bare", "cpu_us"),
                    1.25, at_most=True)  # fmt: skip
    rounds = {"front-door": [120.0, 36.0, 100.0], "bare": [100.0, 30.0, 50.0]}
    results = {"stateless": {v: [{"cpu_us": x} for x in xs] for v, xs in rounds.items()}}
    assert target.measured(results) == "1.20x"
    assert target.passed(results) is True


def test_a_difference_target_is_measured_in_its_unit() -> None:
    target = Target("pass-through", "stateless", ("front-door", "cpu_us"), ("bare", "cpu_us"),
                    5.0, at_most=True, unit="µs")  # fmt: skip
    results = results_of(**{"front-door": 103.5, "bare": 100.0})
    assert target.rule == "<= 5 µs"
    assert target.measured(results) == "+3.5 µs"
    assert target.passed(results) is True


def test_the_targets_table_marks_a_miss_in_bold() -> None:
    options = parse_options(["--quick"])
    results = results_of(ours=100.0, **{"front-door": 200.0, "peer": 900.0, "raw": 90.0},
                         bare=100.0)  # fmt: skip
    for sample in results["stateless"].values():
        sample[0]["rps"] = 1000.0
    table = targets_table(results, options, ("stateless",))
    assert (
        "| stateless CPU per request, front door / bare ASGI | <= 1.25x | 2.00x | **MISS** |"
        in (table)
    )
    assert "| stateless requests/s, front door / peer | >= 4x | 1.00x | **MISS** |" in table


def test_the_variant_table_leads_with_cpu_and_gives_each_ratio() -> None:
    results = results_of(**{"front-door": 120.0, "bare": 100.0})
    table = variant_table(results, "stateless", "Stateless", [("cpu_us", "CPU (µs)", "{:.0f}")],
                          [("front-door", "bare")])  # fmt: skip
    assert table.splitlines()[0] == (
        "| Stateless (median of rounds) | ours (front door) | bare ASGI | "
        "ours (front door) / bare ASGI |"
    )
    assert table.splitlines()[2] == "| CPU (µs) | 120 | 100 | 1.20x |"


def test_an_earlier_runs_results_render_again_with_its_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrk_sample = {"cpu_us": 200.0, "busy_pct": 90.0, "other_pct": 5.0, "rps": 4000.0,
                  "p50_ms": 7.0, "p99_ms": 20.0}  # fmt: skip
    in_process = {"plain_cpu_us": 150.0, "cpu_us": 151.5, "difference_us": 1.5}
    options = asdict(parse_options(["--quick", "--scenarios", "passthrough"]))
    results_file = tmp_path / "results.json"
    results_file.write_text(json.dumps({
        "options": options,
        "environment": {
            "finished": "2026-12-02 23:00", "command": "python benchmarks/run.py --quick",
            "load_before": "0.10", "load_after": "0.20", "cpu": "a CPU", "cores": "2",
            "kernel": "6", "wrk": "wrk 4", "python": "3.11", "fastapi": "1", "starlette": "1",
            "uvicorn": "1", "uvloop": "1", "httptools": "1", "pydantic": "2",
            "dapr-actors-fastapi": "0.1",
        },
        "results": {"passthrough": {
            "plain": [wrk_sample], "plain-front-door": [wrk_sample | {"cpu_us": 203.0}],
            "in-process": [in_process],
        }},
    }))  # fmt: skip

    assert run.main(["--report", str(results_file)]) == 0

    printed = capsys.readouterr().out
    assert "Run 2026-12-02 23:00 UTC with `python benchmarks/run.py --quick`" in printed
    assert "| server CPU per request (µs) | 200.0 | 203.0 | +3.0 |" in printed
    assert (
        "| pass-through: front door's dispatch per request, in process | <= 5 µs | +1.5 µs | PASS |"
        in printed
    )
