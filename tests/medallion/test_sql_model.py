"""SQL gold model files: metadata, sources, inferred types and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.spec import GoldModel, SpecError
from medallion.spec.sql_model import load_sql_model, parse_sql_model
from tests.demo import DEMO_FOLDER, load_demo
from tests.medallion.sql_model_cases import TYPED_COLUMNS, TYPED_QUERY

#: The demo's marts: SQL models in the repository's domain folder.
MODELS = DEMO_FOLDER / "models"
TABLES = load_demo().tables
#: The demo marts' columns as docs/demo.md defines them.
DEMO_COLUMNS = {
    "sales_daily": [
        ("sale_date", "date"),
        ("category", "string"),
        ("orders", "bigint"),
        ("units", "bigint"),
        ("gross_revenue", "decimal(18,2)"),
        ("net_revenue", "decimal(18,2)"),
        ("sale_month", "date"),
    ],
    "sales_person_monthly": [
        ("month", "date"),
        ("sales_person_id", "bigint"),
        ("name", "string"),
        ("region", "string"),
        ("orders", "bigint"),
        ("net_revenue", "decimal(18,2)"),
        ("avg_ticket", "decimal(18,2)"),
        ("region_rank", "int"),
    ],
    "customer_value": [
        ("client_id", "bigint"),
        ("name", "string"),
        ("state", "string"),
        ("first_order_at", "timestamp"),
        ("last_order_at", "timestamp"),
        ("completed_orders", "bigint"),
        ("lifetime_net_revenue", "decimal(18,2)"),
    ],
    "avg_salary_by_age": [
        ("age", "int"),
        ("active", "boolean"),
        ("avg_salary", "decimal(14,2)"),
        ("employees", "bigint"),
        ("year", "int"),
        ("month", "int"),
    ],
}


def model(sql: str, metadata: str = "grain: [sale_id]", name: str = "m") -> GoldModel:
    return parse_sql_model(name, f"/*\n{metadata}\n*/\n{sql}", TABLES, where=f"models/{name}.sql")


def error(sql: str, metadata: str = "grain: [sale_id]") -> str:
    with pytest.raises(SpecError) as raised:
        model(sql, metadata)
    return str(raised.value)


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.sql")), ids=lambda p: p.stem)
def test_demo_models_declare_the_documented_columns(path: Path) -> None:
    assert sorted(p.stem for p in MODELS.iterdir()) == sorted(DEMO_COLUMNS)
    sql_model = load_sql_model(path, TABLES)
    assert sql_model.sql.lstrip().upper().startswith(("SELECT", "WITH"))
    assert sql_model.transform == ""
    assert [(c.name, c.type) for c in sql_model.columns] == DEMO_COLUMNS[path.stem]
    assert all(c.comment for c in sql_model.columns)


def test_the_docs_carry_each_demo_model_verbatim() -> None:
    docs = (DEMO_FOLDER.parent / "docs" / "demo.md").read_text()
    for path in sorted(MODELS.glob("*.sql")):
        assert f"`domain/models/{path.name}`:\n\n```sql\n{path.read_text()}```" in docs, path.name


def test_types_follow_sparks_rules() -> None:
    assert {c.name: c.type for c in model(TYPED_QUERY).columns} == TYPED_COLUMNS


def test_an_unknown_column_names_the_file_and_line() -> None:
    message = error("SELECT\n  s.sale_id,\n  s.sale_total\nFROM sales s")
    # metadata block: lines 1-3; the SELECT starts on line 4
    assert message.startswith("models/m.sql: gold model 'm': line 6:"), message
    assert "sale_total" in message


def test_an_unknown_table_names_the_file_and_line() -> None:
    message = error("SELECT r.sale_id\nFROM refunds r")
    assert message.startswith("models/m.sql: gold model 'm': line 5: unknown table 'refunds'")


def test_a_declared_type_must_equal_the_inferred_one() -> None:
    message = error(
        "SELECT s.sale_id, SUM(s.total_amount) AS total FROM sales s GROUP BY s.sale_id",
        'grain: [sale_id]\ncolumns:\n  total: {type: "decimal(18,2)"}',
    )
    assert "gold model 'm'" in message and "column 'total'" in message
    assert "declared decimal(18,2)" in message and "gives decimal(22,2)" in message
    # the same with the right type is fine, and the comment is kept
    fine = model(
        "SELECT s.sale_id, SUM(s.total_amount) AS total FROM sales s GROUP BY s.sale_id",
        'grain: [sale_id]\ncolumns:\n  total: {type: "decimal(22, 2)", comment: Sum.}',
    )
    assert fine.columns[1].type == "decimal(22,2)" and fine.columns[1].comment == "Sum."


def test_a_type_that_cannot_be_inferred_must_be_declared() -> None:
    sql = "SELECT s.sale_id, NULL AS nothing FROM sales s"
    message = error(sql)
    assert "the type of column 'nothing' cannot be inferred" in message
    declared = model(sql, "grain: [sale_id]\ncolumns:\n  nothing: {type: string}")
    assert declared.columns[1].type == "string"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1 AS a FROM sales", "must start with a /* ... */ metadata block"),
        ("/*\ngrain: [a]\nowner: me\n*/\nSELECT 1 AS a FROM sales", "unknown metadata keys"),
        ("/*\ngrain: [b]\n*/\nSELECT 1 AS a FROM sales", "grain names unknown columns ['b']"),
        ("/*\ngrain: [a]\n*/\nSELECT 1 AS a FROM sales UNION SELECT 2 FROM sales", "one SELECT"),
        ("/*\ngrain: [a]\n*/\nSELEC 1", "not a valid Spark SQL query"),
        (
            "/*\ngrain: [a]\ncolumns:\n  z: {comment: none}\n*/\nSELECT 1 AS a FROM sales",
            "columns the query does not return: ['z']",
        ),
    ],
)
def test_bad_files_name_the_file_and_the_problem(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_sql_model("m", text, TABLES, where="models/m.sql")
    assert str(raised.value).startswith("models/m.sql:"), raised.value
    assert expected in str(raised.value)


def test_a_model_has_exactly_one_of_sql_and_transform() -> None:
    fine = model("SELECT s.sale_id FROM sales s")
    assert fine.sources == ("sales",)
    with pytest.raises(SpecError, match="exactly one of 'sql' and 'transform'"):
        GoldModel(name="x", sources=(), grain=(), columns=(), sql="SELECT 1", transform="a:b")
    with pytest.raises(SpecError, match="exactly one"):
        GoldModel(name="x", sources=(), grain=(), columns=())
    with pytest.raises(SpecError, match="scope is derived from its SQL"):
        GoldModel(name="x", sources=(), grain=(), columns=(), sql="SELECT 1", scope="a:b")
    with pytest.raises(SpecError, match="scope must look like"):
        GoldModel(name="x", sources=(), grain=(), columns=(), transform="a:b", scope="nope")
