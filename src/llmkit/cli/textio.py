"""Text from the command line and stdin, as the CLI's commands take it in; colour as the terminal wants it."""

from __future__ import annotations

import os
import sys

import click


def clean_text(text: str, where: str) -> str:
    """Text with bytes that are not UTF-8 replaced by U+FFFD, and said so on stderr. (Python hands
    undecodable argument bytes over as lone surrogates, which no tokenizer or model accepts.)"""
    cleaned = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if cleaned != text:
        click.echo(f"warning: {where} had bytes that are not UTF-8; each became \\ufffd", err=True)
    return cleaned


def read_stdin_text(where: str = "stdin") -> str:
    return clean_text(sys.stdin.buffer.read().decode("utf-8", "surrogateescape"), where)


def colour_wanted() -> bool:
    """Colour unless NO_COLOR is set to something (no-color.org); click drops it when not a terminal."""
    return not os.environ.get("NO_COLOR")
