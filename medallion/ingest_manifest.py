"""Bronze's ledger of ingested landing files: exactly-once detection that reads no bronze data.

Per bronze table ``bronze/<table>``, a small Delta table ``bronze/_state/<table>_files`` lists
every landing file ingested: its key (path below the table's landing folder), size,
modification time, content digest, and the bronze version holding its rows. One row per file,
never per data row, and nothing of bronze's data files is read to find new files.

Identity of a file
    (key, size, sha256 of its bytes). A byte-identical re-delivery under the same key is
    skipped; a reload under the same name with other bytes (DMS writing ``LOAD00000001.parquet``
    again) is ingested. A listed file whose key, size and modification time equal a ledger entry
    is taken as that entry without being read; any other file is hashed (a new file once, as it
    is read anyway; a re-delivered identical file on every run that lists it, as its new time is
    not recorded). S3's ETag is not used: a multipart upload's ETag is not a content hash and
    changes with the part size.

Exactly once under concurrent runs
    A bronze commit is a Delta idempotent write: ``txnAppId = medallion.bronze.<table>`` and
    ``txnVersion`` = the version recorded for that app id + 1, read at the start of the run,
    *before* the ledger. Its ``commitInfo.userMetadata`` lists the files' identities and the
    run's batch id. Two runs started together read the same recorded version and both write the
    next one: Delta 3.3.2 reads the app id's version inside the write's transaction, so the
    second either fails with ``ConcurrentTransactionException`` (it started before the first
    committed) or skips its write (it started after). Either way the loser adds nothing, and
    :meth:`Ledger.record` tells it so. A run that reads the recorded version after another's
    commit also finds that commit when it brings the ledger up to date, so it never plans the
    same files.

Crash repair
    The ledger is derived from bronze's commits only. Before planning and after committing, a
    run reads the commit files of the bronze versions the ledger lacks (after the bronze version
    recorded as the ledger's own idempotent-write marker) and appends their file lists under
    that marker. So a crash between the bronze commit and the ledger append is repaired by the
    next run from exactly those commits; runs appending the same commits conflict or are skipped
    in Delta, and a ledger row read twice is harmless (the ledger is a set).

Bootstrap
    A bronze table written before the ledger existed (data commits without a file list), or
    whose needed commit files are gone (log cleanup after a long stall), is read once for its
    ``_file_key`` values; those files are known by key only.

Cost of detection: the ledger's rows, the latest log state of bronze and of the ledger, and the
bronze commit files written since the ledger's marker.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion import delta_io, storage
from medallion.layout import Lakehouse, Layer
from medallion.spec import Table
from medallion.spec.contract import STATE_DIR

log = logging.getLogger(__name__)

#: Key of the file list in a bronze commit's ``userMetadata``.
FILES = "medallion.files"
BATCH = "medallion.batch_id"
LEDGER_SCHEMA = T.StructType(
    [
        T.StructField("file_key", T.StringType()),
        T.StructField("size", T.LongType()),
        T.StructField("modified_ns", T.LongType()),
        T.StructField("digest", T.StringType()),
        T.StructField("bronze_version", T.LongType()),
        T.StructField("batch_id", T.StringType()),
    ]
)


def bronze_app_id(table: Table) -> str:
    """The idempotent-write app id of the table's bronze commits."""
    return f"medallion.bronze.{table.name}"


def ledger_app_id(table: Table) -> str:
    """The app id under which the ledger records the bronze version it is complete through."""
    return f"medallion.bronze.{table.name}.files"


def ledger_path(lakehouse: Lakehouse, table: Table) -> str:
    """``bronze/_state/<table>_files``."""
    return lakehouse.table_path(Layer.BRONZE, f"{STATE_DIR}/{table.name}_files")


@dataclass(frozen=True)
class FileIdentity:
    """What makes two landing files the same delivery. ``size``/``digest`` None: key only."""

    key: str
    size: int | None
    digest: str | None
    modified_ns: int | None = None

    def to_json(self) -> list[object]:
        return [self.key, self.size, self.modified_ns, self.digest]

    @classmethod
    def from_json(cls, item: Sequence[object]) -> FileIdentity:
        key, size, modified, digest = item
        return cls(
            str(key),
            None if size is None else int(str(size)),
            None if digest is None else str(digest),
            None if modified is None else int(str(modified)),
        )


@dataclass
class Plan:
    """What one run ingests: its files' identities and the idempotent write to commit them."""

    app_id: str
    #: the bronze idempotent-write version this run commits as
    txn_version: int
    #: bronze's latest version when the plan was made
    bronze_version: int
    pending: list[storage.FileEntry] = field(default_factory=list)
    identities: dict[str, FileIdentity] = field(default_factory=dict)
    redelivered: list[str] = field(default_factory=list)

    @property
    def txn(self) -> tuple[str, int]:
        """The idempotent write (app id, version) the bronze commit is made as."""
        return (self.app_id, self.txn_version)

    def commit_note(self, batch_id: str, keys: Iterable[str]) -> str:
        """``userMetadata`` of the bronze commit of ``keys`` (a subset of the pending files)."""
        files = [self.identities[k].to_json() for k in keys]
        return json.dumps({BATCH: batch_id, FILES: files}, separators=(",", ":"))


def _files_of(metadata: str | None) -> tuple[str | None, list[FileIdentity]] | None:
    """The batch id and file list a bronze commit's ``userMetadata`` holds, if it holds one."""
    if not metadata:
        return None
    try:
        data = json.loads(metadata)
        return data.get(BATCH), [FileIdentity.from_json(item) for item in data[FILES]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class Ledger:
    """The ingested files of one bronze table (see the module docstring)."""

    def __init__(self, spark: SparkSession, lakehouse: Lakehouse, table: Table) -> None:
        self.spark = spark
        self.table = table
        self.bronze = lakehouse.table_path(Layer.BRONZE, table.name)
        self.path = ledger_path(lakehouse, table)
        self.app_id = bronze_app_id(table)

    def plan(self, listed: Sequence[storage.FileEntry]) -> Plan:
        """The listed files not ingested yet, and the version to commit them as."""
        recorded = None
        if delta_io.is_delta(self.spark, self.bronze):
            # Read before the ledger is brought up to date: see "Exactly once" above.
            recorded = delta_io.txn_version(self.spark, self.bronze, self.app_id)
        through = self.sync()
        plan = Plan(self.app_id, (recorded or 0) + 1, through)
        known = self.known()
        for entry in listed:
            identity = self._identify(entry, known.get(entry.key, ()))
            if identity is None:
                continue
            if identity.size is None:
                plan.redelivered.append(entry.key)
                continue
            plan.pending.append(entry)
            plan.identities[entry.key] = identity
        return plan

    def _identify(
        self, entry: storage.FileEntry, known: Sequence[FileIdentity]
    ) -> FileIdentity | None:
        """The identity of a new file; None when the ledger has it; key-only when re-delivered."""
        if any(k.size is None for k in known):
            return None  # known by key only (bootstrap)
        if entry.modified_ns is not None and any(
            (k.size, k.modified_ns) == (entry.size, entry.modified_ns) for k in known
        ):
            return None
        digest = storage.digest(entry.uri)
        if any((k.size, k.digest) == (entry.size, digest) for k in known):
            log.info("bronze.%s: %s re-delivered unchanged; skipped", self.table.name, entry.key)
            return FileIdentity(entry.key, None, digest)
        return FileIdentity(entry.key, entry.size, digest, entry.modified_ns)

    def known(self) -> dict[str, list[FileIdentity]]:
        """Every ingested file by key (empty before the first bronze commit)."""
        if not delta_io.is_delta(self.spark, self.path):
            return {}
        # One scan, no shuffle: a file recorded twice (a repaired crash) is deduplicated here.
        rows = (
            delta_io.read_delta(self.spark, self.path)
            .select("file_key", "size", "modified_ns", "digest")
            .collect()
        )
        found: dict[str, list[FileIdentity]] = {}
        for key, size, modified, digest in rows:
            identity = FileIdentity(key, size, digest, modified)
            if identity not in found.setdefault(key, []):
                found[key].append(identity)
        return found

    def record(self, plan: Plan, batch_id: str) -> int | None:
        """After the bronze write: the rows this run's commit added, or None when another
        run's commit took this run's version (this run added nothing). Brings the ledger up
        to date either way."""
        latest = delta_io.latest_version(self.spark, self.bronze)
        ours: int | None = None
        for commit in delta_io.logged_commits(
            self.spark, self.bronze, self.app_id, plan.bronze_version, latest
        ):
            files = _files_of(commit.user_metadata)
            if commit.txn_version == plan.txn_version and files and files[0] == batch_id:
                ours = commit.metrics.get("numOutputRows", 0)
        self.sync()
        return ours

    def sync(self) -> int:
        """Append to the ledger the files of the bronze commits it lacks; return the bronze
        version it is now complete through (-1 when bronze does not exist)."""
        latest = delta_io.latest_version(self.spark, self.bronze)
        if latest < 0:
            return latest
        has_ledger = delta_io.is_delta(self.spark, self.path)
        marker = (
            delta_io.txn_version(self.spark, self.path, ledger_app_id(self.table))
            if has_ledger
            else None
        )
        after = -1 if marker is None else marker
        if after >= latest:
            return after
        commits = delta_io.logged_commits(self.spark, self.bronze, self.app_id, after, latest)
        rows: list[tuple[object, ...]] = []
        bootstrap = not commits or commits[0].version != after + 1  # commit files gone
        for commit in commits:
            files = _files_of(commit.user_metadata)
            if files is None:
                bootstrap = bootstrap or commit.adds_data  # written without a file list
                continue
            batch_id, identities = files
            rows += [
                (f.key, f.size, f.modified_ns, f.digest, commit.version, batch_id)
                for f in identities
            ]
        if bootstrap:
            log.warning(
                "bronze.%s: the file ledger is rebuilt from bronze's _file_key column "
                "(bronze written without file lists, or its commit files are gone)",
                self.table.name,
            )
            keys = (
                delta_io.read_delta(self.spark, self.bronze, latest)
                .select("_file_key")
                .distinct()
                .collect()
            )
            rows += [(key, None, None, None, latest, None) for (key,) in keys]
        if rows or not has_ledger:
            self._append(rows, latest)
        return latest

    def _append(self, rows: list[tuple[object, ...]], through: int) -> None:
        frame = self.spark.createDataFrame(rows, LEDGER_SCHEMA).withColumn(
            "recorded_at", F.current_timestamp()
        )
        try:
            delta_io.append(frame, self.path, txn=(ledger_app_id(self.table), through))
        except Exception as error:
            if not delta_io.is_concurrent_commit(error):
                raise
            # Another run appended the same bronze commits first.
            log.info("bronze.%s: file ledger updated by a concurrent run", self.table.name)
