"""The source simulator behind ``medallion generate``.

It replays the demo source databases (docs/demo.md#tables) and writes them into landing as AWS DMS
writes to S3: batch 0 is the full load, batches 1..N are days of CDC carrying every anomaly
the pipeline must handle, each recorded in ``landing/_generator/manifest.json``::

    from medallion.generate import generate
    from medallion.layout import Lakehouse

    print(generate(Lakehouse.at("./lakehouse"), scale=0.05, batches=[0, 1]))
"""

from medallion.generate.manifest import MANIFEST_PATH
from medallion.generate.report import GenerateReport, TableFigures, format_batches
from medallion.generate.run import (
    DEFAULT_BATCHES,
    expected_state,
    expected_states,
    generate,
    parse_batches,
)

__all__ = [
    "DEFAULT_BATCHES",
    "MANIFEST_PATH",
    "GenerateReport",
    "TableFigures",
    "expected_state",
    "expected_states",
    "format_batches",
    "generate",
    "parse_batches",
]
