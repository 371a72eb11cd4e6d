"""The `llmkit` command: thin adapters over the capabilities' public faces."""

from llmkit.cli.main import cli, main

__all__ = ["cli", "main"]
