"""Building and running the app, with the server extra checked first."""

from __future__ import annotations

from typing import Any

from llmkit.server.config import ServerConfig, check_binding


def _require() -> None:
    import importlib.util

    from llmkit.errors import MissingExtraError

    for module, package in (("fastapi", "fastapi"), ("uvicorn", "uvicorn"), ("sse_starlette", "sse-starlette"),
                            ("prometheus_client", "prometheus-client"), ("limits", "limits")):  # fmt: skip
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError(package, "server", "llmkit serve")


def create_app(config: ServerConfig | None = None, engine: Any = None) -> Any:
    """A FastAPI app serving `config.models` (an Engine may be shared, e.g. in tests)."""
    _require()
    from llmkit.server.app import build_app

    return build_app(config or ServerConfig(), engine)


def serve(config: ServerConfig, engine: Any = None) -> None:
    """Run the server until SIGTERM/SIGINT; in-flight streams get `config.grace_s` to finish."""
    check_binding(config)
    app = create_app(config, engine)
    import uvicorn

    uvicorn.run(app, host=config.host, port=config.port, log_level="info",
                timeout_graceful_shutdown=int(config.grace_s) + 1)  # fmt: skip
