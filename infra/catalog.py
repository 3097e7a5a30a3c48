"""The Delta tables each layer registers in the Glue catalog, derived from the declarations.

Pure Python over :mod:`medallion.spec`: which tables exist per layer and their columns as the
catalog should first show them (the jobs update the schema after each write; Athena reads the
real schema from the Delta log either way).
"""

from __future__ import annotations

from dataclasses import dataclass

from medallion.spec import DMS_COLUMNS, Domain

#: Bronze lineage columns and their types (the bronze contract).
BRONZE_LINEAGE: tuple[tuple[str, str], ...] = (
    ("_op", "string"),
    ("_commit_ts", "timestamp"),
    ("_change_seq", "decimal(38,0)"),
    ("_full_load", "boolean"),
    ("_file_key", "string"),
    ("_source_file", "string"),
    ("_row", "bigint"),
    ("_ingested_at", "timestamp"),
    ("_batch_id", "string"),
)
#: What a quarantined row carries besides its raw values and lineage.
QUARANTINE_COLUMNS: tuple[tuple[str, str], ...] = (("_rule", "string"), ("_reason", "string"))


@dataclass(frozen=True)
class DeltaTableSpec:
    """One catalog entry: table name, columns (name, Hive type) and a description."""

    name: str
    columns: tuple[tuple[str, str], ...]
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
                columns=tuple((c.name, c.type) for c in table.columns),
                description=table.description or f"Current state of {table.name} per key.",
            )
        )
        specs.append(
            DeltaTableSpec(
                name=table.quarantine_name,
                columns=_raw_columns(table.column_names) + QUARANTINE_COLUMNS + BRONZE_LINEAGE,
                description=f"Rows of {table.name} that failed a quality rule, with the rule.",
            )
        )
    return tuple(specs)


def gold_tables(domain: Domain) -> tuple[DeltaTableSpec, ...]:
    """One table per gold model with its declared columns."""
    return tuple(
        DeltaTableSpec(
            name=model.name,
            columns=tuple((c.name, c.type) for c in model.columns),
            description=model.description,
        )
        for model in domain.gold_models
    )


def _raw_columns(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # The catalog folds names to lower case: DMS's ``Op`` is listed as ``op``.
    raw = [name.lower() for name in DMS_COLUMNS] + list(names)
    return tuple((name, "string") for name in raw)
