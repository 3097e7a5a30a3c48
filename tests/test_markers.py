"""Tests are marked and grouped from the fixtures they use (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import group_of, needs


def test_markers_follow_the_fixtures() -> None:
    assert needs(["spark", "tmp_path"]) == {"spark"}
    assert needs(["moto_endpoint", "spark"]) == {"s3", "spark"}
    assert needs(["mariadb_url"]) == {"database"}
    assert needs(["tmp_path"]) == set()


def test_tests_sharing_an_expensive_fixture_share_a_worker() -> None:
    assert group_of(["spark", "pipeline_run"], "tests/a.py") == "pipeline"
    assert group_of(["postgres_url"], "tests/a.py") == group_of(["mariadb_url"], "b") == "databases"
    assert group_of(["spark", "tmp_path"], "tests/a.py") == "tests/a.py"


def test_this_test_is_grouped_by_its_module(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("xdist_group")
    assert marker is not None and marker.args == ("tests/test_markers.py",)
    assert request.node.get_closest_marker("spark") is None


def test_xdist_schedules_by_the_groups(request: pytest.FixtureRequest) -> None:
    """Under ``--dist loadgroup`` xdist appends the group to the test's id and schedules by it
    (it silently stops doing so with an incompatible pytest)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@tests/test_markers.py"), request.node.nodeid
