"""Run a command and report its wall time and the peak memory of its whole process tree.

Peak memory is the largest sum of resident set sizes over the command and all its descendants
(the Python driver plus Spark's JVM), sampled every 100 ms from /proc; a child that has not
exec'd yet (a copy of its parent) is not counted twice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    output: str = ""

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


def _process(pid: int) -> tuple[int, str] | None:
    """Resident bytes and executable of ``pid``, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            rss = int(handle.read().split()[1]) * PAGE
        return rss, os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant.

    A child that is still a copy of its parent (same executable, same resident size: the JVM
    between spawning a shell command and that command's exec) shares its parent's pages and
    is not counted twice.
    """
    tree, total = _children(), 0
    stack: list[tuple[int, tuple[int, str] | None]] = [(pid, None)]
    while stack:
        current, parent = stack.pop()
        found = _process(current)
        if found is None:
            continue
        if parent is None or found[1] != parent[1] or abs(found[0] - parent[0]) > found[0] // 100:
            total += found[0]
        stack.extend((child, found) for child in tree.get(current, []))
    return total


def measure(command: Sequence[str], env: dict[str, str] | None = None) -> Measurement:
    """Run ``command`` to the end; its output goes to this process's stderr and is kept."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    lines: list[str] = []
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(0.1)

    def echo() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            sys.stderr.write(line)

    threads = [threading.Thread(target=t, daemon=True) for t in (sample, echo)]
    for thread in threads:
        thread.start()
    returncode = process.wait()
    threads[1].join()
    done.set()
    threads[0].join()
    return Measurement(time.monotonic() - started, peak, returncode, "".join(lines))


def medallion(*args: str) -> list[str]:
    """The ``medallion`` CLI of this interpreter's environment."""
    return [sys.executable, "-m", "medallion.cli", *args]


def lakehouse_arguments(description: str | None) -> argparse.Namespace:
    """``--scale`` (default 1) and ``--lakehouse`` (where to keep it), parsed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--lakehouse", help="keep the lakehouse here (default: a temp folder)")
    return parser.parse_args()


@contextmanager
def lakehouse_folder(kept: str | None) -> Iterator[Path]:
    """An empty folder for the lakehouse: ``kept`` (emptied first and left afterwards), or a
    temporary one removed at the end."""
    root = Path(kept or tempfile.mkdtemp(prefix="medallion-bench-"))
    shutil.rmtree(root, ignore_errors=True)
    try:
        yield root
    finally:
        if not kept:
            shutil.rmtree(root, ignore_errors=True)
