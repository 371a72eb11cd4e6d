"""The app: a registry of tabs, the offline theme, and the launch.

Each capability's tab is one module in this package that registers a builder with `@register_tab`; the
builder lays out its components inside the tab and wires them to that capability's service. A later
capability (model internals, the quantization lab, model comparison) adds its module and one line in
`_load_builtins`. Builders share a `UiContext`: the Engine whose loaded models every session reuses, and a
work folder where each session keeps its own files. Per-session state lives in `gr.State`, never here.
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.errors import LlmkitError, MissingExtraError

if TYPE_CHECKING:
    from llmkit.generation import Engine

# System font stacks: Gradio's default themes fetch Google Fonts, and the page must work with no network.
SANS_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace")

_CSS = """
.token { border-radius: 3px; padding: 1px 0; margin: 0 1px 2px 0; display: inline-block; white-space: pre;
         font-family: ui-monospace, monospace; }
.token.special { outline: 2px solid #c2410c; background: #fed7aa !important; font-weight: bold; }
.ws { color: #888; }
.notice { color: #a15c00; }
"""


@dataclass(frozen=True)
class TabSpec:
    name: str  # stable id (elem_id "tab-<name>", used by tests and links)
    title: str
    order: int
    build: Callable[[UiContext], None]


@dataclass
class UiContext:
    """What every tab may share: the engine (models load once for all sessions) and a work folder."""

    engine: Engine
    work_dir: Path
    _shared: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session_dir(self, prefix: str) -> Path:
        """A new folder for one action of one session (its files are what that session downloads)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=self.work_dir))

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """One object for the whole app (a loaded pipeline), made on first use."""
        with self._lock:
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]


_TABS: dict[str, TabSpec] = {}


def register_tab(name: str, title: str, order: int = 100) -> Callable[[Callable], Callable]:
    """Register a tab builder `(ctx) -> None`; tabs appear sorted by `order`."""

    def decorator(build: Callable[[UiContext], None]) -> Callable[[UiContext], None]:
        _TABS[name] = TabSpec(name, title, order, build)
        return build

    return decorator


def tab_names() -> list[str]:
    _load_builtins()
    return [spec.name for spec in sorted(_TABS.values(), key=lambda s: s.order)]


def _load_builtins() -> None:
    # Importing a tab module runs its @register_tab. A new capability's tab adds one name here.
    from llmkit.ui import chat, minutes, synth, tokens  # noqa: F401


def gradio() -> Any:
    """Gradio, imported with its analytics off, or the install line."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read at import; the page must not call home
    try:
        import gradio as gr
    except ImportError as exc:
        raise MissingExtraError("gradio", "ui", "the web UI") from exc
    return gr


def theme() -> Any:
    gr = gradio()
    return gr.themes.Soft(font=list(SANS_FONTS), font_mono=list(MONO_FONTS))


def build_app(engine: Engine | None = None, work_dir: Path | None = None) -> Any:
    """The Blocks app with every registered tab. Nothing heavy loads here: models load on first use."""
    gr = gradio()
    if engine is None:
        from llmkit.generation import Engine

        engine = Engine()
    folder = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="llmkit-ui-"))
    ctx = UiContext(engine, folder)
    _load_builtins()
    with gr.Blocks(title="llmkit", analytics_enabled=False) as app:
        gr.Markdown("## llmkit: offline LLM toolkit", elem_id="llmkit-header")
        with gr.Tabs():
            for spec in sorted(_TABS.values(), key=lambda s: s.order):
                with gr.Tab(spec.title, id=spec.name, elem_id=f"tab-{spec.name}"):
                    spec.build(ctx)
    app.llmkit_context = ctx  # for tests and benchmarks (the engine and the work folder)
    return app


def launch(app: Any, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> str:
    """Serve the app; returns its local URL (with block=False, the server runs in a background thread)."""
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        show_error=False,  # our handlers raise readable gr.Error messages; never show tracebacks
        theme=theme(),
        css=_CSS,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=[],
        quiet=True,
        allowed_paths=[str(app.llmkit_context.work_dir)],
    )
    return url


def readable(exc: Exception) -> Any:
    """An exception as a message for the page: llmkit errors say what and why; anything else names its type."""
    gr = gradio()
    if isinstance(exc, gr.Error):
        return exc
    text = str(exc) if isinstance(exc, LlmkitError) else f"{type(exc).__name__}: {exc}"
    return gr.Error(text, print_exception=False)


def guarded(handler: Callable) -> Callable:
    """Wrap an event handler so that any failure reaches the page as a readable message, not a traceback."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from handler(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the page
                raise readable(exc) from exc

        return stream

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise readable(exc) from exc

    return call
