"""Component structure, exports, and how dev and prod differ."""

from __future__ import annotations

from collections import Counter

from stackrun import (
    BUCKET,
    DATABASE,
    JOB,
    KMS_KEY,
    LOG_GROUP,
    SUBSCRIPTION,
    TRIGGER,
    WORKGROUP,
    StackRun,
    assert_parented_and_named,
)

COMPONENTS = {
    "medallion:index:Lakehouse": 1,
    "medallion:index:MedallionLayer": 3,
    "medallion:index:SecureBucket": 5,
    "medallion:index:TransformJob": 3,
}


def test_components_compose_the_lakehouse(stack: StackRun) -> None:
    counts = Counter(r.type for r in stack.resources if not r.custom)
    assert dict(counts) == COMPONENTS
    layers = [r for r in stack.resources if r.type == "medallion:index:MedallionLayer"]
    lakehouse = next(r for r in stack.resources if r.type == "medallion:index:Lakehouse")
    assert {layer.parent for layer in layers} == {lakehouse.urn}
    assert sorted(layer.name for layer in layers) == sorted(
        f"medallion-{stack.stack}-{layer}" for layer in ("bronze", "silver", "gold")
    )


def test_every_resource_is_parented_and_named_from_its_component(stack: StackRun) -> None:
    assert_parented_and_named(stack)


def test_each_layer_owns_bucket_database_job_role_and_logs(stack: StackRun) -> None:
    by_urn = {r.urn: r for r in stack.resources}

    def layer_of(resource_urn: str) -> str | None:
        while resource_urn in by_urn:
            resource = by_urn[resource_urn]
            if resource.type == "medallion:index:MedallionLayer":
                return resource.name
            resource_urn = resource.parent
        return None

    for layer in ("bronze", "silver", "gold"):
        name = f"medallion-{stack.stack}-{layer}"
        owned = Counter(r.type for r in stack.resources if layer_of(r.parent) == name)
        assert owned[BUCKET] == 1, layer
        assert owned[DATABASE] == 1, layer
        assert owned[JOB] == 1, layer
        assert owned["aws:iam/role:Role"] == 1, layer
        assert owned[LOG_GROUP] == 2, layer


def test_program_never_imports_spark(stack: StackRun) -> None:
    """__main__ -> infra -> medallion.spec only: the program runs without pyspark."""
    assert "medallion" in stack.imported and "infra" in stack.imported
    assert "pyspark" not in stack.imported and "delta" not in stack.imported


def test_exports_name_what_a_user_needs(stack: StackRun) -> None:
    exports = stack.exports
    assert set(exports) >= {
        "bucketNames",
        "landingUri",
        "databaseNames",
        "jobNames",
        "workflowName",
        "athenaWorkgroup",
        "alertTopicArn",
    }
    assert set(exports["bucketNames"]) == {"bronze", "silver", "gold", "artifacts", "access_logs"}
    assert set(exports["jobNames"]) == {"bronze", "silver", "gold"}
    assert exports["landingUri"] == f"s3://{exports['bucketNames']['bronze']}/landing"
    assert exports["athenaWorkgroup"] == stack.one(WORKGROUP)["name"]
    assert all(len(name) <= 63 for name in exports["bucketNames"].values())


# --- dev and prod differ where it matters ------------------------------------------------------


def test_prod_protects_data_dev_does_not(dev: StackRun, prod: StackRun) -> None:
    for run, protected in ((dev, False), (prod, True)):
        kept = [*run.of_type(BUCKET), *run.of_type(KMS_KEY), *run.of_type(DATABASE)]
        assert len(kept) == 5 + 1 + 3
        assert all(r.protect is protected for r in kept), run.stack


def test_dev_can_be_destroyed_with_its_data_prod_cannot(dev: StackRun, prod: StackRun) -> None:
    for run, force in ((dev, True), (prod, False)):
        for resource in (*run.of_type(BUCKET), *run.of_type(WORKGROUP)):
            assert resource.get("forceDestroy") is force, f"{run.stack}: {resource.name}"


def test_prod_runs_bigger_standard_workers(dev: StackRun, prod: StackRun) -> None:
    dev_job, prod_job = dev.job("silver"), prod.job("silver")
    assert (dev_job["workerType"], prod_job["workerType"]) == ("G.1X", "G.2X")
    assert dev_job["numberOfWorkers"] < prod_job["numberOfWorkers"]
    assert (dev_job["executionClass"], prod_job["executionClass"]) == ("FLEX", "STANDARD")
    assert dev_job["timeout"] < prod_job["timeout"]


def test_only_prod_runs_on_a_schedule(dev: StackRun, prod: StackRun) -> None:
    for run, enabled in ((dev, False), (prod, True)):
        scheduled = [t for t in run.of_type(TRIGGER) if t["type"] == "SCHEDULED"]
        assert len(scheduled) == 2
        assert all(t["enabled"] is enabled for t in scheduled), run.stack


def test_prod_keeps_logs_and_old_versions_longer(dev: StackRun, prod: StackRun) -> None:
    def days(run: StackRun) -> set[int]:
        return {g["retentionInDays"] for g in run.of_type(LOG_GROUP)}

    assert max(days(dev)) < min(days(prod))
    assert dev.one(KMS_KEY)["deletionWindowInDays"] < prod.one(KMS_KEY)["deletionWindowInDays"]


def test_only_prod_mails_alerts(dev: StackRun, prod: StackRun) -> None:
    assert dev.of_type(SUBSCRIPTION) == []
    (subscription,) = prod.of_type(SUBSCRIPTION)
    assert subscription["protocol"] == "email"
    assert subscription["topic"] == prod.exports["alertTopicArn"]


def test_resource_counts_per_stack(dev: StackRun, prod: StackRun) -> None:
    """The same shape in both stacks, apart from the e-mail subscription."""
    dev_counts = Counter(r.type for r in dev.resources)
    prod_counts = Counter(r.type for r in prod.resources)
    assert prod_counts - dev_counts == Counter({SUBSCRIPTION: 1})
    assert dev_counts - prod_counts == Counter()
