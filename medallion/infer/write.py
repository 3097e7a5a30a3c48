"""Write inferred tables as ``<out>/tables/<table>.yaml``; on a re-run, merge and report.

A re-run never throws away what a person wrote: descriptions, column comments, rules,
``sequence_by``, ``partition_by``, extra keys and YAML ``#`` comments survive (the files are
edited in place with ruamel.yaml's round-trip mode). What the source decides is brought up to
date and reported:

- a new column is added, a new table written;
- a column dropped in the source stays declared (rules and silver history may use it) and is
  reported, for a person to remove;
- a retyped column whose declared type no longer holds the source's values is updated when the
  new type is wider (every old value still casts); any other change keeps the declared type and
  is a *conflict*: reported, exit status 1, until a person changes the type by hand. A declared
  type that still holds the new one (a person's deliberate ``string``, or a source that
  narrowed) is kept and mentioned;
- nullability follows the source; a key the source now gives fills an empty one, a different
  key is a conflict.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from medallion.infer.model import FoundColumn, FoundTable
from medallion.infer.types import widens

#: Records one change: ``(kind, message, column="")``.
Record = Callable[..., None]

TABLES_DIR = "tables"
NOTE_PREFIX = "infer: "


class Kind(StrEnum):
    NEW_TABLE = "new table"
    NEW_COLUMN = "new column"
    DROPPED_COLUMN = "dropped column"
    RETYPED = "retyped"
    TYPE_KEPT = "type kept"
    CONFLICT = "conflict"
    NULLABILITY = "nullability"
    KEY = "primary key"
    GONE_TABLE = "table gone"
    INCOMPLETE = "incomplete"
    NOTE = "mapping note"


@dataclass(frozen=True)
class Change:
    """One line of the report: which file, table and column, and what happened."""

    path: Path
    table: str
    kind: Kind
    message: str
    column: str = ""

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.path}: {where}: {self.kind}: {self.message}"


@dataclass
class Report:
    """What a run of ``infer`` wrote and changed."""

    changes: list[Change] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.kind is Kind.CONFLICT]

    def of(self, kind: Kind) -> list[Change]:
        return [c for c in self.changes if c.kind is kind]

    def __str__(self) -> str:
        lines = [str(c) for c in self.changes]
        lines.append(
            f"{len(self.written)} declaration(s) written, {len(self.unchanged)} unchanged, "
            f"{len(self.conflicts)} conflict(s)"
        )
        return "\n".join(lines)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps order, comments and quoting of what a person wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    yaml.preserve_quotes = True
    return yaml


def write_tables(found: Sequence[FoundTable], out: Path) -> Report:
    """Write or merge one declaration per table below ``out/tables``; return the report."""
    folder = out / TABLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    report = Report()
    yaml = _yaml()
    for table in found:
        path = folder / f"{table.name}.yaml"
        if path.exists():
            before = path.read_text()
            document = _load(yaml, path)
            problems = _merge(document, table, path, report)
        else:
            before = None
            document = _new_document(table)
            problems = list(table.problems)
            report.changes.append(
                Change(path, table.name, Kind.NEW_TABLE, f"{len(table.columns)} columns")
            )
        _report_notes(table, problems, path, report)
        text = _dump(yaml, document)
        if text == before:
            report.unchanged.append(path)
        else:
            path.write_text(text)
            report.written.append(path)
    _report_gone(yaml, folder, found, report)
    return report


def _load(yaml: YAML, path: Path) -> CommentedMap:
    try:
        document = yaml.load(path)
    except Exception as error:
        raise ValueError(f"{path}: not readable YAML: {error}") from error
    if not isinstance(document, CommentedMap):
        raise ValueError(f"{path}: expected a mapping with name, source and columns")
    return document


def _dump(yaml: YAML, document: CommentedMap) -> str:
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _flow(values: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def _new_column(column: FoundColumn) -> CommentedMap:
    entry = CommentedMap(name=column.name, type=column.type)
    if column.comment:
        entry["comment"] = column.comment
    if column.nullable is False:
        entry["nullable"] = False
    if column.note:
        entry.yaml_add_eol_comment(NOTE_PREFIX + column.note, "type")
    return entry


def _new_document(table: FoundTable) -> CommentedMap:
    document = CommentedMap(name=table.name, source=table.source)
    if table.description:
        document["description"] = table.description
    document["primary_key"] = _flow(list(table.primary_key))
    document["columns"] = CommentedSeq(_new_column(c) for c in table.columns)
    if table.problems:
        document["incomplete"] = "; ".join(table.problems)
    return document


def _merge(document: CommentedMap, table: FoundTable, path: Path, report: Report) -> list[str]:
    """Bring ``document`` up to date with ``table``; return what still makes it incomplete."""

    def change(kind: Kind, message: str, column: str = "") -> None:
        report.changes.append(Change(path, table.name, kind, message, column))

    if document.get("name") != table.name or document.get("source") != table.source:
        raise ValueError(
            f"{path}: declares name {document.get('name')!r}, source {document.get('source')!r}; "
            f"infer found table {table.name!r} of source {table.source!r}: move the file away "
            "or fix its name and source"
        )
    if not document.get("description") and table.description:
        document["description"] = table.description
    columns = document.get("columns")
    if not isinstance(columns, CommentedSeq):
        columns = document["columns"] = CommentedSeq()
    declared = {str(c.get("name")): c for c in columns if isinstance(c, CommentedMap)}
    position = 0
    for column in table.columns:
        entry = declared.get(column.name)
        if entry is None:
            columns.insert(position, _new_column(column))
            change(Kind.NEW_COLUMN, f"added as {column.type}", column.name)
        else:
            _merge_column(entry, column, change)
            position = list(columns).index(entry)
        position += 1
    for name in declared:
        if table.column(name) is None:
            change(
                Kind.DROPPED_COLUMN,
                "no longer in the source; still declared (remove it by hand once nothing uses it)",
                name,
            )
    return _merge_key(document, table, change)


def _merge_column(entry: CommentedMap, column: FoundColumn, change: Record) -> None:
    old = str(entry.get("type", "string"))
    new = column.type
    if old.replace(" ", "") != new:
        if widens(new, old):
            change(
                Kind.TYPE_KEPT, f"source maps to {new}; declared {old} holds it: kept", column.name
            )
        elif widens(old, new):
            entry["type"] = new
            change(Kind.RETYPED, f"{old} -> {new} (wider: updated)", column.name)
        else:
            change(
                Kind.CONFLICT,
                f"source now maps to {new}, declared {old} cannot hold its values: kept; "
                "change the type by hand",
                column.name,
            )
    if not entry.get("comment") and column.comment:
        entry["comment"] = column.comment
    if column.nullable is not None:
        was = entry.get("nullable", True) is not False
        if was != column.nullable:
            if column.nullable:
                del entry["nullable"]
            else:
                entry["nullable"] = False
            state = "nullable" if column.nullable else "NOT NULL"
            change(Kind.NULLABILITY, f"now {state} in the source: updated", column.name)


def _merge_key(document: CommentedMap, table: FoundTable, change: Record) -> list[str]:
    declared = [str(k) for k in document.get("primary_key") or ()]
    found = list(table.primary_key)
    problems = list(table.problems)
    if found and not declared:
        document["primary_key"] = _flow(found)
        change(Kind.KEY, f"set to {found}")
    elif found and declared != found:
        change(Kind.CONFLICT, f"source key is {found}, declared {declared}: kept")
    if declared and not found:
        # A key a person declared for a source without one: the missing key is no problem.
        problems = [p for p in problems if "primary key" not in p]
    if problems:
        document["incomplete"] = "; ".join(problems)
    elif "incomplete" in document:
        del document["incomplete"]
        change(Kind.INCOMPLETE, "complete now: 'incomplete' removed")
    return problems


def _report_notes(table: FoundTable, problems: list[str], path: Path, report: Report) -> None:
    for column in table.columns:
        if column.note:
            report.changes.append(Change(path, table.name, Kind.NOTE, column.note, column.name))
    for problem in problems:
        report.changes.append(Change(path, table.name, Kind.INCOMPLETE, problem))


def _report_gone(yaml: YAML, folder: Path, found: Sequence[FoundTable], report: Report) -> None:
    if not found:
        return
    source = found[0].source
    names = {t.name for t in found}
    for path in sorted(folder.glob("*.yaml")):
        if path.stem in names:
            continue
        document = _load(yaml, path)
        if document.get("source") == source:
            report.changes.append(
                Change(
                    path,
                    path.stem,
                    Kind.GONE_TABLE,
                    f"not in source {source!r} any more; declaration kept (remove it by hand)",
                )
            )
