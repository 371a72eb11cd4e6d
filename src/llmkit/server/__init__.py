"""`llmkit serve`: an OpenAI-compatible HTTP server (SSE and WebSocket streaming), with API keys, per-key
limits, bounded concurrency, Prometheus metrics and continuous batching on the transformers backend.

FastAPI, uvicorn and friends load only when an app is built: `pip install 'llmkit[server]'`."""

from llmkit.server.config import KEYS_ENV, ServerConfig, check_binding, gather_keys, is_loopback
from llmkit.server.run import create_app, serve

__all__ = ["KEYS_ENV", "ServerConfig", "check_binding", "create_app", "gather_keys", "is_loopback", "serve"]
