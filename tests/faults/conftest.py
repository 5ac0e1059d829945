"""Hypothesis settings for the fault suite.

The ``faults`` profile is derandomized, so that every run (CI included) tries the same examples
and a failure reproduces from the commit alone; it keeps no example database, so that nothing is
written into the worktree. To hunt for new failures, run with ``HYPOTHESIS_PROFILE=explore``
(random examples) and add what it finds as an ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "faults",
    derandomize=True,
    database=None,
    deadline=None,  # a loaded 2-core machine: one slow example is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("explore", parent=settings.get_profile("faults"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "faults"))
