"""`llmkit serve`: the OpenAI-compatible server, a thin adapter over llmkit.server."""

from __future__ import annotations

import logging

import click

from llmkit.server import KEYS_ENV, ServerConfig, check_binding, gather_keys


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--model", "-m", "models", multiple=True, help="Model to serve (repeatable; default: the default model).")
@click.option(
    "--backend", "-b", default=None, help="transformers | llamacpp | openai (openai: a gateway to another server)."
)
@click.option("--api-key", "api_keys", multiple=True, help=f"Accepted Bearer key (repeatable; also {KEYS_ENV}).")
@click.option("--api-key-file", default=None, help="File with one key per line.")
@click.option("--rate-limit", default=None, help="Requests per key, e.g. 60/minute.")
@click.option("--token-limit", default=None, help="Prompt + completion tokens per key, e.g. 20000/minute.")
@click.option("--max-concurrency", default=4, show_default=True, type=int, help="Requests generating at once.")
@click.option("--max-queue", default=16, show_default=True, type=int, help="Requests waiting; beyond: 503.")
@click.option("--queue-timeout", default=60.0, show_default=True, type=float, help="Seconds a request may wait.")
@click.option("--fallback-model", default=None, help="Served in place of a model that fails to load.")
@click.option("--allow-unauthenticated", is_flag=True, help="Allow a non-loopback address without keys.")
@click.option(
    "--cors-origin", "cors_origins", multiple=True, help="Allowed browser origin (repeatable; CORS off if none)."
)
@click.option(
    "--grace", "grace_s", default=30.0, show_default=True, type=float, help="Seconds in-flight streams get on SIGTERM."
)
@click.option("--no-batching", is_flag=True, help="Transformers backend: one request at a time instead of batched.")
def serve_command(api_key_file: str | None, no_batching: bool, **opts: object) -> None:
    """Serve models over OpenAI's HTTP API (SSE), a WebSocket (/v1/ws) and Prometheus /metrics."""
    from llmkit import server

    keys = gather_keys(tuple(opts.pop("api_keys")), api_key_file)  # type: ignore[arg-type]
    config = ServerConfig(
        api_keys=keys,
        batching=not no_batching,
        models=tuple(opts.pop("models")),  # type: ignore[arg-type]
        cors_origins=tuple(opts.pop("cors_origins")),  # type: ignore[arg-type]
        queue_timeout_s=opts.pop("queue_timeout"),  # type: ignore[arg-type]
        **opts,  # type: ignore[arg-type]
    )
    check_binding(config)  # before any model loads
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    where = f"http://{config.host}:{config.port}"
    auth = f"{len(keys)} API key(s)" if keys else "no API key"
    click.echo(f"llmkit serve: {where}/v1 (WebSocket {where.replace('http', 'ws')}/v1/ws), {auth}", err=True)
    server.serve(config)
