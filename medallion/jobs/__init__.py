"""Job entry points: what AWS Glue runs, calling the same functions as the local runner."""
