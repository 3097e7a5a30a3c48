"""Every reference to the design points to a section that exists in ``docs/``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")] + [
    path for folder in ("medallion", "infra", "tests") for path in (ROOT / folder).rglob("*.py")
]
#: ``docs/contract.md#landing`` in code, ``(contract.md#landing)`` or ``(#landing)`` in docs.
REFERENCE = re.compile(r"(?:docs/)?([\w-]+\.md)?#([a-z0-9][a-z0-9-]*)")


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in document.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def references(path: Path) -> list[tuple[str, str]]:
    """(document, anchor) of each reference in ``path``."""
    found = []
    for match in REFERENCE.finditer(path.read_text(encoding="utf-8")):
        document, anchor = match.groups()
        start = match.string[max(0, match.start() - 6) : match.start()]
        if document is None and not (path.suffix == ".md" and start.endswith("(")):
            continue  # a "#" in code or prose, not a link
        found.append((document or path.name, anchor))
    return found


def broken(paths: list[Path]) -> list[str]:
    problems = []
    for path in paths:
        for document, anchor in references(path):
            target = ROOT / "docs" / document
            if not target.exists():
                target = ROOT / document
            if not target.exists():
                problems.append(f"{path.relative_to(ROOT)}: {document} does not exist")
            elif anchor not in anchors(target):
                problems.append(f"{path.relative_to(ROOT)}: {document} has no section #{anchor}")
    return problems


def test_every_reference_to_the_docs_names_a_section_that_exists() -> None:
    assert broken(SOURCES) == []


def test_no_reference_to_a_design_document_outside_the_repository() -> None:
    design = "DESIGN" + " §"  # spelled apart, so that this file does not match itself
    assert [str(p.relative_to(ROOT)) for p in SOURCES if design in p.read_text()] == []


def test_a_reference_to_a_missing_section_is_found() -> None:
    planted = ROOT / "medallion" / "planted_for_test.py"
    try:
        reference = "docs/contract.md" + "#no-such-section"  # apart: not a reference here
        planted.write_text(f'"""See {reference}."""\n', encoding="utf-8")
        assert broken([planted]) == [
            "medallion/planted_for_test.py: contract.md has no section #no-such-section"
        ]
    finally:
        planted.unlink()
