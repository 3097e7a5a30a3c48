"""Load a domain folder: table declarations and gold models, checked as a whole.

A domain is a folder the user owns (``--domain PATH``, ``MEDALLION_DOMAIN``, default
``./domain``)::

    tables/<table>.yaml     one table per file, validated by schemas/table.schema.json
    models/<model>.yaml     a gold model computed by Python (schemas/model.schema.json)
    models/<model>.sql      a gold model in Spark SQL (medallion.spec.sql_model)

:func:`inspect_domain` collects every problem (file, table or model, key) without stopping at
the first; :func:`load_domain` raises them all at once as :class:`DomainErrors`. Pure Python:
the Pulumi program loads the domain with the same code, so ``pulumi preview`` fails with the
same messages as ``medallion check``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medallion.spec.model import DMS_COLUMNS, Column, Domain, GoldModel, Rule, SpecError, Table

if TYPE_CHECKING:
    import jsonschema

# PyYAML, jsonschema and sqlglot are imported where a domain is read, so that the declaration
# types (``import medallion.spec``) need nothing beyond the standard library.

#: Environment variable naming the domain folder; the default is ``./domain``.
DOMAIN_ENV = "MEDALLION_DOMAIN"
DEFAULT_DOMAIN = "domain"
TABLES_DIR = "tables"
MODELS_DIR = "models"
YAML_SUFFIXES = (".yaml", ".yml")
SQL_SUFFIX = ".sql"
#: The module that reads SQL models (loaded only when a ``.sql`` model is present).
SQL_MODEL_MODULE = "medallion.spec.sql_model"
#: Spark SQL is the dialect of rule expressions and SQL models.
DIALECT = "spark"
_SCHEMA_PACKAGE = "medallion.spec.schemas"
#: sqlglot's wording for ``a >`` or ``a AND``: the operator whose operand is missing.
_MISSING_OPERAND = re.compile(r"^Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>")
_TYPES = "string int bigint smallint double float boolean date timestamp decimal(p,s)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a domain: the file it is in and what, naming the key."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class DomainErrors(SpecError):
    """Every problem of a domain; the message lists them, one per line, each naming its file."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def domain_path(path: str | os.PathLike[str] | None = None) -> str:
    """``path`` if given, else ``$MEDALLION_DOMAIN``, else ``domain`` (relative to the cwd)."""
    return os.fspath(path) if path else os.environ.get(DOMAIN_ENV) or DEFAULT_DOMAIN


def load_domain(path: str | os.PathLike[str], *, label: str | None = None) -> Domain:
    """The domain in folder ``path``; :class:`DomainErrors` listing every problem otherwise.

    ``label`` names the folder in messages (e.g. the S3 URI a copy was downloaded from).
    """
    domain, problems = inspect_domain(path, label=label)
    if problems or domain is None:
        raise DomainErrors(problems)
    return domain


def inspect_domain(
    path: str | os.PathLike[str], *, label: str | None = None
) -> tuple[Domain | None, list[Problem]]:
    """Load and check the domain in ``path``: the domain (when sound) and every problem found."""
    root = Path(path)
    shown = (label or os.fspath(path)).rstrip("/")
    problems: list[Problem] = []

    def where(file: Path) -> str:
        return f"{shown}/{file.relative_to(root).as_posix()}"

    if not root.is_dir():
        return None, [Problem(shown, "no such domain folder (give --domain or MEDALLION_DOMAIN)")]
    table_files = _files(root / TABLES_DIR, YAML_SUFFIXES, where, problems)
    if not table_files:
        problems.append(
            Problem(f"{shown}/{TABLES_DIR}", "no table declarations (tables/<name>.yaml)")
        )
    tables: list[tuple[str, Table]] = []
    for file in table_files:
        table = _load_table(file, where(file), problems)
        if table is not None:
            tables.append((where(file), table))

    declared = {file.stem for file in table_files}  # known even when a declaration is broken
    broken = declared - {t.name for _, t in tables}
    models: list[tuple[str, GoldModel]] = []
    unloaded: list[tuple[str, str]] = []  # SQL models that failed: (file, name) for name clashes
    for file in _files(root / MODELS_DIR, (*YAML_SUFFIXES, SQL_SUFFIX), where, problems):
        if file.suffix == SQL_SUFFIX:
            tables_now = [t for _, t in tables]
            model = _load_sql_model(file, where(file), tables_now, broken, problems)
            if model is None:
                unloaded.append((where(file), file.stem))
        else:
            model = _load_python_model(file, where(file), problems)
        if model is not None:
            models.append((where(file), model))

    problems += _cross_checks(tables, models, declared, unloaded)
    if problems:
        return None, problems
    try:
        domain = Domain(tables=tuple(t for _, t in tables), gold_models=tuple(m for _, m in models))
    except SpecError as error:  # every rule of Domain is checked above; kept as a safety net
        return None, [Problem(shown, str(error))]
    return domain, []


# ------------------------------------------------------------------------------ files


def _files(
    folder: Path, suffixes: tuple[str, ...], where: Any, problems: list[Problem]
) -> list[Path]:
    """The declaration files of ``folder`` (sorted); anything else there is reported."""
    if not folder.is_dir():
        return []
    found = []
    for file in sorted(folder.iterdir()):
        if file.name.startswith((".", "_")):
            continue
        if file.is_file() and file.suffix in suffixes:
            found.append(file)
        else:
            problems.append(
                Problem(where(file), f"not a declaration (expected <name>{'|'.join(suffixes)})")
            )
    return found


def _read_yaml(file: Path, shown: str, problems: list[Problem]) -> dict[str, Any] | None:
    import yaml

    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(Problem(shown, f"{line}invalid YAML: {reason}"))
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, f"cannot read: {error}"))
        return None
    if not isinstance(document, dict):
        problems.append(Problem(shown, "must be a YAML mapping (name: …, columns: …)"))
        return None
    return document


@cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema shipped with the package: ``table`` or ``model``."""
    text = resources.files(_SCHEMA_PACKAGE).joinpath(f"{kind}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _schema_problems(document: dict[str, Any], kind: str, what: str, shown: str) -> list[Problem]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(kind))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [Problem(shown, f"{what}: {_describe(error, document)}") for error in errors]


def _describe(error: jsonschema.ValidationError, document: Mapping[str, Any]) -> str:
    """``key columns[2].type (column 'discount'): …`` from a schema error."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        return f"key {_key([*path, extra[0]] if extra else path, document)}: unknown key " + (
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"key {_key([*path, missing], document)}: missing (required)"
    if error.validator == "pattern" and path and path[-1] == "type":
        return f"key {_key(path, document)}: unsupported type {error.instance!r} (use {_TYPES})"
    if error.validator == "pattern" and error.schema.get("pattern") == "^[a-z][a-z0-9_]*$":
        return f"key {_key(path, document)}: {error.instance!r} must be lower snake case"
    return f"key {_key(path, document)}: {error.message}"


def _key(path: Sequence[Any], document: Mapping[str, Any]) -> str:
    """``columns[2].type``, followed by `` (column 'x')`` when the list item has a name."""
    text, node, named = "", document, ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else {}
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                kind = {"columns": "column", "rules": "rule"}.get(text.split("[")[0], "item")
                named = f" ({kind} {node['name']!r})"
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part, {}) if isinstance(node, dict) else {}
    return (text or "(top level)") + named


# ------------------------------------------------------------------------------ tables


def _load_table(file: Path, shown: str, problems: list[Problem]) -> Table | None:
    document = _read_yaml(file, shown, problems)
    if document is None:
        return None
    name = document.get("name")
    what = f"table {name!r}" if isinstance(name, str) else f"table {file.stem!r}"
    found = _schema_problems(document, "table", what, shown)
    if found:
        problems += found
        return None
    found = _table_problems(document, file.stem, what, shown)
    if found:
        problems += found
        return None
    try:
        return Table(
            name=document["name"],
            source=document["source"],
            description=document.get("description", ""),
            primary_key=tuple(document["primary_key"]),
            sequence_by=tuple(document.get("sequence_by", Table.sequence_by)),
            partition_by=tuple(document.get("partition_by", ())),
            columns=tuple(_column(c) for c in document["columns"]),
            rules=tuple(
                Rule(r["name"], r["expression"], r.get("action", "quarantine"))
                for r in document.get("rules", ())
            ),
            incomplete=document.get("incomplete", ""),
        )
    except SpecError as error:
        problems.append(Problem(shown, str(error)))
        return None


def _column(document: Mapping[str, Any]) -> Column:
    return Column(
        name=document["name"],
        type=document.get("type", "string"),
        comment=document.get("comment", ""),
        nullable=document.get("nullable", True),
    )


def _table_problems(document: dict[str, Any], stem: str, what: str, shown: str) -> list[Problem]:
    found: list[str] = []
    if document["name"] != stem:
        found.append(f"key name: {document['name']!r} differs from the file name {stem!r}")
    names = [c["name"] for c in document["columns"]]
    found += [f"key columns (column {n!r}): declared twice" for n in _duplicates(names)] + [
        f"key columns (column {n!r}): reserved for the DMS column of the same name"
        for n in names
        if n in DMS_COLUMNS
    ]
    if not document["primary_key"] and not document.get("incomplete"):
        found.append("key primary_key: at least one column is required")
    orderable = {*names, *DMS_COLUMNS}
    for key, known in (("primary_key", names), ("partition_by", names), ("sequence_by", orderable)):
        for column in document.get(key, ()):
            if column not in known:
                found.append(f"key {key}: unknown column {column!r} (columns: {', '.join(names)})")
    rules = document.get("rules", [])
    found += [
        f"key rules (rule {n!r}): declared twice" for n in _duplicates(r["name"] for r in rules)
    ]
    for index, rule in enumerate(rules):
        found += [
            f"key rules[{index}].expression (rule {rule['name']!r}): {message}"
            for message in expression_problems(rule["expression"], names)
        ]
    if document.get("incomplete"):
        found.append(f"key incomplete: {document['incomplete']}")
    return [Problem(shown, f"{what}: {message}") for message in found]


def expression_problems(expression: str, columns: Iterable[str]) -> list[str]:
    """What is wrong with a rule expression: Spark SQL syntax, then unknown columns."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expression, read=DIALECT)
    except sqlglot.errors.ParseError as error:
        details = error.errors[0] if error.errors else {}
        reason = details.get("description") or str(error).splitlines()[0]
        operator = _MISSING_OPERAND.match(reason)
        if operator:
            reason = f"{operator[1]} is missing an operand"
        column = details.get("col")
        at = f" at character {column}" if column else ""
        return [f"not valid Spark SQL{at}: {reason} in {expression!r}"]
    if isinstance(tree, exp.Select | exp.Query):
        return [f"must be a boolean expression, not a query: {expression!r}"]
    known = set(columns)
    unknown = sorted({c.name for c in tree.find_all(exp.Column) if c.name not in known})
    return [f"unknown column {c!r} in {expression!r}" for c in unknown]


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


# ------------------------------------------------------------------------------ models


def _load_python_model(file: Path, shown: str, problems: list[Problem]) -> GoldModel | None:
    document = _read_yaml(file, shown, problems)
    if document is None:
        return None
    name = document.get("name")
    what = f"model {name!r}" if isinstance(name, str) else f"model {file.stem!r}"
    found = _schema_problems(document, "model", what, shown)
    if not found:
        messages = []
        if name != file.stem:
            messages.append(f"key name: {name!r} differs from the file name {file.stem!r}")
        columns = [c["name"] for c in document["columns"]]
        messages += [f"key columns (column {n!r}): declared twice" for n in _duplicates(columns)]
        for key in ("grain", "partition_by"):
            messages += [
                f"key {key}: unknown column {c!r} (columns: {', '.join(columns)})"
                for c in document.get(key, ())
                if c not in columns
            ]
        found = [Problem(shown, f"{what}: {m}") for m in messages]
    if found:
        problems += found
        return None
    try:
        return GoldModel(
            name=document["name"],
            description=document.get("description", ""),
            transform=document["transform"],
            scope=document.get("scope", ""),
            sources=tuple(document["sources"]),
            grain=tuple(document["grain"]),
            partition_by=tuple(document.get("partition_by", ())),
            columns=tuple(_column(c) for c in document["columns"]),
        )
    except SpecError as error:
        problems.append(Problem(shown, str(error)))
        return None


def _load_sql_model(
    file: Path, shown: str, tables: Sequence[Table], broken: set[str], problems: list[Problem]
) -> GoldModel | None:
    """A ``.sql`` model through :mod:`medallion.spec.sql_model`, imported only when needed.

    A model that reads a table whose declaration is ``broken`` is not reported: the table's own
    problem says what to fix, and the model is checked again once it is fixed.
    """
    if importlib.util.find_spec(SQL_MODEL_MODULE) is None:
        problems.append(
            Problem(
                shown,
                f"model {file.stem!r}: SQL models need {SQL_MODEL_MODULE}, "
                "which this version of medallion does not have",
            )
        )
        return None
    module = importlib.import_module(SQL_MODEL_MODULE)
    try:
        model: GoldModel = module.load_sql_model(file, tables)
    except SpecError as error:
        message = str(error).removeprefix(f"{file}:").removeprefix(f"{shown}:").strip()
        if not any(f"unknown table {name!r}" in message for name in broken):
            problems.append(Problem(shown, message))
        return None
    return model


# ------------------------------------------------------------------------------ whole domain


def _cross_checks(
    tables: Sequence[tuple[str, Table]],
    models: Sequence[tuple[str, GoldModel]],
    declared: set[str],
    unloaded: Sequence[tuple[str, str]] = (),
) -> list[Problem]:
    """Models against the tables they read, and one name per table, quarantine and model."""
    problems: list[Problem] = []
    known = declared | {t.name for _, t in tables}
    for file, model in models:
        problems += [
            Problem(
                file,
                f"model {model.name!r}: key sources: unknown table {source!r} "
                f"(tables: {', '.join(sorted(known)) or 'none'})",
            )
            for source in model.sources
            if source not in known
        ]
    owners: dict[str, str] = {}
    for file, name, what in [
        *((f, t.name, f"table {t.name!r}") for f, t in tables),
        *((f, t.quarantine_name, f"the quarantine table of table {t.name!r}") for f, t in tables),
        *((f, m.name, f"model {m.name!r}") for f, m in models),
        *((f, name, f"model {name!r}") for f, name in unloaded),
    ]:
        if name in owners:
            problems.append(
                Problem(file, f"{what}: key name: {name!r} is already used by {owners[name]}")
            )
        else:
            owners[name] = f"{what} ({file})"
    return problems
