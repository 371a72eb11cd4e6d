"""The `llmkit` command: thin adapters over the capabilities' public faces (entry point: llmkit.cli.main:main)."""

from llmkit.cli.main import cli

__all__ = ["cli"]
