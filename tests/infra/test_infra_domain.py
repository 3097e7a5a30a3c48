"""The stack's domain (``medallion:domain``): loaded like ``medallion check``, registered in the
catalog, uploaded as a content-hashed zip and handed to every Glue job as ``--domain-root``."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from stackrun import JOB, OBJECT, ROOT, RUNNER, TABLE, StackRun, load

from infra.domain import archive_bytes, build_domain_archive
from infra.wheel import wheel_bytes
from medallion.spec import load_domain

DEMO = ROOT / "domain"

#: A domain the repository never saw: two tables (one with a composite key), no models.
SHOP_TABLES = {
    "stores": """\
name: stores
source: shop
primary_key: [store_id]
columns:
  - {name: store_id, type: int, nullable: false}
  - {name: city, type: string}
""",
    "stock": """\
name: stock
source: shop
description: Units per store and article.
primary_key: [store_id, article]
columns:
  - {name: store_id, type: int}
  - {name: article, type: string}
  - {name: units, type: bigint}
rules:
  - {name: units_not_negative, expression: units >= 0, action: warn}
""",
}


def run_programs(runs: Mapping[str, Mapping[str, str]], stack: str = "dev") -> dict[str, StackRun]:
    """Run ``__main__.py`` under mocks once per entry (config overrides), in parallel."""
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {label: Path(tmp) / f"{label}.json" for label in runs}
        processes = {
            label: subprocess.Popen(
                [sys.executable, str(RUNNER), stack, str(outputs[label])]
                + [f"{k}={v}" for k, v in overrides.items()],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for label, overrides in runs.items()
        }
        results = {}
        for label, process in processes.items():
            log, _ = process.communicate(timeout=180)
            assert outputs[label].exists(), f"{label}: the runner wrote nothing:\n{log}"
            results[label] = load(outputs[label])
        return results


def comparable(run: StackRun) -> dict[tuple[str, str], Any]:
    """What a ``pulumi up`` diffs: each resource's inputs, by type and name."""
    return {(r.type, r.name): r.inputs for r in run.resources}


def shop_domain(root: Path) -> Path:
    folder = root / "shop"
    (folder / "tables").mkdir(parents=True)
    for name, text in SHOP_TABLES.items():
        (folder / "tables" / f"{name}.yaml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackRun]:
    root = tmp_path_factory.mktemp("domains")
    changed = root / "changed"
    shutil.copytree(DEMO, changed)
    products = changed / "tables" / "products.yaml"
    products.write_text(products.read_text().replace("type: decimal(10,2)", "type: decimal(12,2)"))
    broken = root / "broken"
    shutil.copytree(DEMO, broken)
    sales = broken / "tables" / "sales.yaml"
    sales.write_text(sales.read_text().replace("primary_key: [sale_id]", "primary_key: [id]"))
    return run_programs(
        {
            "first": {},
            "again": {},
            "changed": {"medallion:domain": str(changed)},
            "shop": {"medallion:domain": str(shop_domain(root))},
            "broken": {"medallion:domain": str(broken)},
        }
    )


def domain_object(run: StackRun) -> Any:
    (found,) = [o for o in run.of_type(OBJECT) if o["key"].endswith("/domain.zip")]
    return found


def test_the_archive_holds_the_domain_and_is_reproducible(tmp_path: Path) -> None:
    data = archive_bytes(DEMO)
    assert data == archive_bytes(DEMO)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert "tables/sales_items.yaml" in names and "models/sales_daily.sql" in names
        archive.extractall(tmp_path / "copy")
    assert load_domain(tmp_path / "copy") == load_domain(DEMO)
    built = build_domain_archive(DEMO, tmp_path / "out")
    assert built.sha256 == hashlib.sha256(data).hexdigest()
    assert built.key == f"artifacts/medallion/{built.sha256}/domain.zip"
    assert built.path.read_bytes() == data


def test_the_wheel_ships_the_json_schemas() -> None:
    with zipfile.ZipFile(io.BytesIO(wheel_bytes(ROOT))) as wheel:
        names = set(wheel.namelist())
    assert {
        "medallion/spec/schemas/table.schema.json",
        "medallion/spec/schemas/model.schema.json",
    } <= names


def test_every_job_gets_the_uploaded_domain(dev: StackRun) -> None:
    artifacts = dev.bucket_names["artifacts"]
    uploaded = domain_object(dev)
    data = Path(uploaded["source"]["__asset"]).read_bytes()
    assert data == archive_bytes(DEMO)
    digest = hashlib.sha256(data).hexdigest()
    assert uploaded["key"] == f"artifacts/medallion/{digest}/domain.zip"
    assert uploaded["bucket"] == artifacts
    uri = f"s3://{artifacts}/{uploaded['key']}"
    assert dev.exports["domainUri"] == uri
    jobs = dev.of_type(JOB)
    assert len(jobs) == 3  # one per layer
    assert all(job["defaultArguments"]["--domain-root"] == uri for job in jobs)


def test_an_unchanged_repository_gives_zero_changes(programs: dict[str, StackRun]) -> None:
    first, again = programs["first"], programs["again"]
    assert first.error is None and again.error is None
    assert comparable(first) == comparable(again)


def test_a_changed_declaration_moves_the_jobs_to_a_new_artifact(
    programs: dict[str, StackRun],
) -> None:
    first, changed = comparable(programs["first"]), comparable(programs["changed"])
    assert first.keys() == changed.keys()
    differing = {key for key in first if first[key] != changed[key]}
    jobs = {key for key in first if key[0] == JOB}
    (products,) = [k for k in first if k[0] == TABLE and first[k]["name"] == "products"
                   and first[k]["databaseName"].endswith("_silver")]  # fmt: skip
    assert differing == {*jobs, ("aws:s3/bucketObjectv2:BucketObjectv2", "medallion-dev-domain"),
                         products}  # fmt: skip
    old, new = domain_object(programs["first"]), domain_object(programs["changed"])
    assert old["key"] != new["key"]
    for job in programs["changed"].of_type(JOB):
        assert job["defaultArguments"]["--domain-root"].endswith(new["key"])


def test_another_domain_registers_its_own_tables(programs: dict[str, StackRun]) -> None:
    shop = programs["shop"]
    assert shop.error is None
    databases = shop.exports["databaseNames"]
    registered = {
        layer: {t["name"] for t in shop.of_type(TABLE) if t["databaseName"] == databases[layer]}
        for layer in ("bronze", "silver", "gold")
    }
    assert registered == {
        "bronze": {"stores", "stock"},
        "silver": {"stores", "stock", "stores_quarantine", "stock_quarantine"},
        "gold": set(),
    }
    (stock,) = [
        t for t in shop.of_type(TABLE)
        if t["databaseName"] == databases["silver"] and t["name"] == "stock"
    ]  # fmt: skip
    columns = [(c["name"], c["type"]) for c in stock["storageDescriptor"]["columns"]]
    assert columns == [("store_id", "int"), ("article", "string"), ("units", "bigint")]
    uploaded = domain_object(shop)
    with zipfile.ZipFile(uploaded["source"]["__asset"]) as archive:
        assert sorted(archive.namelist()) == ["tables/stock.yaml", "tables/stores.yaml"]
    for job in shop.of_type(JOB):
        assert job["defaultArguments"]["--domain-root"].endswith(uploaded["key"])


def test_a_broken_domain_stops_the_program_with_the_check_message(
    programs: dict[str, StackRun],
) -> None:
    broken = programs["broken"]
    assert broken.error is not None
    assert "tables/sales.yaml: table 'sales': key primary_key: unknown column 'id'" in broken.error
    assert broken.resources == ()
