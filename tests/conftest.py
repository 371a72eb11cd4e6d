"""Shared fixtures. The real embedded model is loaded once per session (the GGUF conversion is cached in
the user cache dir, so only the very first run on a machine pays ~40 s for it)."""

from __future__ import annotations

import os
import socket

import pytest

from llmkit import Engine, load_settings


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) everything is installed, so a skipped test hides a missing package or a broken
    fixture: it is reported as a failure, with the skip's reason. Expected failures (xfail) stay as they are."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true makes a skip a failure): {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at collection (a module-level importorskip)."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true makes a skip a failure): {_skip_reason(report)}"


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
