"""Pulumi components of the medallion lakehouse (never imports pyspark).

``LakehouseStack`` composes three ``MedallionLayer``s (bronze, silver, gold) with the shared key,
buckets, schedule, alerting and Athena; ``StackConfig`` is the validated stack configuration.
"""

from infra.config import ConfigError, StackConfig
from infra.lakehouse import LakehouseStack, LakehouseStackArgs
from infra.layer import MedallionLayer, MedallionLayerArgs
from infra.wheel import BuiltWheel, build_wheel

__all__ = [
    "BuiltWheel",
    "ConfigError",
    "LakehouseStack",
    "LakehouseStackArgs",
    "MedallionLayer",
    "MedallionLayerArgs",
    "StackConfig",
    "build_wheel",
]
