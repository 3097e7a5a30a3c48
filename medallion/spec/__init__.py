"""Table and gold-model declarations (pure Python; infra reads them too).

Add a table or a gold model to :data:`DOMAIN` (see ``medallion/spec/demo.py`` for the shape);
no pipeline code changes are needed.
"""

from medallion.spec.demo import DEMO
from medallion.spec.model import (
    CHANGE_SEQ_COLUMN,
    COMMIT_TS_COLUMN,
    DMS_COLUMNS,
    OP_COLUMN,
    Column,
    Domain,
    GoldModel,
    Rule,
    RuleAction,
    SpecError,
    Table,
)

#: The domain the pipeline runs: every declared table and gold model.
DOMAIN: Domain = DEMO

__all__ = [
    "CHANGE_SEQ_COLUMN",
    "COMMIT_TS_COLUMN",
    "DMS_COLUMNS",
    "DOMAIN",
    "OP_COLUMN",
    "Column",
    "Domain",
    "GoldModel",
    "Rule",
    "RuleAction",
    "SpecError",
    "Table",
]
