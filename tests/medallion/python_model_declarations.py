"""The YAML declarations of the Python models of :mod:`tests.medallion.python_model`, and a domain
folder holding them (pure Python: the ``medallion check`` tests need no Spark)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.demo import DEMO_FOLDER

#: The module holding the transforms and the scope function.
MODULE = "tests.medallion.python_model"

#: The YAML declarations of both models, by file name (``models/<name>.yaml`` of a domain).
DECLARATIONS = {
    "units_by_product.yaml": f"""\
name: units_by_product
description: Units sold per product.
transform: {MODULE}:units_by_product
scope: {MODULE}:units_by_product_scope
sources: [sales_items]
grain: [product_id]
columns:
  - name: product_id
    type: bigint
  - name: units
    type: bigint
""",
    "items_by_product.yaml": f"""\
name: items_by_product
description: Items per product.
transform: {MODULE}:items_by_product
sources: [sales_items]
grain: [product_id]
columns:
  - name: product_id
    type: bigint
  - name: items
    type: bigint
""",
}


def python_domain(folder: Path) -> Path:
    """A domain at ``folder``: the demo's tables and, as its only models, the two above."""
    shutil.copytree(DEMO_FOLDER / "tables", folder / "tables")
    (folder / "models").mkdir()
    for file, text in DECLARATIONS.items():
        (folder / "models" / file).write_text(text)
    return folder
