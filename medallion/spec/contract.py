"""The contract the package and the stack share: layers, lineage, quarantine, state, catalog.

Pure Python (no Spark, no Pulumi). ``medallion`` writes tables of this shape and ``infra``
declares and grants them from the same names, so the two cannot drift apart. Types are Spark SQL
type names, which are also the Hive/Glue spellings the catalog uses.
See ``docs/contract.md``.
"""

from __future__ import annotations

from enum import StrEnum

from medallion.spec.model import Table


class Layer(StrEnum):
    """The three layers, in the order a run processes them."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


LAYERS: tuple[Layer, ...] = (Layer.BRONZE, Layer.SILVER, Layer.GOLD)
#: The landing zone's folder (below the lakehouse root; on AWS, below the bronze bucket).
LANDING = "landing"

#: Lineage every bronze row carries, in order, with its type (docs/contract.md#bronze).
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
LINEAGE_COLUMNS: tuple[str, ...] = tuple(name for name, _ in BRONZE_LINEAGE)
#: A CSV line that does not parse is kept whole in this bronze column.
CORRUPT_RECORD = "_corrupt_record"
#: Lineage a live silver row keeps: the change it reflects (after the declared columns).
SILVER_METADATA: tuple[str, ...] = (
    "_op",
    "_commit_ts",
    "_change_seq",
    "_full_load",
    "_file_key",
    "_row",
    "_source_file",
    "_batch_id",
)
#: Identity of a bronze row (and so of a quarantined one): a reload under the same file name
#: repeats ``_file_key`` and ``_row`` in another batch.
ROW_IDENTITY: tuple[str, ...] = ("_file_key", "_row", "_batch_id")

#: What a quarantined row carries between its raw values and its lineage.
QUARANTINE_RULE = "_rule"
QUARANTINE_RULES = "_rules"
QUARANTINE_REASON = "_reason"
QUARANTINED_AT = "_quarantined_at"
QUARANTINE_SUFFIX = "_quarantine"


def quarantine_name(table: str) -> str:
    """``<table>_quarantine``: the silver table holding the table's rejected rows."""
    return f"{table}{QUARANTINE_SUFFIX}"


def quarantine_columns(table: Table) -> tuple[tuple[str, str], ...]:
    """The columns of ``<table>_quarantine``, in order: raw declared values (text), the failed
    checks and why, the bronze lineage, the time of quarantine."""
    return (
        *((name, "string") for name in table.column_names),
        (QUARANTINE_RULE, "string"),
        (QUARANTINE_RULES, "array<string>"),
        (QUARANTINE_REASON, "string"),
        *BRONZE_LINEAGE,
        (QUARANTINED_AT, "timestamp"),
    )


#: Folder below a layer's root for bookkeeping that readers never query (watermarks, tombstones,
#: gold's consumed versions).
STATE_DIR = "_state"
#: Folder below the landing root where malformed files are moved, beside a ``.error.txt`` note.
REJECTED_DIR = "_rejected"

#: What makes a Glue entry a native Delta table for Athena (``table_type``) and for Spark on
#: Glue (``spark.sql.sources.provider``): the stack declares it and the jobs write it.
DELTA_PARAMETERS: dict[str, str] = {
    "table_type": "DELTA",
    "EXTERNAL": "TRUE",
    "classification": "delta",
    "spark.sql.sources.provider": "delta",
}
TABLE_TYPE = "EXTERNAL_TABLE"
#: Delta's data files are parquet: engines that ignore ``table_type`` see that much.
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

#: Table properties per layer: bronze is append-only; every layer keeps a change data feed.
BRONZE_PROPERTIES: dict[str, str] = {
    "delta.appendOnly": "true",
    "delta.enableChangeDataFeed": "true",
}
SILVER_PROPERTIES: dict[str, str] = {"delta.enableChangeDataFeed": "true"}
#: Silver table property naming the column its files are clustered by; maintenance re-clusters
#: a table that has it (``OPTIMIZE ... ZORDER BY``) into files of at most CLUSTERED_FILE_ROWS.
CLUSTER_BY_PROPERTY = "medallion.clusterBy"
#: Rows per file of a clustered table: small enough that a batch of recent keys rewrites a few
#: MiB, large enough that a table of millions of rows stays within tens of files.
CLUSTERED_FILE_ROWS = 100_000
GOLD_PROPERTIES: dict[str, str] = {"delta.enableChangeDataFeed": "true"}

#: VACUUM's safe retention: Delta refuses less unless its safety check is turned off, since a
#: reader or writer still running may need the files (seven days).
SAFE_RETENTION_HOURS = 168
