"""Typed, validated reads of stack config values; every error names the full key.

Any object with ``get(key) -> str | None`` is a source (``pulumi.Config`` is one; tests use
:class:`MappingSource`), so nothing here talks to the Pulumi engine. ``infra.config`` reads the
stack's sections with it, ``infra.delivery`` its own; neither imports the other's readers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

NAMESPACE = "medallion"

T = TypeVar("T")


class ConfigError(ValueError):
    """A stack config value is invalid; the message names the key."""


class ConfigSource(Protocol):
    """What the config is read from: ``pulumi.Config`` or a mapping adapter."""

    def get(self, key: str) -> str | None: ...


class MappingSource:
    """A :class:`ConfigSource` over plain values (JSON-encoded the way the CLI passes them)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def get(self, key: str) -> str | None:
        value = self._values.get(key)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)


class Reader:
    """Typed getters over a source; every error names ``<namespace>:<key>``."""

    def __init__(self, source: ConfigSource, where: str = f"{NAMESPACE}:") -> None:
        self._source = source
        self._where = where

    def key(self, key: str) -> str:
        return f"{self._where}{key}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"config {self.key(key)}: {problem}")

    def raw(self, key: str) -> str | None:
        value = self._source.get(key)
        return None if value is None or value.strip() == "" else value.strip()

    def string(self, key: str, default: str) -> str:
        value = self.raw(key)
        return default if value is None else value

    def optional_string(self, key: str) -> str | None:
        return self.raw(key)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self.raw(key)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self.fail(key, f"{value!r} is not an integer") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise self.fail(key, f"{number} must be {bound}")
        return number

    def ratio(self, key: str) -> float | None:
        value = self.raw(key)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise self.fail(key, f"{value!r} is not a number") from None
        if not 0.0 <= number <= 1.0 or math.isnan(number):
            raise self.fail(key, f"{number} must be between 0 and 1")
        return number

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(key, f"{value!r} is not true or false")

    def optional_section(self, key: str, read: Callable[[Reader], T]) -> T | None:
        """Read a JSON-object value with ``read``; ``None`` when the key is absent."""
        value = self.raw(key)
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise self.fail(key, "must be an object") from None
        if not isinstance(parsed, dict):
            raise self.fail(key, "must be an object")
        return read(Reader(MappingSource(parsed), where=f"{self.key(key)}."))
