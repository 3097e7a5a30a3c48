"""The anomaly kinds the simulator injects into CDC batches, and what the pipeline must do."""

from __future__ import annotations

UPDATED_TWICE_IN_FILE = "updated_twice_in_file"
UPDATED_TWICE_ACROSS_FILES = "updated_twice_across_files"
LATE_CHANGE = "late_change"
STALE_AFTER_DELETE = "stale_after_delete"
DELETE_REINSERT = "delete_reinsert"
REINSERT_AFTER_DELETE = "reinsert_after_delete"
DELETE_KEY_ONLY = "delete_key_only"
RULE_VIOLATION = "rule_violation"
NULL_KEY = "null_key"
UNCASTABLE = "uncastable"
BAD_OP = "bad_op"
NEW_COLUMN = "new_column"
REDELIVERED_FILE = "redelivered_file"

#: Quarantine rule names the pipeline uses for checks that are not declared rules.
PK_NOT_NULL = "pk_not_null"
OP_KNOWN = "op_known"


def castable_rule(column: str) -> str:
    return f"castable_{column}"


#: What silver (or bronze) must make of each kind; the manifest repeats it per entry.
EXPECT: dict[str, str] = {
    UPDATED_TWICE_IN_FILE: "the later of the two updates wins",
    UPDATED_TWICE_ACROSS_FILES: "the later of the two updates wins",
    LATE_CHANGE: "ignored: a newer change to the key was delivered earlier",
    STALE_AFTER_DELETE: "ignored: the key stays deleted",
    DELETE_REINSERT: "the key is deleted, then present again with the inserted values",
    REINSERT_AFTER_DELETE: "the key, deleted in an earlier batch, is present again",
    DELETE_KEY_ONLY: "the key is deleted although the row carries only its primary key",
    RULE_VIOLATION: "quarantined under the rule; silver keeps the previous state",
    NULL_KEY: "quarantined (pk_not_null)",
    UNCASTABLE: "quarantined (castable_<column>); silver keeps the previous state",
    BAD_OP: "quarantined (op_known); silver keeps the previous state",
    NEW_COLUMN: "an upstream column the table does not declare; nothing breaks",
    REDELIVERED_FILE: "the same file name and bytes again; ingested once",
}

#: Kinds whose rows must end up in ``<table>_quarantine``.
QUARANTINED = frozenset({RULE_VIOLATION, NULL_KEY, UNCASTABLE, BAD_OP})
