"""Gold: the business marts, refreshed incrementally from silver's change data feed.

``run_gold`` is the layer's entry point (:mod:`medallion.gold.runner`). The marts are the gold
models of the domain folder (``models/<name>.sql``, or Python ``module:function`` ones). A
notebook runs any of them on DataFrames it passes in (keyword = silver table name)::

    from medallion.gold import run_model
    run_model("orders_daily", orders=..., order_lines=...)
"""

from medallion.gold.changes import Changes, changed_images
from medallion.gold.runner import GoldError, conform, refresh, run_gold, write_difference
from medallion.gold.scope import Scope
from medallion.gold.sql_transform import run_model

__all__ = [
    "Changes",
    "GoldError",
    "Scope",
    "changed_images",
    "conform",
    "refresh",
    "run_gold",
    "run_model",
    "write_difference",
]
