"""The simulated calendar: when the full load runs, when each CDC batch and file happens.

Times are integers: microseconds since the epoch (UTC) for timestamps, days for dates.
Everything is fixed (no wall clock), so the same seed always gives the same files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(text: str) -> int:
    """``YYYY-MM-DD[THH:MM:SS]`` (UTC) as microseconds since the epoch."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def days(text: str) -> int:
    """``YYYY-MM-DD`` as days since the epoch."""
    return micros(text) // DAY


def moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


#: The full load (batch 0) reads the source at this instant; sales span the two years before.
LOAD_AT = micros("2025-01-01T00:00:00")
HISTORY_START = micros("2023-01-01T00:00:00")
#: CDC batch k covers day k after the load; DMS closes a file every FILE_SPAN.
CDC_FILES = 3
FIRST_FILE_AT = 1 * HOUR
FILE_SPAN = 7 * HOUR


def batch_start(batch: int) -> int:
    """Start of the change window of CDC batch ``batch`` (>= 1)."""
    return LOAD_AT + batch * DAY + FIRST_FILE_AT


def batch_end(batch: int) -> int:
    return batch_start(batch) + CDC_FILES * FILE_SPAN


def file_window(batch: int, index: int) -> tuple[int, int]:
    """``[start, end)`` of the changes DMS writes to file ``index`` of ``batch``."""
    start = batch_start(batch) + index * FILE_SPAN
    return start, start + FILE_SPAN


def file_index(batch: int, us: int) -> int:
    """Which file of ``batch`` a change committed at ``us`` lands in."""
    return min(max((us - batch_start(batch)) // FILE_SPAN, 0), CDC_FILES - 1)


def cdc_file_key(batch: int, index: int, table_index: int, extension: str) -> str:
    """``yyyy/mm/dd/<yyyymmdd-HHMMSSfff>.<ext>``: the DMS date-partitioned CDC file name."""
    written = moment(file_window(batch, index)[1] + 500_000 + table_index * 37_000)
    stamp = written.strftime("%Y%m%d-%H%M%S") + f"{written.microsecond // 1000:03d}"
    return f"{written:%Y/%m/%d}/{stamp}.{extension}"


def load_file_key(number: int, extension: str) -> str:
    """``LOAD00000001.<ext>``: DMS numbers full-load files with a hexadecimal counter."""
    return f"LOAD{number:08X}.{extension}"
