"""What a layer run reports per table, and the summary the CLI and the Glue job print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARNED = "warned"
    FAILED = "failed"


@dataclass
class TableResult:
    """One table's outcome in one layer run."""

    layer: str
    table: str
    status: Status = Status.OK
    files: int = 0
    rows_in: int = 0
    rows_out: int = 0
    quarantined: int = 0
    rejected_files: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def fail(self, message: str) -> None:
        self.status = Status.FAILED
        self.messages.append(message)

    def warn(self, message: str) -> None:
        if self.status is Status.OK:
            self.status = Status.WARNED
        self.messages.append(message)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _cell(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def summary_table(results: Sequence[TableResult]) -> str:
    """The end-of-run summary: one line per table, then every message."""
    rows = [
        (
            r.layer,
            r.table,
            r.status,
            r.files,
            r.rows_in,
            r.rows_out,
            r.quarantined,
            len(r.rejected_files),
            round(r.seconds, 1),
        )
        for r in results
    ]
    headers = ("layer", "table", "status", "files", "rows in", "rows out", "quarantined")
    text = format_table((*headers, "rejected files", "seconds"), rows)
    notes = [f"  {r.layer}.{r.table}: {m}" for r in results for m in r.messages]
    return text + ("\n\nNotes:\n" + "\n".join(notes) if notes else "")
