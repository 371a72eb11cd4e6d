"""`llmkit ui`: serve the web UI (a thin adapter over llmkit.ui)."""

from __future__ import annotations

import click


@click.command("ui")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback: this machine only)."
)
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--backend", "-b", default=None, help="Default backend for 'auto': transformers | llamacpp | openai.")
def ui_command(host: str, port: int, backend: str | None) -> None:
    """Open every capability in a browser: chat, tokenizer lab, meeting minutes, synthetic data."""
    from llmkit.generation import Engine
    from llmkit.ui import build_app, launch

    app = build_app(engine=Engine(backend=backend))
    click.echo(f"llmkit ui on http://{host}:{port} (Ctrl-C stops it)", err=True)
    launch(app, host=host, port=port, block=True)
