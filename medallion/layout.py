"""Where a lakehouse keeps its tables (docs/contract.md#where-things-live).

One root gives ``landing/``, ``bronze/``, ``silver/`` and ``gold/`` below it; on AWS each layer
may have its own bucket, so every layer root can also be set on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from medallion.spec import Table
from medallion.spec.contract import LANDING, LAYERS, REJECTED_DIR, Layer

__all__ = ["DEFAULT_ROOT", "LAYERS", "ROOT_ENV", "Lakehouse", "Layer", "is_remote"]

DEFAULT_ROOT = "./lakehouse"
ROOT_ENV = "MEDALLION_LAKEHOUSE"


def is_remote(uri: str) -> bool:
    """True for object-store URIs such as ``s3://bucket/prefix``."""
    return "://" in uri and not uri.startswith("file://")


def _normalize(uri: str) -> str:
    if is_remote(uri):
        scheme, rest = uri.split("://", 1)
        # Spark reaches S3 through S3A locally and through Glue's S3 on AWS: keep one spelling.
        scheme = "s3" if scheme in ("s3", "s3a") else scheme
        return f"{scheme}://{rest.rstrip('/')}"
    return os.path.abspath(uri.removeprefix("file://"))


@dataclass(frozen=True)
class Lakehouse:
    """The roots of the landing zone and of each layer; tables are folders below them."""

    landing: str
    bronze: str
    silver: str
    gold: str

    @classmethod
    def at(cls, root: str | None = None) -> Lakehouse:
        """The layout below one root (default ``$MEDALLION_LAKEHOUSE`` or ``./lakehouse``)."""
        base = _normalize(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
        return cls(f"{base}/{LANDING}", *(f"{base}/{layer.value}" for layer in LAYERS))

    @classmethod
    def of(cls, *, landing: str, bronze: str, silver: str, gold: str) -> Lakehouse:
        """A layout whose roots live apart (one bucket per layer on AWS)."""
        return cls(_normalize(landing), _normalize(bronze), _normalize(silver), _normalize(gold))

    def landing_dir(self, table: Table) -> str:
        """``landing/<source>/<table>``: every file below it belongs to the table."""
        return f"{self.landing}/{table.source}/{table.name}"

    def rejected_dir(self) -> str:
        """Where malformed landing files are moved, mirroring their landing path."""
        return f"{self.landing}/{REJECTED_DIR}"

    def layer_root(self, layer: Layer | str) -> str:
        return str(getattr(self, Layer(layer).value))

    def table_path(self, layer: Layer | str, name: str) -> str:
        """The folder of one Delta table, e.g. ``silver/customers_quarantine``."""
        return f"{self.layer_root(layer)}/{name}"
