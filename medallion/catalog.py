"""Register a layer's Delta tables in the Glue Data Catalog (boto3), as native Delta tables.

After a layer writes, each of its tables is created or updated in the layer's Glue database with
``table_type=DELTA`` (what Athena engine v3 reads natively), its location, and its real schema read
from the Delta log: Spark types spelled as Hive/Glue types, partition columns as partition keys.
An entry is only rewritten when its location, columns or Delta parameters changed, so a rerun
with the same schema leaves the catalog (and its version history) alone.

The client honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_GLUE`` like any boto3 client, so the
same code talks to AWS or to a local endpoint such as a moto server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from medallion.layout import Lakehouse, Layer
from medallion.spec import Domain
from medallion.spec.contract import (
    DELTA_PARAMETERS,
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    TABLE_TYPE,
    quarantine_name,
)

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import TableInputTypeDef
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

log = logging.getLogger(__name__)


#: The storage descriptor's formats, from the contract: Delta's data files are parquet.
PARQUET_FORMAT: Mapping[str, str] = {
    "InputFormat": PARQUET_INPUT_FORMAT,
    "OutputFormat": PARQUET_OUTPUT_FORMAT,
    "SerializationLibrary": PARQUET_SERDE,
}


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class CatalogEntry:
    """What the catalog should say about one Delta table."""

    database: str
    name: str
    location: str
    #: (name, Glue type) of every non-partition column, in the table's order.
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...] = ()
    description: str = ""

    def table_input(self, existing: Mapping[str, Any] | None = None) -> TableInputTypeDef:
        """The ``TableInput`` for create/update; keeps an existing description and parameters."""
        existing = existing or {}
        parameters = {**existing.get("Parameters", {}), **DELTA_PARAMETERS}
        table: TableInputTypeDef = {
            "Name": self.name,
            "TableType": TABLE_TYPE,
            "Parameters": parameters,
            "StorageDescriptor": {
                "Location": self.location,
                "Columns": [{"Name": n, "Type": t} for n, t in self.columns],
                "InputFormat": PARQUET_FORMAT["InputFormat"],
                "OutputFormat": PARQUET_FORMAT["OutputFormat"],
                "SerdeInfo": {
                    "SerializationLibrary": PARQUET_FORMAT["SerializationLibrary"],
                    "Parameters": {"path": self.location},
                },
            },
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in self.partition_keys],
        }
        description = existing.get("Description") or self.description
        if description:
            table["Description"] = description
        return table


@dataclass
class CatalogResult:
    """One table's registration outcome."""

    database: str
    table: str
    action: Action
    columns: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.action is Action.FAILED

    def __str__(self) -> str:
        text = f"catalog {self.database}.{self.table}: {self.action} ({self.columns} columns)"
        return text + "".join(f"; {m}" for m in self.messages)


def glue_type(data_type: T.DataType) -> str:
    """The Hive/Glue spelling of a Spark type: ``decimal(10,2)``, ``struct<a:int>``, ..."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.StructType):
        fields = ",".join(f"{f.name}:{glue_type(f.dataType)}" for f in data_type.fields)
        return f"struct<{fields}>"
    if isinstance(data_type, T.ArrayType):
        return f"array<{glue_type(data_type.elementType)}>"
    if isinstance(data_type, T.MapType):
        return f"map<{glue_type(data_type.keyType)},{glue_type(data_type.valueType)}>"
    if isinstance(data_type, T.TimestampNTZType):
        return "timestamp"
    if isinstance(data_type, T.NullType):
        return "string"
    return str(data_type.simpleString())


def describe(
    spark: SparkSession, database: str, name: str, path: str, description: str = ""
) -> CatalogEntry:
    """The catalog entry for the Delta table at ``path``, from its current schema and layout."""
    schema = spark.read.format("delta").load(path).schema
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").select("partitionColumns").first()
    partitioned = set(detail[0] if detail else [])
    columns: list[tuple[str, str]] = []
    partitions: list[tuple[str, str]] = []
    seen: set[str] = set()
    for column in schema.fields:
        # The catalog folds names to lower case (DMS's ``Op`` is ``op``); Delta forbids two
        # columns differing only by case, so folding cannot merge two columns.
        folded = column.name.lower()
        if folded in seen:
            raise ValueError(f"table {name}: columns differ only by case ({column.name!r})")
        seen.add(folded)
        target = partitions if column.name in partitioned else columns
        target.append((folded, glue_type(column.dataType)))
    return CatalogEntry(database, name, path, tuple(columns), tuple(partitions), description)


def glue_client(endpoint_url: str | None = None) -> GlueClient:
    """A Glue client (AWS, or ``endpoint_url`` / ``AWS_ENDPOINT_URL`` when set)."""
    import boto3

    return boto3.client("glue", endpoint_url=endpoint_url)


def ensure_database(client: GlueClient, database: str, *, description: str = "") -> bool:
    """Create ``database`` if it does not exist (the stack creates it on AWS); True if created."""
    try:
        client.get_database(Name=database)
        return False
    except client.exceptions.EntityNotFoundException:
        client.create_database(DatabaseInput={"Name": database, "Description": description})
        log.info("catalog: created database %s", database)
        return True


def _same(existing: Mapping[str, Any], wanted: TableInputTypeDef) -> bool:
    def pairs(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
        return [(c["Name"], c["Type"]) for c in items]

    have, want = existing.get("StorageDescriptor", {}), wanted["StorageDescriptor"]
    parameters = existing.get("Parameters", {})
    return (
        have.get("Location") == want["Location"]
        and pairs(have.get("Columns", [])) == pairs(want["Columns"])
        and pairs(existing.get("PartitionKeys", [])) == pairs(wanted["PartitionKeys"])
        and existing.get("TableType") == TABLE_TYPE
        and all(parameters.get(k) == v for k, v in DELTA_PARAMETERS.items())
    )


def upsert(client: GlueClient, entry: CatalogEntry) -> CatalogResult:
    """Create the entry, or update it when its location, columns or parameters differ."""
    result = CatalogResult(entry.database, entry.name, Action.UNCHANGED, len(entry.columns))
    result.columns += len(entry.partition_keys)
    try:
        existing: Mapping[str, Any] = client.get_table(
            DatabaseName=entry.database, Name=entry.name
        )["Table"]
    except client.exceptions.EntityNotFoundException:
        client.create_table(DatabaseName=entry.database, TableInput=entry.table_input())
        result.action = Action.CREATED
        return result
    wanted = entry.table_input(existing)
    if not _same(existing, wanted):
        client.update_table(DatabaseName=entry.database, TableInput=wanted)
        result.action = Action.UPDATED
    return result


def layer_tables(domain: Domain, layer: Layer | str) -> list[tuple[str, str]]:
    """(name, description) of every table a layer may write: quarantine tables included."""
    layer = Layer(layer)
    if layer is Layer.BRONZE:
        return [(t.name, f"Every change landed for {t.source}.{t.name}.") for t in domain.tables]
    if layer is Layer.SILVER:
        names: list[tuple[str, str]] = []
        for table in domain.tables:
            names.append((table.name, table.description or f"Current state of {table.name}."))
            names.append((quarantine_name(table.name), f"Rows of {table.name} that failed a rule."))
        return names
    return [(m.name, m.description) for m in domain.gold_models]


def register_layer(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    layer: Layer | str,
    database: str,
    *,
    client: GlueClient | None = None,
) -> list[CatalogResult]:
    """Create or update the catalog entry of every Delta table the layer holds.

    Tables not written yet (e.g. those of a table silver has not applied) are skipped. A table
    that cannot be registered is reported as failed; the others are still registered.
    """
    from medallion import delta_io

    client = client or glue_client()
    ensure_database(client, database, description=f"medallion {Layer(layer).value} layer")
    results = []
    for name, description in layer_tables(domain, layer):
        path = lakehouse.table_path(layer, name)
        try:
            if not delta_io.is_delta(spark, path):
                continue
            result = upsert(client, describe(spark, database, name, path, description))
        except Exception as error:  # one table's failure is reported, the others still register
            log.exception("catalog %s.%s failed", database, name)
            result = CatalogResult(database, name, Action.FAILED)
            result.messages.append(f"{type(error).__name__}: {error}")
        log.info("%s", result)
        results.append(result)
    return results
