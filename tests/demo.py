"""The demo domain, read from the repository's ``domain/`` folder (as ``make run`` reads it)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from medallion.spec import Domain, load_domain

#: The repository's domain folder: the retail/HR demo of DESIGN §3.
DEMO_FOLDER = Path(__file__).resolve().parents[1] / "domain"


@cache
def load_demo() -> Domain:
    """The demo's declarations, loaded once per test process."""
    return load_domain(DEMO_FOLDER)


@cache
def load_python_marts() -> Domain:
    """The demo with its marts computed by the Python transforms of ``medallion.gold.marts``
    and their scope functions: a second implementation the SQL models are checked against."""
    demo = load_demo()
    marts = "medallion.gold.marts"
    models = tuple(
        replace(
            model,
            sql="",
            transform=f"{marts}:{model.name}",
            scope=f"{marts}:{model.name}_scope",
        )
        for model in demo.gold_models
    )
    return Domain(tables=demo.tables, gold_models=models)
