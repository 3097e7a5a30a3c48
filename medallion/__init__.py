"""medallion: bronze -> silver -> gold lakehouse transforms on Spark + Delta Lake."""

__version__ = "0.1.0"
