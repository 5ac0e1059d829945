"""Every third-party module the package imports is a declared dependency in pyproject.toml:
one that arrives only through another package's requirements can vanish with its next release."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dapr_actors_fastapi"


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names} - {PACKAGE.name}


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {
        normalize(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])
        for requirement in requirements
    }


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    modules = imported_top_level_modules()
    assert {"fastapi", "pydantic", "httptools"} <= modules  # the walk found the imports
    providers = packages_distributions()
    declared = declared_distributions()
    undeclared = {
        module: providers.get(module, ["<not installed>"])
        for module in sorted(modules)
        if not any(normalize(dist) in declared for dist in providers.get(module, []))
    }
    assert undeclared == {}, "declare these in pyproject.toml"
