"""The environment of the Spark processes the tests start (``medallion`` commands, the Glue
entry script, the example notebook's kernel): each runs for seconds beside the test worker's
own Spark."""

from __future__ import annotations

import os
from collections.abc import Mapping

#: One core, a small heap, and only the JVM's quick (C1) compiler: in a process that lives a
#: few seconds, the optimising compiler costs more CPU than its code saves (the two-process
#: race of ``test_concurrent_runs.py``: 74 s with it, 50 s without, on two cores). Spark's own
#: settings stay at their defaults, and no input counts as small
#: (:func:`medallion.session.sized_for`): these processes exercise generated code, which the
#: test session itself skips (``tests/conftest.py: INTERPRETED``).
SPARK_PROCESS = {
    "MEDALLION_SPARK_MASTER": "local[1]",
    "MEDALLION_DRIVER_MEMORY": "1g",
    "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1",
    "MEDALLION_SMALL_INPUT_BYTES": "0",
}


def spark_process_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with :data:`SPARK_PROCESS`."""
    return {**(os.environ if base is None else base), **SPARK_PROCESS}
