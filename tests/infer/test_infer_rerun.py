"""Infer run again on a changed source: what changed is reported, what a person wrote is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.cli import main
from medallion.infer.command import infer
from medallion.infer.write import Kind, Report
from tests.infer.support import column, column_types, declaration, execute

pytestmark = pytest.mark.database

SOURCE = [
    "CREATE SCHEMA crm",
    """CREATE TABLE crm.accounts (
        account_id bigint PRIMARY KEY,
        region_code integer,
        discount numeric(4,3),
        opened_on date,
        nickname text,
        legacy_flag boolean,
        tier smallint)""",
    "COMMENT ON COLUMN crm.accounts.region_code IS 'Region from the source.'",
    "CREATE TABLE crm.notes (note_id bigint PRIMARY KEY, body text)",
]

#: What a person adds to the inferred file: a header comment, a description, a comment, a rule,
#: sequence_by, partition_by, a deliberately wider type and a '#' note on a column.
PERSON = {
    "primary_key: [account_id]": "primary_key: [account_id]\n"
    "sequence_by: [change_seq]\npartition_by: [opened_on]",
    "name: accounts\n": "# Owned by the CRM team.\nname: accounts\n",
    "source: crm\n": "source: crm\ndescription: Customer accounts.\n",
    "  - name: nickname\n    type: string\n": "  - name: nickname\n    type: string\n"
    "    comment: What the customer likes to be called.\n",
    "  - name: tier\n    type: smallint\n": "  - name: tier\n    type: string  # kept as text\n",
}
RULES = (
    "rules:\n  - name: discount_range\n"
    '    expression: "discount IS NULL OR discount < 1"\n    action: quarantine\n'
)

CHANGE = [
    "ALTER TABLE crm.accounts ADD COLUMN email varchar(200)",
    "ALTER TABLE crm.accounts DROP COLUMN legacy_flag",
    "ALTER TABLE crm.accounts ALTER COLUMN region_code TYPE bigint",
    "ALTER TABLE crm.accounts ALTER COLUMN discount TYPE numeric(10,0)",
    "ALTER TABLE crm.accounts ALTER COLUMN opened_on TYPE timestamp",
    "ALTER TABLE crm.accounts ALTER COLUMN tier TYPE integer",
    "ALTER TABLE crm.accounts ALTER COLUMN nickname SET NOT NULL",
    "COMMENT ON COLUMN crm.accounts.region_code IS 'A new source comment.'",
    "CREATE TABLE crm.tickets (account_id bigint, ticket_no integer, "
    "PRIMARY KEY (account_id, ticket_no))",
    "DROP TABLE crm.notes",
]


def changes(report: Report, kind: Kind) -> dict[str, str]:
    return {f"{c.table}.{c.column}" if c.column else c.table: c.message for c in report.of(kind)}


def test_rerun_reports_changes_and_keeps_what_a_person_wrote(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(postgres_url, *SOURCE)
    first = infer(postgres_url, "crm", tmp_path)
    assert {c.table for c in first.of(Kind.NEW_TABLE)} == {"accounts", "notes"}
    path = tmp_path / "tables" / "accounts.yaml"
    text = path.read_text()
    for old, new in PERSON.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text + RULES)
    # Nothing changed in the source: a re-run rewrites nothing, even what a person edited.
    again = infer(postgres_url, "crm", tmp_path)
    assert again.written == []
    assert path.read_text() == text + RULES

    execute(postgres_url, *CHANGE)
    status = main(["infer", "--from", postgres_url, "--source", "crm", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 1, "a type the declaration cannot hold needs a person"
    assert "accounts.discount: conflict: source now maps to decimal(10,0)" in printed

    accounts = declaration(tmp_path, "accounts")
    # Kept: everything the person wrote.
    assert accounts["description"] == "Customer accounts."
    assert accounts["sequence_by"] == ["change_seq"]
    assert accounts["partition_by"] == ["opened_on"]
    assert accounts["rules"] == [
        {
            "name": "discount_range",
            "expression": "discount IS NULL OR discount < 1",
            "action": "quarantine",
        }
    ]
    assert column(accounts, "nickname")["comment"] == "What the customer likes to be called."
    assert column(accounts, "region_code")["comment"] == "Region from the source."
    text = path.read_text()
    assert text.startswith("# Owned by the CRM team.\n")
    assert "type: string  # kept as text" in text
    # Brought up to date: new column, wider types, nullability; dropped column kept.
    assert column_types(accounts) == {
        "account_id": "bigint",
        "region_code": "bigint",
        "discount": "decimal(4,3)",
        "opened_on": "timestamp",
        "nickname": "string",
        "legacy_flag": "boolean",
        "tier": "string",
        "email": "string",
    }
    assert column(accounts, "nickname")["nullable"] is False

    report = infer(postgres_url, "crm", tmp_path)
    assert report.written == [], "the merge converged"
    (conflict,) = report.conflicts
    assert (conflict.table, conflict.column, conflict.path) == ("accounts", "discount", path)
    assert changes(report, Kind.DROPPED_COLUMN).keys() == {"accounts.legacy_flag"}
    assert "declared string holds it: kept" in changes(report, Kind.TYPE_KEPT)["accounts.tier"]
    assert changes(report, Kind.GONE_TABLE).keys() == {"notes"}
    assert (tmp_path / "tables" / "notes.yaml").exists()
    # What the changing run itself said, line by line.
    for line in (
        "accounts.email: new column: added as string",
        "accounts.region_code: retyped: int -> bigint (wider: updated)",
        "accounts.opened_on: retyped: date -> timestamp (wider: updated)",
        "accounts.nickname: nullability: now NOT NULL in the source: updated",
        "accounts.legacy_flag: dropped column: no longer in the source",
        "tickets: new table: 2 columns",
        "notes: table gone: not in source 'crm' any more",
    ):
        assert line in printed, line
    assert declaration(tmp_path, "tickets")["primary_key"] == ["account_id", "ticket_no"]


def test_rerun_completes_an_incomplete_declaration(postgres_url: str, tmp_path: Path) -> None:
    execute(postgres_url, "CREATE SCHEMA audit", "CREATE TABLE audit.trail (event_id bigint)")
    infer(postgres_url, "audit", tmp_path)
    assert "incomplete" in declaration(tmp_path, "trail")
    report = infer(postgres_url, "audit", tmp_path, {"trail": ("event_id",)})
    trail = declaration(tmp_path, "trail")
    assert trail["primary_key"] == ["event_id"]
    assert "incomplete" not in trail
    assert changes(report, Kind.KEY) == {"trail": "set to ['event_id']"}
    # The key a person gave stays, and without it the table is not called incomplete again.
    report = infer(postgres_url, "audit", tmp_path)
    assert declaration(tmp_path, "trail")["primary_key"] == ["event_id"]
    assert report.of(Kind.INCOMPLETE) == []
