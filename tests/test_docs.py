"""The repository's own notes stay true to the code: every citation of docs/protocol.md names a
section or policy that exists, every file the docs name exists, and nothing cites a document
outside the repository (a clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dapr_actors_fastapi"
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
SOURCES = sorted(
    path
    for folder in ("dapr_actors_fastapi", "tests", "samples", "benchmarks")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in {".py", ".lua", ".md"} and "node_modules" not in path.parts
)
SECTIONS = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[ .]", PROTOCOL, re.MULTILINE))
# A file name in backticks: source, docs, data, YAML resources and Dockerfiles.
FILE_NAME = r"`([A-Za-z0-9_./-]+\.(?:py|md|json|lua|toml|yaml|yml)|[A-Za-z0-9_./-]*Dockerfile)`"
POLICIES = set(re.findall(r"^\| \**(P\d+)\**", PROTOCOL, re.MULTILINE))


def cited_sections() -> dict[str, set[str]]:
    """§ numbers on the lines that cite protocol.md, by file."""
    found: dict[str, set[str]] = {}
    for path in [*SOURCES, ROOT / "README.md", *DOCS]:
        for line in path.read_text().splitlines():
            if "protocol.md" in line or path.name == "protocol.md":
                numbers = set(re.findall(r"§(\d+(?:\.\d+)?)", line))
                if numbers:
                    found.setdefault(str(path.relative_to(ROOT)), set()).update(numbers)
    return found


def test_the_protocol_page_has_its_sections_and_policies() -> None:
    assert {"2.5", "4.4", "5.5", "7.2", "9.3", "13"} <= SECTIONS
    assert {f"P{n}" for n in range(1, 17)} <= POLICIES


def test_every_cited_section_exists() -> None:
    citations = cited_sections()
    assert len(citations) > 20  # the code does cite the page
    missing = {
        where: sorted(numbers - SECTIONS)
        for where, numbers in citations.items()
        if numbers - SECTIONS
    }
    assert missing == {}


def test_every_policy_code_in_the_package_exists() -> None:
    codes = {
        code
        for path in PACKAGE.rglob("*.py")
        for code in re.findall(r"\b(P\d{1,2})\b", path.read_text())
    }
    assert codes, "the package cites policy codes"
    assert codes - POLICIES == set()


@pytest.mark.parametrize("page", [*DOCS, ROOT / "README.md"], ids=lambda page: page.name)
def test_every_file_a_page_names_exists(page: Path) -> None:
    names = set(re.findall(FILE_NAME, page.read_text()))
    basenames = {
        path.name
        for path in ROOT.rglob("*")
        if not {".venv", "node_modules"} & set(path.parts)  # installed, not the project's
    }
    missing = [
        name
        for name in sorted(names)
        if not (
            (ROOT / name).exists()
            or (PACKAGE / name).exists()
            or (ROOT / "docs" / name).exists()
            or ("/" not in name and name in basenames)
        )
    ]
    assert missing == []


def test_nothing_cites_a_document_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|DESIGN\.md|(?<![\w/])shared/spec")
    offenders = [
        str(path.relative_to(ROOT))
        for path in [*SOURCES, ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS]
        if path != Path(__file__) and outside.search(path.read_text())
    ]
    assert offenders == []
