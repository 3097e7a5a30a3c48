"""Bronze: every new landing file of every table appended exactly once to its Delta table.

``run_bronze`` is the layer's entry point (:mod:`medallion.bronze.runner`); landing files are
checked, read and set aside in :mod:`medallion.bronze.landing`; the pure transform adding the
lineage columns is in :mod:`medallion.bronze.transforms`.

Values are kept as received, as strings (CSV and parquet alike, and whatever types DMS chose for
a file), so a new upstream column or a changed column type never breaks ingestion; silver casts.
Malformed files are moved to ``landing/_rejected/`` beside a note of the reason, and reported.
"""

from medallion.bronze.landing import CheckedFile, MalformedFile, inspect
from medallion.bronze.runner import ingest_table, new_batch_id, run_bronze
from medallion.bronze.transforms import with_lineage

__all__ = [
    "CheckedFile",
    "MalformedFile",
    "ingest_table",
    "inspect",
    "new_batch_id",
    "run_bronze",
    "with_lineage",
]
