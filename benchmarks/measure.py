"""Run a command and report its wall time and the peak memory of its whole process tree.

Peak memory is the largest sum of resident set sizes over the command and all its descendants
(the Python driver plus Spark's JVM), sampled every 100 ms from /proc.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_bytes: int
    returncode: int

    @property
    def peak_gib(self) -> float:
        return self.peak_rss_bytes / 2**30


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant."""
    tree, total, stack = _children(), 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            pass
        stack.extend(tree.get(current, []))
    return total


def measure(command: Sequence[str], env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to the end; its output goes to this process's stderr."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=sys.stderr, stderr=sys.stderr)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = process.wait()
    done.set()
    sampler.join()
    return Measurement(time.monotonic() - started, peak, returncode)


def medallion(*args: str) -> list[str]:
    """The ``medallion`` CLI of this interpreter's environment."""
    return [sys.executable, "-m", "medallion.cli", *args]
