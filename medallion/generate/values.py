"""Vocabularies and vectorized helpers that turn random draws into realistic values."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Arr = npt.NDArray[Any]


def _words(text: str, sep: str | None = None) -> Arr:
    return np.array(text.split(sep), dtype=object)


FIRST_NAMES = _words(
    "Ada Alan Alice Amir Ana Ben Carla Chen Clara Dan Diego Elena Emma Eva Farah Felix Grace "
    "Hana Hugo Ines Ivan Jade James Jonas Julia Kai Kofi Lara Leo Lina Luca Maya Mia Nadia Noah "
    "Omar Paula Priya Rosa Sam Sara Tom Uma Victor Yara Zoe"
)
LAST_NAMES = _words(
    "Adams Baker Brown Silva Clark Costa Davis Diaz Evans Garcia Green Hall Ito Jones Kim King "
    "Lee Lopez Martin Miller Moore Nguyen Novak Okafor Patel Perez Reed Rossi Sato Schmidt Scott "
    "Smith Taylor Turner Walker White Wilson Wong Young Zhang"
)
EMAIL_DOMAINS = _words("mail.example inbox.example post.example webmail.example")
STREETS = _words(
    "Main St|Oak Ave|Pine Rd|Maple Dr|Cedar Ln|Elm St|Lake View|Hill Rd|Park Ave|River Rd|"
    "Sunset Blvd|Market St|Church St|Mill Ln|Forest Dr|Harbor Way",
    "|",
)
CITIES = np.array(
    [
        ("Seattle", "WA"),
        ("Portland", "OR"),
        ("San Francisco", "CA"),
        ("Los Angeles", "CA"),
        ("San Diego", "CA"),
        ("Phoenix", "AZ"),
        ("Denver", "CO"),
        ("Austin", "TX"),
        ("Dallas", "TX"),
        ("Houston", "TX"),
        ("Chicago", "IL"),
        ("Minneapolis", "MN"),
        ("Detroit", "MI"),
        ("Columbus", "OH"),
        ("Atlanta", "GA"),
        ("Miami", "FL"),
        ("Orlando", "FL"),
        ("Charlotte", "NC"),
        ("Nashville", "TN"),
        ("New York", "NY"),
        ("Buffalo", "NY"),
        ("Boston", "MA"),
        ("Philadelphia", "PA"),
        ("Baltimore", "MD"),
    ],
    dtype=object,
)
REGIONS = np.array(["north", "south", "east", "west", "central"], dtype=object)
CATEGORIES = np.array(
    ["electronics", "books", "home", "garden", "toys", "sports", "grocery", "beauty", "clothing"],
    dtype=object,
)
PRODUCT_WORDS = _words(
    "Classic Compact Deluxe Eco Essential Mini Pro Smart Travel Ultra Vintage Wireless"
)
PRODUCT_NOUNS = _words(
    "Lamp Kettle Speaker Backpack Novel Puzzle Racket Blender Jacket Planter Headphones Mug "
    "Candle Notebook Drone Sneakers Tent Serum Cookbook Clock"
)
CHANNELS = np.array(["web", "store", "phone"], dtype=object)
DEPARTMENTS = np.array(
    ["engineering", "sales", "support", "finance", "operations", "marketing"], dtype=object
)
STATUSES = np.array(["completed", "cancelled", "pending"], dtype=object)


def pick(rng: np.random.Generator, pool: Arr, n: int, p: Arr | None = None) -> Arr:
    """``n`` draws from ``pool`` (object array)."""
    return pool[rng.choice(len(pool), size=n, p=p)]


def join(*parts: Arr | str, sep: str = "") -> Arr:
    """Element-wise string concatenation of arrays and constants, as an object array."""
    arrays: list[Any] = [
        part if isinstance(part, str) else pa.array(part, type=pa.string()) for part in parts
    ]
    joined = pc.binary_join_element_wise(*arrays, sep)
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def digits(rng: np.random.Generator, n: int, width: int) -> Arr:
    """``n`` random zero-padded digit strings of ``width`` characters."""
    numbers = rng.integers(0, 10**width, size=n)
    return np.asarray(
        pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0").to_numpy(
            zero_copy_only=False
        ),
        dtype=object,
    )


def lower(values: Arr) -> Arr:
    return np.asarray(
        pc.utf8_lower(pa.array(values, type=pa.string())).to_numpy(zero_copy_only=False),
        dtype=object,
    )


def with_nulls(rng: np.random.Generator, values: Arr, ratio: float) -> Arr:
    """A copy of ``values`` with about ``ratio`` of them replaced by ``None``."""
    out = values.copy()
    out[rng.random(len(values)) < ratio] = None
    return out


def uniform_between(rng: np.random.Generator, low: Arr | int, high: Arr | int, n: int) -> Arr:
    """Integers uniformly in ``[low, high)`` (element-wise bounds allowed)."""
    low_a = np.broadcast_to(np.asarray(low, dtype=np.int64), (n,))
    high_a = np.broadcast_to(np.asarray(high, dtype=np.int64), (n,))
    span = np.maximum(high_a - low_a, 1)
    return low_a + (rng.random(n) * span).astype(np.int64)
