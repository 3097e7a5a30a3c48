"""What a gold model has consumed: the silver versions its gold table reflects.

One small JSON document per model at ``<gold root>/_state/<model>.json``::

    {"model": "orders_daily", "format": 1,
     "gold": {"id": "<delta table id>", "version": 7},
     "sources": {"orders": {"id": "<delta table id>", "version": 12}, ...},
     "seconds": {"full": 3.2, "scoped": 7.9}}

``seconds`` holds how long the last refresh of each path took (a full recompute, a scoped
refresh): the runner takes the cheaper one (:func:`medallion.gold.runner.refresh`).

It is written only after the gold table has been written. A crash in between leaves the previous
state, so the next run reads the same silver changes again (plus any newer ones) and recomputes
their scope from silver as it is then: recomputing a scope is idempotent, so the run converges to
the same gold. A state that is missing, unreadable or of another format means a full recompute.
Local files are replaced atomically (write then rename); on S3 a PUT is atomic.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medallion.layout import is_remote
from medallion.spec.contract import STATE_DIR

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

FORMAT = 1


@dataclass(frozen=True)
class TableVersion:
    """A Delta table's identity (its metadata id) and one of its versions."""

    id: str
    version: int


@dataclass(frozen=True)
class GoldState:
    model: str
    gold: TableVersion
    sources: dict[str, TableVersion] = field(default_factory=dict)
    #: path ("full", "scoped") -> seconds its last refresh took
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "model": self.model,
                "format": FORMAT,
                "gold": _version_dict(self.gold),
                "sources": {name: _version_dict(v) for name, v in sorted(self.sources.items())},
                "seconds": {path: round(t, 3) for path, t in sorted(self.seconds.items())},
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> GoldState | None:
        """The state in ``text``, or None when it is not a complete state of this format."""
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                return None
            return cls(
                model=str(data["model"]),
                gold=_version(data["gold"]),
                sources={str(k): _version(v) for k, v in data["sources"].items()},
                seconds={str(k): float(v) for k, v in data.get("seconds", {}).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _version_dict(version: TableVersion) -> dict[str, Any]:
    return {"id": version.id, "version": version.version}


def _version(data: Any) -> TableVersion:
    return TableVersion(id=str(data["id"]), version=int(data["version"]))


def state_path(gold_root: str, model: str) -> str:
    return f"{gold_root}/{STATE_DIR}/{model}.json"


def load_state(spark: SparkSession, path: str, model: str) -> GoldState | None:
    """The stored state of ``model``, or None if absent, unreadable or of another model."""
    text = _read_text(spark, path)
    state = None if text is None else GoldState.from_json(text)
    return state if state is not None and state.model == model else None


def save_state(spark: SparkSession, path: str, state: GoldState) -> None:
    _write_text(spark, path, state.to_json())


def _read_text(spark: SparkSession, path: str) -> str | None:
    if not is_remote(path):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
    from medallion import delta_io

    return delta_io.read_text(spark, path)


def _write_text(spark: SparkSession, path: str, text: str) -> None:
    if not is_remote(path):
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".state-", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        return
    from medallion import delta_io

    delta_io.write_text(spark, path, text)
