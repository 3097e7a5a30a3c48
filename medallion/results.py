"""What a layer run reports per table: the figures the CLI summary and exit status use."""

from __future__ import annotations

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
