"""A domain folder's tables as a :class:`Domain`, for the infer tests.

Uses the package's loader (``medallion.spec.loader.load_domain``) where it exists; otherwise a
minimal reader of the agreed table format (name, source, description, primary_key, sequence_by,
partition_by, columns with name/type/comment, rules).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from medallion.spec import Column, Domain, Rule, Table


def load(folder: Path) -> Domain:
    if importlib.util.find_spec("medallion.spec.loader") is not None:
        from medallion.spec.loader import load_domain  # type: ignore[import-not-found]

        return load_domain(folder)  # type: ignore[no-any-return]
    yaml = YAML(typ="safe")
    tables = [_table(yaml.load(p)) for p in sorted((folder / "tables").glob("*.yaml"))]
    return Domain(tuple(tables))


def _table(document: dict[str, Any]) -> Table:
    optional = {
        key: tuple(document[key]) for key in ("sequence_by", "partition_by") if key in document
    }
    return Table(
        name=document["name"],
        source=document["source"],
        description=document.get("description", ""),
        primary_key=tuple(document["primary_key"]),
        columns=tuple(
            Column(c["name"], c["type"], c.get("comment", "")) for c in document["columns"]
        ),
        rules=tuple(Rule(**r) for r in document.get("rules", ())),
        **optional,
    )
