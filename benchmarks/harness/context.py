"""What every scenario gets: the options, the harness' stub sidecar, the run's id and where its
logs go; and what it gives back, one ``Sample`` per variant and round."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .load import Sample
from .options import Options
from .processes import StubSidecar

# results[scenario][variant] is one Sample per round
Results = dict[str, dict[str, list[Sample]]]


@dataclass(frozen=True)
class Context:
    options: Options
    sidecar: StubSidecar
    run_id: str  # random per run: activation ids are unique across the whole run
    log_dir: Path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
