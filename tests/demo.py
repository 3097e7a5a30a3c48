"""The demo domain, read from the repository's ``domain/`` folder (as ``make run`` reads it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from medallion.spec import Domain, load_domain

#: The repository's domain folder: the retail/HR demo of docs/demo.md.
DEMO_FOLDER = Path(__file__).resolve().parents[1] / "domain"


@cache
def load_demo() -> Domain:
    """The demo's declarations, loaded once per test process."""
    return load_domain(DEMO_FOLDER)
