"""The generator's manifest: every injected anomaly, per batch, at ``landing/_generator/``.

Tests and demos read it to check that each bad row reached quarantine and each tricky change
was handled. Batches written in separate runs are merged into one manifest; a run with another
seed or scale than the landing already holds is refused, as its batches would not fit together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from medallion.generate.anomalies import EXPECT
from medallion.generate.engine import SPREAD
from medallion.generate.store import LandingStore

MANIFEST_PATH = "_generator/manifest.json"
FORMAT = 1

Entry = dict[str, Any]


def entry(
    *,
    batch: int,
    table: str,
    source: str,
    kind: str,
    file: str,
    key: int | None = None,
    rule: str | None = None,
    row: int | None = None,
    op: str | None = None,
    column: str | None = None,
) -> Entry:
    """One anomaly: where it is (file below the table's landing folder, 0-based row)."""
    return {
        "batch": batch,
        "table": table,
        "source": source,
        "kind": kind,
        "key": key,
        "rule": rule,
        "file": file,
        "row": row,
        "op": op,
        "column": column,
        "expect": EXPECT[kind],
    }


def _order(item: Entry) -> tuple[str, str, int, str]:
    return item["table"], item["file"], -1 if item["row"] is None else item["row"], item["kind"]


@dataclass
class Manifest:
    seed: int
    scale: float
    batches: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, store: LandingStore, *, seed: int, scale: float) -> Manifest:
        """The landing's manifest (empty if none); refuses another seed or scale."""
        data = store.read(MANIFEST_PATH)
        if data is None:
            return cls(seed, scale)
        content = json.loads(data)
        if (content["seed"], content["scale"]) != (seed, scale):
            raise ValueError(
                f"{store.uri(MANIFEST_PATH)}: the landing holds batches generated with "
                f"seed={content['seed']} scale={content['scale']}, not seed={seed} "
                f"scale={scale}; use the same values or an empty lakehouse"
            )
        return cls(seed, scale, content["batches"])

    def set_batch(
        self,
        batch: int,
        files: dict[str, list[str]],
        anomalies: list[Entry],
        changes: str = SPREAD,
        batch_scale: float | None = None,
    ) -> None:
        self.batches[str(batch)] = {
            "files": {table: sorted(keys) for table, keys in sorted(files.items())},
            "anomalies": sorted(anomalies, key=_order),
            # only a non-default kind or size is recorded: default manifests keep their bytes
            **({"changes": changes} if changes != SPREAD else {}),
            **({"batch_scale": batch_scale} if batch_scale not in (None, self.scale) else {}),
        }

    def changes_of(self, batch: int) -> str:
        """The kind of CDC batch ``batch`` was written with (``spread`` when not recorded)."""
        return str(self.batches.get(str(batch), {}).get("changes", SPREAD))

    def batch_scale_of(self, batch: int) -> float:
        """The scale CDC batch ``batch`` was sized as (the landing's scale when not recorded)."""
        return float(self.batches.get(str(batch), {}).get("batch_scale", self.scale))

    def anomalies(self) -> list[Entry]:
        return [e for batch in self.batches.values() for e in batch["anomalies"]]

    def dumps(self) -> bytes:
        ordered = dict(sorted(self.batches.items(), key=lambda item: int(item[0])))
        content = {"format": FORMAT, "seed": self.seed, "scale": self.scale, "batches": ordered}
        return (json.dumps(content, indent=2) + "\n").encode()

    def save(self, store: LandingStore) -> str:
        store.write(MANIFEST_PATH, self.dumps())
        return store.uri(MANIFEST_PATH)
