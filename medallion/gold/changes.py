"""What a gold model's scope function sees: the silver changes since its last run.

A Python model's scope function (named by the model's ``scope`` field) receives a
:class:`Changes` and returns the distinct values of some gold columns (e.g. ``order_date``) whose
rows must be recomputed. It reads the Delta Change Data Feed of each source (pre- and post-images
of updates, inserted and deleted rows) through :meth:`Changes.images`, and each source as it is
now through :attr:`Changes.current` (e.g. to find every order of a product that moved category).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

#: Change Data Feed metadata columns (Delta Lake).
CHANGE_TYPE = "_change_type"
COMMIT_VERSION = "_commit_version"
#: Change types holding a row as it was before a commit, and as it is after one.
BEFORE = ("update_preimage", "delete")
AFTER = ("update_postimage", "insert")


def changed_images(feed: DataFrame, key: Sequence[str], columns: Sequence[str]) -> DataFrame:
    """The before and after images of the keys whose ``columns`` changed in a commit.

    ``feed`` is a Change Data Feed (with ``_change_type`` and ``_commit_version``). Per key and
    commit, the rows before (pre-images, deletes) are compared with the rows after (post-images,
    inserts) on ``columns`` only: an insert or delete always counts, an update counts only when
    one of ``columns`` differs (NULL-safe). The result keeps every column of ``feed``.
    """
    if not columns:
        raise ValueError("changed_images needs at least one column to compare")
    image = F.struct(*[F.col(c) for c in columns])
    before = F.col(CHANGE_TYPE).isin(*BEFORE)
    after = F.col(CHANGE_TYPE).isin(*AFTER)
    per_commit = feed.groupBy(*key, COMMIT_VERSION).agg(
        F.array_sort(F.collect_list(F.when(before, image))).alias("_before"),
        F.array_sort(F.collect_list(F.when(after, image))).alias("_after"),
    )
    moved = per_commit.filter(~F.col("_before").eqNullSafe(F.col("_after")))
    return feed.join(moved.select(*key, COMMIT_VERSION), [*key, COMMIT_VERSION], "left_semi")


@dataclass(frozen=True)
class Changes:
    """The silver changes a gold model has not consumed yet, and the silver tables now.

    ``changed[t]``: Change Data Feed rows of source ``t`` since the model last ran (declared
    columns plus ``_change_type`` and ``_commit_version``; empty when ``t`` did not change).
    ``current[t]``: source ``t`` at the version this run reads (declared columns).
    ``keys[t]``: the primary key of ``t``.
    """

    changed: Mapping[str, DataFrame]
    current: Mapping[str, DataFrame]
    keys: Mapping[str, Sequence[str]]

    def images(self, table: str, *columns: str) -> DataFrame:
        """Before and after images of the rows of ``table`` whose ``columns`` changed.

        Columns a mart does not read are left out of ``columns``, so that e.g. a new e-mail
        address of a sales person does not recompute a month.
        """
        return changed_images(self.changed[table], self.keys[table], columns)
