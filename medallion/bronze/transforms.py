"""Bronze's pure transform: landing rows read as strings -> the same rows with typed lineage.

No I/O and no session: :func:`with_lineage` only adds columns (docs/contract.md#landing for the
DMS columns it reads, ``medallion.spec.contract.BRONZE_LINEAGE`` for the columns it adds).
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from medallion.schemas import spark_type
from medallion.spec import CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, OP_COLUMN
from medallion.spec.contract import BRONZE_LINEAGE

_LINEAGE_TYPES = dict(BRONZE_LINEAGE)


def plain_path(uri: str) -> str:
    """A file's URI without its scheme, as matched against Spark's file paths."""
    return uri.split("://", 1)[1] if "://" in uri else uri


def with_lineage(df: DataFrame, keys: Mapping[str, str], batch_id: str) -> DataFrame:
    """Add the typed lineage columns to landing rows read as strings.

    ``df`` has the file's columns, ``_path`` (Spark's URI of the row's file) and ``_row`` (its
    position in the file); ``keys`` maps each file's URI to its key below the table's landing
    folder. ``_path`` is replaced by ``_file_key`` and ``_source_file``.
    """
    by_path = F.create_map(
        *[x for uri, key in keys.items() for x in (F.lit(plain_path(uri)), F.lit(key))]
    )
    uris = F.create_map(*[x for uri, key in keys.items() for x in (F.lit(key), F.lit(uri))])
    # Spark reports a file as a URI (file:/…, s3a://…) with its path percent-encoded.
    spark_path = F.url_decode(F.regexp_replace("_path", r"\+", "%2B"))
    key = by_path[F.regexp_replace(spark_path, "^(file:|s3a?://)", "")]
    op = F.upper(F.trim(F.col(OP_COLUMN))) if OP_COLUMN in df.columns else F.lit(None)
    file_name = F.element_at(F.split(key, "/"), -1)

    def parsed(column: str, lineage: str) -> Column:
        type_ = spark_type(_LINEAGE_TYPES[lineage])
        return F.col(column).cast(type_) if column in df.columns else F.lit(None).cast(type_)

    return (
        df.withColumn("_file_key", key)
        .withColumn("_op", F.when(op.isNull() | (op == ""), "I").otherwise(op))
        .withColumn("_commit_ts", parsed(COMMIT_TS_COLUMN, "_commit_ts"))
        .withColumn("_change_seq", parsed(CHANGE_SEQ_COLUMN, "_change_seq"))
        .withColumn("_full_load", F.upper(file_name).startswith("LOAD"))
        .withColumn("_source_file", uris[F.col("_file_key")])
        .withColumn("_ingested_at", F.current_timestamp())
        .withColumn("_batch_id", F.lit(batch_id))
        .drop("_path")
    )
