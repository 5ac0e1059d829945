"""Every third-party module the package imports is declared in pyproject.toml, by the install
of the part that imports it: the app side needs only the core dependencies; the dev sidecar and
the ``dapr-actors`` command may use the ``dev`` extra too, the test kit the ``testing`` extra.
A module that arrives only through another package's requirements can vanish with its next
release, and one the app side takes from an extra breaks a core install."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dapr_actors_fastapi"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# The parts beside the app side, by path in the package, and the extra each may use.
DEV_PARTS: Mapping[str, tuple[str, str]] = {
    "dev sidecar": ("sidecar", "dev"),
    "command": ("__main__.py", "dev"),
    "test kit": ("testing.py", "testing"),
}


def part_of(path: Path) -> str:
    first = path.relative_to(PACKAGE).parts[0]
    return next((part for part, (where, _) in DEV_PARTS.items() if where == first), "app side")


def third_party_imports(source: str, *, module_level_only: bool = False) -> set[str]:
    """Top-level names of the non-stdlib modules ``source`` imports; with ``module_level_only``,
    not those imported inside functions (optional or late imports)."""
    tree = ast.parse(source)
    skipped: set[ast.AST] = set()
    if module_level_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                skipped.update(ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names} - {PACKAGE.name}


def imports_by_part(*, module_level_only: bool = False) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {part: set() for part in ["app side", *DEV_PARTS]}
    for path in PACKAGE.rglob("*.py"):
        imported = third_party_imports(path.read_text(), module_level_only=module_level_only)
        found[part_of(path)] |= imported
    return found


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(extras: Iterable[str]) -> set[str]:
    """The distributions the core install plus ``extras`` asks for, following the project's own
    extras (``dapr-actors-fastapi[dev]``) where one names another."""
    requirements = list(PROJECT["dependencies"])
    for extra in extras:
        requirements += PROJECT["optional-dependencies"][extra]
    names: set[str] = set()
    for requirement in requirements:
        match = re.match(r"([\w.-]+)\s*(?:\[([^\]]*)\])?", requirement)
        assert match, requirement
        name, own_extras = match.groups()
        if normalize(name) == normalize(PROJECT["name"]):
            assert own_extras, f"{requirement!r}: name the project's own extras"
            names |= declared_distributions(extra.strip() for extra in own_extras.split(","))
        else:
            names.add(normalize(name))
    return names


def undeclared(modules: Iterable[str], declared: set[str]) -> dict[str, list[str]]:
    """The modules no declared distribution provides, with those that do here."""
    providers = packages_distributions()
    return {
        module: providers.get(module, ["<not installed>"])
        for module in sorted(modules)
        if not any(normalize(dist) in declared for dist in providers.get(module, []))
    }


def test_the_walk_finds_each_part_s_imports() -> None:
    found = imports_by_part()
    assert {"fastapi", "pydantic", "httptools"} <= found["app side"]
    assert {"aiohttp", "uvicorn", "yaml"} <= found["dev sidecar"]
    assert {"aiohttp", "pytest"} <= found["test kit"]


def test_the_app_side_imports_only_core_dependencies() -> None:
    assert undeclared(imports_by_part()["app side"], declared_distributions([])) == {}


@pytest.mark.parametrize("part", DEV_PARTS)
def test_each_dev_part_imports_only_the_core_and_its_extra(part: str) -> None:
    _, extra = DEV_PARTS[part]
    assert undeclared(imports_by_part()[part], declared_distributions([extra])) == {}


def test_the_dev_sidecar_s_modules_are_not_core_dependencies() -> None:
    """The check fails for an app-side import of any of them; and the core install is lean."""
    core = declared_distributions([])
    assert set(undeclared(["aiohttp", "uvicorn", "yaml", "uvloop"], core)) == {
        "aiohttp",
        "uvicorn",
        "yaml",
        "uvloop",
    }


def test_the_test_extras_include_the_dev_extra() -> None:
    assert declared_distributions(["testing"]) >= declared_distributions(["dev"])
    assert declared_distributions(["test"]) >= declared_distributions(["testing"])


def dev_only_modules() -> list[str]:
    """What the dev parts import on import that the core install does not provide."""
    imported = imports_by_part(module_level_only=True)
    dev_parts = set().union(*(imported[part] for part in DEV_PARTS))
    return sorted(undeclared(dev_parts, declared_distributions([])))


def run_without(modules: Iterable[str], code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter where importing any of ``modules`` fails, as in a core
    install (a ``None`` in ``sys.modules`` makes ``import`` raise ``ModuleNotFoundError``)."""
    hide = f"import sys\nfor name in {sorted(modules)!r}:\n    sys.modules[name] = None\n"
    return subprocess.run(
        [sys.executable, "-c", hide + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def missing_extra_line(part: str, module: str) -> str:
    return (
        f"{part} needs the dev extra, which is not installed (no module {module!r}): "
        "pip install 'dapr-actors-fastapi[dev]'"
    )


def test_the_app_side_runs_without_the_dev_extra() -> None:
    code = "import dapr_actors_fastapi, samples.quickstart\nprint(samples.quickstart.app.title)"
    # Also what the sidecar and the test kit import late, if at all: a core install lacks it.
    result = run_without([*dev_only_modules(), "uvloop", "pytest", "pytest_asyncio"], code)
    assert (result.returncode, result.stdout, result.stderr) == (0, "FastAPI\n", "")


@pytest.mark.parametrize("module", dev_only_modules())
@pytest.mark.parametrize("part", ["dapr_actors_fastapi.sidecar", "dapr_actors_fastapi.testing"])
def test_importing_a_dev_part_without_the_extra_names_the_fix(part: str, module: str) -> None:
    result = run_without([module], f"import {part}")
    assert result.returncode == 1
    expected = f"ModuleNotFoundError: {missing_extra_line(part, module)}"
    assert result.stderr.splitlines()[-1].endswith(expected), result.stderr


def test_the_command_without_the_extra_says_what_to_install_in_one_line() -> None:
    code = (
        "import runpy\nsys.argv = ['dapr-actors', 'run', 'samples.quickstart:app']\n"
        "runpy.run_module('dapr_actors_fastapi', run_name='__main__')"
    )
    result = run_without(dev_only_modules(), code)
    expected = "dapr-actors: error: " + missing_extra_line("the dapr-actors command", "aiohttp")
    assert (result.returncode, result.stderr, result.stdout) == (1, expected + "\n", "")


def test_the_command_is_the_entry_point_that_checks_the_extra() -> None:
    assert PROJECT["scripts"] == {"dapr-actors": "dapr_actors_fastapi.__main__:main"}
