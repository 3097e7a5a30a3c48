"""Table and gold-model declarations (pure Python; infra reads them too).

A domain is a folder of declarations the user owns (``domain/`` by default): load it with
:func:`load_domain`, validate it with ``medallion check``. The package holds no tables of its
own.
"""

from medallion.spec.loader import (
    DEFAULT_DOMAIN,
    DOMAIN_ENV,
    DomainErrors,
    Problem,
    domain_path,
    inspect_domain,
    load_domain,
)
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

__all__ = [
    "CHANGE_SEQ_COLUMN",
    "COMMIT_TS_COLUMN",
    "DEFAULT_DOMAIN",
    "DMS_COLUMNS",
    "DOMAIN_ENV",
    "OP_COLUMN",
    "Column",
    "Domain",
    "DomainErrors",
    "GoldModel",
    "Problem",
    "Rule",
    "RuleAction",
    "SpecError",
    "Table",
    "domain_path",
    "inspect_domain",
    "load_domain",
]
