"""What ``medallion generate`` wrote: per table files, rows per operation and bytes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from medallion.generate.files import LandingFile


def format_batches(batches: list[int]) -> str:
    """``[0, 1, 2, 5]`` as ``0-2,5`` (the syntax :func:`parse_batches` reads)."""
    runs: list[list[int]] = []
    for batch in sorted(set(batches)):
        if runs and runs[-1][-1] == batch - 1:
            runs[-1].append(batch)
        else:
            runs.append([batch])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


@dataclass
class TableFigures:
    table: str
    source: str
    file_format: str
    files: list[str] = field(default_factory=list)
    #: Rows per ``Op`` value; full-load rows count as ``I``.
    rows: Counter[str] = field(default_factory=Counter)
    bytes: int = 0

    def add(self, landed: LandingFile) -> None:
        self.files.append(landed.key)
        self.rows.update(landed.ops)
        self.bytes += len(landed.data)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass
class GenerateReport:
    landing: str
    seed: int
    scale: float
    batches: list[int]
    tables: dict[str, TableFigures]
    anomalies: Counter[str] = field(default_factory=Counter)
    manifest: str = ""
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def files(self) -> int:
        return sum(len(t.files) for t in self.tables.values())

    @property
    def rows(self) -> int:
        return sum(t.total_rows for t in self.tables.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables.values())

    def lines(self) -> list[str]:
        """A summary for the terminal."""
        head = (
            f"generated batches {format_batches(self.batches)} (scale {self.scale:g}, "
            f"seed {self.seed}) into {self.landing} in {self.seconds:.1f}s"
        )
        out = [
            head,
            f"  {'table':<18}{'files':>6}{'rows':>11}{'I':>11}{'U':>8}{'D':>8}"
            f"{'other':>7}{'MiB':>9}",
        ]
        for t in self.tables.values():
            other = t.total_rows - t.rows["I"] - t.rows["U"] - t.rows["D"]
            out.append(
                f"  {t.table:<18}{len(t.files):>6}{t.total_rows:>11,}{t.rows['I']:>11,}"
                f"{t.rows['U']:>8,}{t.rows['D']:>8,}{other:>7,}{t.bytes / 2**20:>9.2f}"
            )
        out.append(
            f"  {'total':<18}{self.files:>6}{self.rows:>11,}{'':>34}{self.bytes / 2**20:>9.2f}"
        )
        if self.anomalies:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.anomalies.items()))
            out.append(f"anomalies ({sum(self.anomalies.values())}): {kinds}")
        if self.manifest:
            out.append(f"manifest: {self.manifest}")
        if self.skipped:
            out.append(f"not simulated (no generator for them): {', '.join(self.skipped)}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())
