"""The Delta tables each layer registers in the Glue catalog, derived from the declarations.

Pure Python over :mod:`medallion.spec`: which tables exist per layer and their columns as the
catalog should first show them (the jobs update the schema after each write; Athena reads the
real schema from the Delta log either way). Lineage and quarantine columns come from the shared
contract (:mod:`medallion.spec.contract`), so the entries match the tables the jobs write.
"""

from __future__ import annotations

from dataclasses import dataclass

from medallion.spec import DMS_COLUMNS, Column, Domain
from medallion.spec.contract import BRONZE_LINEAGE, quarantine_columns, quarantine_name


@dataclass(frozen=True)
class DeltaTableSpec:
    """One catalog entry: table name, columns and partition keys (name, Hive type)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...] = ()
    description: str = ""


def bronze_tables(domain: Domain) -> tuple[DeltaTableSpec, ...]:
    """Every landed column as a string (raw DMS columns too), then the typed lineage."""
    return tuple(
        DeltaTableSpec(
            name=table.name,
            columns=_raw_columns(table.column_names) + BRONZE_LINEAGE,
            description=f"Every change landed for {table.source}.{table.name}, as received.",
        )
        for table in domain.tables
    )


def silver_tables(domain: Domain) -> tuple[DeltaTableSpec, ...]:
    """The current state per key with declared types, and each table's quarantine."""
    specs: list[DeltaTableSpec] = []
    for table in domain.tables:
        specs.append(
            DeltaTableSpec(
                name=table.name,
                columns=_typed(table.columns, exclude=table.partition_by),
                partition_keys=_typed(table.columns, only=table.partition_by),
                description=table.description or f"Current state of {table.name} per key.",
            )
        )
        specs.append(
            DeltaTableSpec(
                name=quarantine_name(table.name),
                columns=quarantine_columns(table),
                description=f"Rows of {table.name} that failed a quality rule, with the rule.",
            )
        )
    return tuple(specs)


def gold_tables(domain: Domain) -> tuple[DeltaTableSpec, ...]:
    """One table per gold model: declared columns, partition columns as partition keys."""
    return tuple(
        DeltaTableSpec(
            name=model.name,
            columns=_typed(model.columns, exclude=model.partition_by),
            partition_keys=_typed(model.columns, only=model.partition_by),
            description=model.description,
        )
        for model in domain.gold_models
    )


def _typed(
    columns: tuple[Column, ...],
    *,
    exclude: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> tuple[tuple[str, str], ...]:
    if only is not None:  # partition keys, in partition order
        by_name = {c.name: c for c in columns}
        return tuple((name, by_name[name].type) for name in only)
    return tuple((c.name, c.type) for c in columns if c.name not in exclude)


def _raw_columns(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # The catalog folds names to lower case: DMS's ``Op`` is listed as ``op``.
    raw = [name.lower() for name in DMS_COLUMNS] + list(names)
    return tuple((name, "string") for name in raw)
