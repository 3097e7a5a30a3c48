"""The domain folder: YAML declarations, their JSON Schema, and ``medallion check`` (no Spark)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from medallion.cli import main
from medallion.spec import Domain, DomainErrors, RuleAction, inspect_domain, load_domain
from medallion.spec.loader import schema
from tests.demo import DEMO_FOLDER
from tests.e2e.moto import Aws
from tests.medallion.python_model_declarations import DECLARATIONS


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    """A copy of the demo domain to break."""
    target = tmp_path / "domain"
    shutil.copytree(DEMO_FOLDER, target)
    return target


def add_python_models(domain: Path) -> None:
    """Add the Python models of tests/medallion/python_model.py (YAML declarations)."""
    for file, text in DECLARATIONS.items():
        (domain / "models" / file).write_text(text)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def check(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``medallion check --domain folder``: exit status and the problem lines it printed."""
    status = main(["check", "--domain", str(folder)])
    return status, [line for line in capsys.readouterr().out.splitlines() if line]


# ------------------------------------------------------------------ the demo


def test_the_demo_loads_from_the_repository(demo_domain: Domain) -> None:
    assert {t.name for t in demo_domain.tables} == {
        "clients",
        "client_addresses",
        "sales_people",
        "products",
        "sales",
        "sales_items",
        "employees",
    }
    assert {m.name for m in demo_domain.gold_models} == {
        "sales_daily",
        "sales_person_monthly",
        "customer_value",
        "avg_salary_by_age",
    }
    items = demo_domain.table("sales_items")
    assert items.column("discount").type == "decimal(4,3)"
    assert [r.name for r in items.rules] == [
        "quantity_positive",
        "unit_price_not_negative",
        "discount_in_range",
    ]
    assert all(r.action is RuleAction.QUARANTINE for t in demo_domain.tables for r in t.rules)
    daily = demo_domain.gold_model("sales_daily")
    assert daily.transform == "" and daily.scope == ""
    assert daily.sql.startswith("SELECT") and set(daily.sources) == {
        "sales",
        "sales_items",
        "products",
    }
    assert daily.partition_by == ("sale_month",)
    # The regular expression survives YAML: Spark reads '\\s' in a SQL literal as \s.
    email = demo_domain.table("clients").rules[0].expression
    assert email == r"email RLIKE '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'"


def test_every_demo_file_names_its_schema_and_validates() -> None:
    for kind, folder in (("table", "tables"), ("model", "models")):
        for path in sorted((DEMO_FOLDER / folder).glob("*.yaml")):
            first = path.read_text().splitlines()[0]
            assert first.endswith(f"medallion/spec/schemas/{kind}.schema.json"), path
            assert (path.parent / first.split("=", 1)[1]).resolve().is_file(), path
            jsonschema.validate(yaml.safe_load(path.read_text()), schema(kind))
    # the demo's marts are SQL; Python models are YAML declarations that validate too
    assert sorted(p.suffix for p in (DEMO_FOLDER / "models").iterdir()) == [".sql"] * 4
    for text in DECLARATIONS.values():
        jsonschema.validate(yaml.safe_load(text), schema("model"))


def test_python_models_declared_in_yaml_load_and_check(
    domain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_python_models(domain)
    status, lines = check(domain, capsys)
    assert status == 0 and lines[0].startswith(f"{domain}: ok, 7 table(s), 6 gold model(s)")
    units = load_domain(domain).gold_model("units_by_product")
    assert units.transform == "tests.medallion.python_model:units_by_product"
    assert units.scope == "tests.medallion.python_model:units_by_product_scope"
    assert units.sql == "" and units.sources == ("sales_items",)


def test_check_passes_on_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--domain", str(DEMO_FOLDER)]) == 0
    assert "ok, 7 table(s), 4 gold model(s)" in capsys.readouterr().out


def test_the_domain_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, domain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(domain / "models")
    (domain / "tables" / "employees.yaml").unlink()
    monkeypatch.setenv("MEDALLION_DOMAIN", str(domain))
    assert main(["check"]) == 0
    assert "ok, 6 table(s), 0 gold model(s)" in capsys.readouterr().out


# ------------------------------------------------------------------ mistakes


def test_check_lists_five_kinds_of_mistakes_naming_file_and_key(
    domain: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables, models = domain / "tables", domain / "models"
    edit(tables / "products.yaml", "primary_key: [product_id]", "primary_key: [product_key]")
    edit(tables / "employees.yaml", "type: decimal(12,2)", "type: money")
    edit(tables / "sales_items.yaml", "expression: quantity > 0", "expression: quantity > AND 0")
    edit(models / "avg_salary_by_age.sql", "FROM employees AS e", "FROM staff AS e")
    shutil.copy(tables / "sales.yaml", tables / "sales_daily.yaml")
    edit(tables / "sales_daily.yaml", "name: sales\n", "name: sales_daily\n")

    started = time.monotonic()
    status, lines = check(domain, capsys)
    seconds = time.monotonic() - started

    assert status == 1
    assert seconds < 5, f"check took {seconds:.1f}s"
    expected = [
        ("tables/products.yaml", "table 'products': key primary_key: unknown column 'product_key'"),
        (
            "tables/employees.yaml",
            "key columns[4].type (column 'salary'): unsupported type 'money'",
        ),
        (
            "tables/sales_items.yaml",
            "key rules[0].expression (rule 'quantity_positive'): not valid Spark SQL",
        ),
        ("models/avg_salary_by_age.sql", "line 26: unknown table 'staff'"),
        ("models/sales_daily.sql", "key name: 'sales_daily' is already used by table"),
    ]
    for file, message in expected:
        assert any(line.startswith(f"{domain}/{file}: ") and message in line for line in lines), (
            file,
            message,
            lines,
        )
    assert len(lines) == len(expected), lines


def test_load_domain_raises_every_problem_at_once(domain: Path) -> None:
    edit(domain / "tables" / "products.yaml", "type: decimal(10,2)", "type: numeric")
    edit(domain / "tables" / "sales.yaml", "primary_key: [sale_id]", "primary_key: [id]")
    with pytest.raises(DomainErrors) as raised:
        load_domain(domain, label="my-domain")
    problems = raised.value.problems
    assert [p.file for p in problems] == [
        "my-domain/tables/products.yaml",
        "my-domain/tables/sales.yaml",
    ]
    assert str(raised.value).startswith("my-domain/tables/products.yaml: table 'products': key ")
    assert isinstance(raised.value, ValueError)  # the CLI reports it as a usage error


def test_a_fixed_domain_passes_again(domain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The control of the tests here: the same edit, undone, is clean."""
    path = domain / "tables" / "products.yaml"
    edit(path, "primary_key: [product_id]", "primary_key: [product_key]")
    assert check(domain, capsys)[0] == 1
    edit(path, "primary_key: [product_key]", "primary_key: [product_id]")
    status, lines = check(domain, capsys)
    assert status == 0 and lines[0].startswith(f"{domain}: ok, 7 table(s), 4 gold model(s)")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("tables/clients.yaml", "columns:", "colums:", "key colums: unknown key"),
        ("tables/clients.yaml", "source: retail\n", "", "key source: missing (required)"),
        ("tables/clients.yaml", "name: clients", "name: customers", "differs from the file name"),
        (
            "tables/clients.yaml",
            "  - name: phone",
            "  - name: Phone",
            "'Phone' must be lower snake",
        ),
        (
            "tables/clients.yaml",
            "  - name: phone",
            "  - name: email",
            "(column 'email'): declared twice",
        ),
        (
            "tables/clients.yaml",
            "  - name: phone",
            "  - name: commit_ts",
            "reserved for the DMS column",
        ),
        ("tables/clients.yaml", "action: quarantine", "action: drop", "key rules[0].action"),
        ("tables/clients.yaml", "email RLIKE", "mail RLIKE", "unknown column 'mail'"),
        ("tables/clients.yaml", "primary_key: [client_id]", "primary_key: [client_id", "line "),
        (
            "tables/sales.yaml",
            "primary_key: [sale_id]",
            "primary_key: [sale_id]\nincomplete: no key found",
            "key incomplete: no key found",
        ),
        (
            "models/sales_daily.sql",
            "grain: [sale_date, category]",
            "grain: [day]",
            "grain names unknown columns ['day']",
        ),
        (
            "models/sales_daily.sql",
            "partition_by: [sale_month]",
            "partitions: [sale_month]",
            "unknown metadata keys ['partitions']",
        ),
        (
            "models/units_by_product.yaml",
            "grain: [product_id]",
            "grain: [day]",
            "key grain: unknown column 'day'",
        ),
        (
            "models/units_by_product.yaml",
            "transform: tests.medallion.python_model:units_by_product",
            "transform: units_by_product",
            "key transform",
        ),
        (
            "models/units_by_product.yaml",
            "scope: tests.medallion.python_model:units_by_product_scope",
            "scope: units_by_product_scope",
            "key scope",
        ),
        (
            "models/units_by_product.yaml",
            "name: units_by_product",
            "name: clients_quarantine",
            "differs from the file name",
        ),
    ],
)
def test_each_mistake_names_the_file_and_the_key(
    domain: Path,
    capsys: pytest.CaptureFixture[str],
    file: str,
    old: str,
    new: str,
    message: str,
) -> None:
    add_python_models(domain)
    edit(domain / file, old, new)
    status, lines = check(domain, capsys)
    assert status == 1
    assert any(line.startswith(f"{domain}/{file}: ") and message in line for line in lines), lines


def test_quarantine_names_are_reserved(domain: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moved = domain / "models" / "sales_quarantine.sql"  # a SQL model is named by its file
    (domain / "models" / "customer_value.sql").rename(moved)
    status, lines = check(domain, capsys)
    assert status == 1
    assert lines == [
        f"{domain}/models/sales_quarantine.sql: model 'sales_quarantine': key name: "
        f"'sales_quarantine' is already used by the quarantine table of table 'sales' "
        f"({domain}/tables/sales.yaml)"
    ]


def test_a_domain_with_tables_and_no_models_is_fine(domain: Path) -> None:
    shutil.rmtree(domain / "models")
    loaded = load_domain(domain)
    assert len(loaded.tables) == 7 and loaded.gold_models == ()


def test_an_empty_or_missing_domain_says_so(tmp_path: Path) -> None:
    _, problems = inspect_domain(tmp_path / "nowhere")
    assert [str(p) for p in problems] == [
        f"{tmp_path}/nowhere: no such domain folder (give --domain or MEDALLION_DOMAIN)"
    ]
    (tmp_path / "empty").mkdir()
    _, problems = inspect_domain(tmp_path / "empty")
    assert [p.file for p in problems] == [f"{tmp_path}/empty/tables"]


def test_stray_files_are_reported(domain: Path) -> None:
    (domain / "tables" / "notes.txt").write_text("todo")
    _, problems = inspect_domain(domain)
    assert [str(p) for p in problems] == [
        f"{domain}/tables/notes.txt: not a declaration (expected <name>.yaml|.yml)"
    ]


def test_a_sql_model_without_the_sql_module_is_a_clear_error(domain: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("medallion.spec.sql_model") is not None:
        pytest.skip("medallion.spec.sql_model is present: SQL models load")
    (domain / "models" / "daily.sql").write_text("/*\ngrain: [d]\n*/\nSELECT 1 AS d\n")
    _, problems = inspect_domain(domain)
    assert [str(p) for p in problems] == [
        f"{domain}/models/daily.sql: model 'daily': SQL models need medallion.spec.sql_model, "
        "which this version of medallion does not have"
    ]


def test_the_package_declares_no_domain_of_its_own() -> None:
    import importlib.util

    import medallion.spec

    assert not hasattr(medallion.spec, "DOMAIN")
    assert importlib.util.find_spec("medallion.spec.demo") is None
    package = Path(medallion.spec.__file__).resolve().parents[1]
    assert not [p for p in package.rglob("*.y*ml")], "declarations belong in a domain folder"
    assert not [p for p in package.rglob("*.sql")], "gold models belong in a domain folder"
    assert importlib.util.find_spec("medallion.gold.marts") is None


# ------------------------------------------------------------------ where a job finds it


def test_a_domain_loads_from_an_s3_prefix_and_from_a_zip(aws: Aws, tmp_path: Path) -> None:
    from infra.domain import archive_bytes
    from medallion.storage import load_domain_from

    for path in sorted(p for p in DEMO_FOLDER.rglob("*") if p.is_file()):
        key = f"project/domain/{path.relative_to(DEMO_FOLDER).as_posix()}"
        aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=path.read_bytes())
    assert load_domain_from(aws.uri("project/domain")) == load_domain(DEMO_FOLDER)
    aws.s3.put_object(Bucket=aws.bucket, Key="a/domain.zip", Body=archive_bytes(DEMO_FOLDER))
    assert load_domain_from(aws.uri("a/domain.zip")) == load_domain(DEMO_FOLDER)
    (tmp_path / "domain.zip").write_bytes(archive_bytes(DEMO_FOLDER))
    assert load_domain_from(str(tmp_path / "domain.zip")) == load_domain(DEMO_FOLDER)

    sales = DEMO_FOLDER / "tables" / "sales.yaml"
    broken = sales.read_text().replace("primary_key: [sale_id]", "primary_key: [id]")
    aws.s3.put_object(Bucket=aws.bucket, Key="project/domain/tables/sales.yaml", Body=broken)
    with pytest.raises(DomainErrors) as raised:
        load_domain_from(aws.uri("project/domain"))
    assert str(raised.value) == (
        f"{aws.uri('project/domain')}/tables/sales.yaml: table 'sales': key primary_key: "
        "unknown column 'id' (columns: sale_id, client_id, sales_person_id, sale_ts, status, "
        "total_amount)"
    )


def test_the_glue_entry_refuses_a_broken_domain_before_starting_spark(
    domain: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from medallion.jobs.entry import main as glue_main

    edit(domain / "tables" / "sales.yaml", "primary_key: [sale_id]", "primary_key: [id]")
    roots = [f"--{part}-root={tmp_path / part}" for part in ("landing", "bronze", "silver", "gold")]
    argv = ["glue_entry.py", "--JOB_NAME=j", "--layer=bronze", *roots, f"--domain-root={domain}"]
    with pytest.raises(SystemExit) as exited:
        glue_main(argv)
    assert exited.value.code == 2
    assert f"{domain}/tables/sales.yaml: table 'sales': key primary_key" in capsys.readouterr().err
