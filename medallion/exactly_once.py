"""What a run reports when a concurrent run of the same layer committed first.

Every commit of bronze and silver is a Delta idempotent write (``txnAppId``/``txnVersion``) or a
transaction that reads what it changes, so of two runs writing the same table at once, Delta lets
one commit and makes the other fail with a concurrent-modification error (or skip its write).
The loser has then added nothing: it reports so and does not count as a failure, since the data
it would have written is there, written once, by the winner.
"""

from __future__ import annotations

import logging

from medallion.results import TableResult

log = logging.getLogger(__name__)


def lost_race(layer: str, table: str, error: BaseException) -> TableResult:
    """The result of a table whose run lost a commit race: a warning, nothing added."""
    name = type(error).__name__
    log.warning("%s.%s: a concurrent run committed first: %s", layer, table, error)
    result = TableResult(layer=layer, table=table)
    result.warn(f"a concurrent {layer} run committed to {table} first ({name}); added nothing")
    return result
