"""The package's layers (docs/architecture.md), checked from the source's import statements.

Every import counts: module-level, inside functions, and under ``TYPE_CHECKING``. The rules:

* each module belongs to one layer, and imports only its own layer and the layers below;
* the dev sidecar imports only the leaves, the wire and telemetry layers (and, of the client
  layer, only its connection pool), and the app side never imports the dev sidecar or the test
  kit;
* no import cycle, and no module imports another module's ``_private`` name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = "dapr_actors_fastapi"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Lowest first. A module belongs to the first entry whose prefix names it or its package.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leaves", (f"{PACKAGE}.exceptions", f"{PACKAGE}.durations", f"{PACKAGE}._turn",
                f"{PACKAGE}._version", f"{PACKAGE}._dev_extra")),
    ("wire", (f"{PACKAGE}._wire",)),
    ("telemetry", (f"{PACKAGE}._telemetry",)),
    ("client", (f"{PACKAGE}._client",)),
    ("actor API", (f"{PACKAGE}._actor_api",)),
    ("hosting", (f"{PACKAGE}._hosting",)),
    ("runtime", (f"{PACKAGE}._runtime",)),
    ("package", (PACKAGE,)),
)  # fmt: skip
# Tools beside the layers, with the layers each may use.
TOOLS: Mapping[str, tuple[str, frozenset[str]]] = {
    "dev sidecar": (f"{PACKAGE}.sidecar", frozenset({"leaves", "wire", "telemetry"})),
    "test kit": (f"{PACKAGE}.testing", frozenset({"leaves", "wire", "client", "dev sidecar"})),
    "command": (f"{PACKAGE}.__main__", frozenset({"leaves", "dev sidecar"})),
}
# Single modules a tool may import beyond its layers: the dev sidecar's app channel sends through
# the client layer's keep-alive pool, a transport with no app-side knowledge in it.
TOOL_MODULES: Mapping[str, frozenset[str]] = {
    "dev sidecar": frozenset({f"{PACKAGE}._client.connection_pool"}),
}
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}


class Import:
    """One imported module, and the names taken from it."""

    def __init__(self, module: str, names: tuple[str, ...], line: int) -> None:
        self.module, self.names, self.line = module, names, line


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(module: str) -> bool:
    return (ROOT.parent / module.replace(".", "/") / "__init__.py").exists()


def imports_in(source: str, module: str, *, is_init: bool = False) -> Iterator[Import]:
    """Every import of the package's own modules in ``source``, wherever it stands."""
    package = module if is_init else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield Import(alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != PACKAGE:
                continue
            names = tuple(alias.name for alias in node.names)
            submodules = [f"{base}.{name}" for name in names if is_package(f"{base}.{name}")]
            submodules += [
                f"{base}.{name}"
                for name in names
                if (ROOT.parent / f"{base}.{name}".replace(".", "/")).with_suffix(".py").exists()
            ]
            if submodules:
                for submodule in submodules:
                    yield Import(submodule, (), node.lineno)
            else:
                yield Import(base, names, node.lineno)


def import_graph() -> dict[str, list[Import]]:
    return {
        module_name(path): list(
            imports_in(path.read_text(), module_name(path), is_init=path.name == "__init__.py")
        )
        for path in sorted(ROOT.rglob("*.py"))
    }


def place(module: str) -> str | None:
    """The layer or tool ``module`` belongs to, or ``None``."""
    for name, (prefix, _) in TOOLS.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    if module == PACKAGE:
        return "package"
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix != PACKAGE and (module == prefix or module.startswith(prefix + ".")):
                return name
    return None


def violations(graph: Mapping[str, list[Import]]) -> list[str]:
    """Every broken rule, as ``module:line: what``."""
    found: list[str] = []
    for module, imports in graph.items():
        home = place(module)
        if home is None:
            found.append(f"{module}: belongs to no layer; add it to LAYERS or TOOLS")
            continue
        for imported in imports:
            where = f"{module}:{imported.line}"
            target = place(imported.module)
            if target is None:
                found.append(f"{where}: imports {imported.module}, which belongs to no layer")
            elif home in TOOLS:
                allowed = TOOLS[home][1] | {home}
                extra = TOOL_MODULES.get(home, frozenset())
                if target not in allowed and imported.module not in extra:
                    found.append(f"{where}: the {home} imports {imported.module} ({target})")
            elif target in TOOLS:
                found.append(f"{where}: the app side imports the {target}: {imported.module}")
            elif home != "package" and RANK[target] > RANK[home]:
                found.append(
                    f"{where}: {home} imports {imported.module}, from the higher layer {target}"
                )
            private = [name for name in imported.names if name.startswith("_")]
            private = [name for name in private if not name.startswith("__")]
            if private and imported.module != module:
                found.append(f"{where}: imports private names {private} from {imported.module}")
    found += [f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(graph)]
    return found


def cycles(graph: Mapping[str, list[Import]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm)."""
    edges = {
        module: {i.module for i in imports if i.module != module}
        for module, imports in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return groups


def test_every_module_keeps_to_its_layer() -> None:
    graph = import_graph()
    assert len(graph) > 30, sorted(graph)  # the walk found the package
    assert violations(graph) == []


def test_the_layers_are_those_of_the_architecture_page() -> None:
    graph = import_graph()
    placed = {place(module) for module in graph}
    assert placed == {name for name, _ in LAYERS} | set(TOOLS)
    architecture = (ROOT.parent / "docs" / "architecture.md").read_text()
    for _, prefixes in LAYERS[:-1]:
        for prefix in prefixes:
            assert prefix.removeprefix(PACKAGE + ".") in architecture, prefix


def test_every_kind_of_import_is_seen() -> None:
    source = """
from typing import TYPE_CHECKING
from ..exceptions import ActorError
from .. import durations
import dapr_actors_fastapi._turn
if TYPE_CHECKING:
    from .._runtime import ActorRuntime
def late():
    from ..sidecar.server import Sidecar
"""
    found = {i.module for i in imports_in(source, f"{PACKAGE}._hosting.example")}
    assert found == {
        f"{PACKAGE}.exceptions",
        f"{PACKAGE}.durations",
        f"{PACKAGE}._turn",
        f"{PACKAGE}._runtime",
        f"{PACKAGE}.sidecar.server",
    }


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        (
            {f"{PACKAGE}._wire.x": [Import(f"{PACKAGE}._runtime", ("ActorRuntime",), 3)]},
            "higher layer runtime",
        ),
        (
            {f"{PACKAGE}.sidecar.x": [Import(f"{PACKAGE}._client.sidecar_client", ("X",), 1)]},
            "the dev sidecar imports",
        ),
        (
            {f"{PACKAGE}._hosting.x": [Import(f"{PACKAGE}.sidecar.server", ("Sidecar",), 1)]},
            "the app side imports the dev sidecar",
        ),
        (
            {f"{PACKAGE}._actor_api.a": [Import(f"{PACKAGE}._actor_api.b", ("_helper",), 9)]},
            "private names ['_helper']",
        ),
        (
            {
                f"{PACKAGE}._actor_api.a": [Import(f"{PACKAGE}._actor_api.b", ("B",), 1)],
                f"{PACKAGE}._actor_api.b": [Import(f"{PACKAGE}._actor_api.a", ("A",), 1)],
            },
            "import cycle",
        ),
        ({f"{PACKAGE}.newthing": []}, "belongs to no layer"),
    ],
)
def test_the_checker_reports_each_kind_of_violation(
    graph: dict[str, list[Import]], expected: str
) -> None:
    found = violations(graph)
    assert any(expected in line for line in found), found
