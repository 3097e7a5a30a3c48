"""Helpers for the infer tests: run SQL on a real server, read the written YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import create_engine, text


def execute(url: str, *statements: str) -> None:
    """Run DDL/DML statements in one transaction."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def rows(url: str, query: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(query))]
    finally:
        engine.dispose()


def declaration(out: Path, table: str) -> dict[str, Any]:
    """The written ``tables/<table>.yaml`` as plain Python values."""
    loaded = YAML(typ="safe").load(out / "tables" / f"{table}.yaml")
    assert isinstance(loaded, dict)
    return loaded


def column_types(document: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["type"] for c in document["columns"]}


def column(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in document["columns"] if c["name"] == name)
