"""The ``dapr-actors`` command (also ``python -m dapr_actors_fastapi``).

It lives outside the ``sidecar`` package so that, without the ``dev`` extra, the command can
still say in one line what to install instead of dying in an import traceback.
"""

from __future__ import annotations

import sys

from ._dev_extra import require_dev_extra


def main(argv: list[str] | None = None) -> int:
    try:
        require_dev_extra("the dapr-actors command")
    except ModuleNotFoundError as error:
        print(f"dapr-actors: error: {error}", file=sys.stderr)
        return 1
    from .sidecar.cli import main as run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
