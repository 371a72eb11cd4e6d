"""Shared fixtures. The real embedded model is loaded once per session (the GGUF conversion is cached in
the user cache dir, so only the very first run on a machine pays ~40 s for it)."""

from __future__ import annotations

import os
import socket

import pytest

from llmkit import Engine, load_settings


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path_factory, monkeypatch):
    """No test reads the developer's own config file or LLMKIT_* variables."""
    for name in list(os.environ):
        if name.startswith("LLMKIT_") and name != "LLMKIT_CACHE_DIR":
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("LLMKIT_CONFIG", str(tmp_path_factory.mktemp("cfg") / "config.toml"))


@pytest.fixture(scope="session")
def engine():
    """One engine with the embedded model on the default (transformers) backend."""
    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-test-config.toml")
    eng = Engine(settings=load_settings())
    eng.backend_for()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def embedded_gguf():
    from llmkit.models.assets import SMOLLM2_GGUF

    path = SMOLLM2_GGUF.path()
    assert path is not None, f"embedded model missing: {SMOLLM2_GGUF.install_line}"
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def collect(events):
    """(text deltas, the one Finished event) of a stream; fails if the stream breaks the contract."""
    from llmkit import Finished, TextDelta

    deltas, final = [], None
    for event in events:
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            assert isinstance(event, Finished) and final is None
            final = event
    assert final is not None, "the stream ended without a Finished event"
    return deltas, final
