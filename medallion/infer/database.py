"""Read a live database catalog with SQLAlchemy's inspector (PostgreSQL, MySQL, MariaDB)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from medallion.infer.model import FoundColumn, FoundTable, naming_problems
from medallion.infer.types import describe, from_sqlalchemy

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect, Engine
    from sqlalchemy.engine.interfaces import ReflectedColumn

#: URL schemes accepted by ``--from`` and the SQLAlchemy driver each one uses.
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def is_database_url(value: str) -> bool:
    scheme = value.split("://", 1)[0] if "://" in value else ""
    return scheme.split("+", 1)[0] in DRIVERS


def engine_url(url: str) -> str:
    """``postgresql://…`` -> ``postgresql+psycopg://…`` (an explicit ``+driver`` is kept)."""
    scheme, rest = url.split("://", 1)
    return url if "+" in scheme else f"{DRIVERS[scheme]}://{rest}"


def read_database(
    url: str, source: str, primary_keys: Mapping[str, tuple[str, ...]] | None = None
) -> list[FoundTable]:
    """Every table of schema ``source`` (for MySQL/MariaDB: the database of that name).

    ``primary_keys`` replaces the key the catalog gives (or lacks) for the tables it names.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    engine = create_engine(engine_url(url))
    try:
        return _read(engine, url, source, primary_keys or {})
    except DBAPIError as error:
        raise ValueError(f"{_safe(url)}: cannot read the catalog: {error.orig}") from error
    finally:
        engine.dispose()


def _read(
    engine: Engine, url: str, source: str, primary_keys: Mapping[str, tuple[str, ...]]
) -> list[FoundTable]:
    from sqlalchemy import inspect

    inspector = inspect(engine)
    if source not in inspector.get_schema_names():
        raise ValueError(f"{_safe(url)}: no schema (or database) named {source!r}")
    tables = []
    for name in sorted(inspector.get_table_names(schema=source)):
        columns = tuple(
            _column(c, engine.dialect) for c in inspector.get_columns(name, schema=source)
        )
        key = tuple(inspector.get_pk_constraint(name, schema=source)["constrained_columns"])
        comment = inspector.get_table_comment(name, schema=source).get("text") or ""
        tables.append(_table(name, source, columns, key, comment, primary_keys))
    return tables


def _column(reflected: ReflectedColumn, dialect: Dialect) -> FoundColumn:
    source_type = describe(reflected["type"], dialect)
    mapped = from_sqlalchemy(reflected["type"], source_type)
    return FoundColumn(
        name=reflected["name"],
        type=mapped.type,
        comment=reflected.get("comment") or "",
        nullable=bool(reflected.get("nullable", True)),
        source_type=source_type,
        note=mapped.note,
    )


def _table(
    name: str,
    source: str,
    columns: tuple[FoundColumn, ...],
    key: tuple[str, ...],
    comment: str,
    primary_keys: Mapping[str, tuple[str, ...]],
) -> FoundTable:
    problems = naming_problems(name, [c.name for c in columns])
    if name in primary_keys:
        key = primary_keys[name]
        unknown = [k for k in key if k not in {c.name for c in columns}]
        if unknown:
            raise ValueError(f"--primary-key {name}: table {name!r} has no column(s) {unknown}")
    if not key:
        problems.append(
            f"table {name!r} has no primary key in the source; pass --primary-key {name}=COLUMN"
        )
    return FoundTable(name, source, columns, key, comment, tuple(problems))


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(engine_url(url)).render_as_string(hide_password=True)
