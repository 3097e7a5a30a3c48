"""The database fixtures: missing server binaries skip a test locally and fail it in CI."""

from __future__ import annotations

import pytest

from tests.databases import _missing, postgres_bin


def test_missing_binaries_skip_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb is not installed"):
        _missing("initdb is not installed")


def test_missing_binaries_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and initdb is not installed"):
        _missing("initdb is not installed")


def test_postgres_binaries_found_where_debian_puts_them() -> None:
    found = postgres_bin()
    if found is None:
        _missing("PostgreSQL server binaries are not installed")
    assert found is not None
    assert (found / "initdb").exists() and (found / "postgres").exists()
