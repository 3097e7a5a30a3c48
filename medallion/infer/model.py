"""What infer found in a source: tables and columns before they become YAML declarations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FoundColumn:
    """A source column with the declared type it maps to; ``note`` says what is lossy."""

    name: str
    type: str
    comment: str = ""
    #: ``None`` when the source does not say (landed files).
    nullable: bool | None = None
    source_type: str = ""
    note: str = ""


@dataclass(frozen=True)
class FoundTable:
    """A source table; ``problems`` make its declaration ``incomplete``."""

    name: str
    source: str
    columns: tuple[FoundColumn, ...]
    primary_key: tuple[str, ...] = ()
    description: str = ""
    problems: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> FoundColumn | None:
        return next((c for c in self.columns if c.name == name), None)


def naming_problems(table: str, columns: list[str]) -> list[str]:
    """Names a declaration cannot hold: medallion declares lower snake case only."""
    problems = []
    if not _NAME.match(table):
        problems.append(f"table name {table!r} is not lower snake case")
    bad = [c for c in columns if not _NAME.match(c)]
    if bad:
        problems.append(f"column names {bad} are not lower snake case")
    return problems


def parse_primary_keys(values: list[str] | None) -> dict[str, tuple[str, ...]]:
    """``["lines=order_id,line_no"]`` -> ``{"lines": ("order_id", "line_no")}``."""
    keys: dict[str, tuple[str, ...]] = {}
    for value in values or ():
        table, _, columns = value.partition("=")
        names = tuple(c.strip() for c in columns.split(",") if c.strip())
        if not table.strip() or not names:
            raise ValueError(f"--primary-key {value!r}: expected TABLE=COLUMN[,COLUMN...]")
        keys[table.strip()] = names
    return keys
