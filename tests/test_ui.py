"""The web UI's pieces without a browser: the tab registry, the offline theme, model availability, the
spec-field locator, whitespace made visible, the chat export, and the install line when gradio is missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llmkit import Engine, load_settings


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from llmkit.ui import UiContext

    return UiContext(Engine(settings=load_settings()), tmp_path_factory.mktemp("ui"))


def test_importing_the_ui_package_does_not_import_gradio():
    code = "import sys, llmkit.ui, llmkit.cli.main; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True)
    assert out.stdout.strip() == "False"


def test_a_missing_gradio_names_the_install_line(monkeypatch):
    from llmkit.errors import MissingExtraError
    from llmkit.ui.app import gradio

    monkeypatch.setitem(sys.modules, "gradio", None)  # makes `import gradio` raise ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'llmkit\[ui\]'"):
        gradio()


def test_builtin_tabs_in_order_and_a_new_tab_is_one_registration(tmp_path):
    from llmkit.ui import build_app, register_tab, tab_names
    from llmkit.ui.app import _TABS

    assert tab_names() == ["chat", "tokens", "minutes", "synth"]

    @register_tab("extra", "Extra lab", order=50)
    def build(ctx):
        import gradio as gr

        gr.Markdown("extra", elem_id="extra-body")

    try:
        assert tab_names()[-1] == "extra"
        app = build_app(engine=Engine(settings=load_settings()), work_dir=tmp_path)
        ids = {getattr(block, "elem_id", None) for block in app.blocks.values()}
        assert {"tab-chat", "tab-extra", "extra-body"} <= ids
    finally:
        del _TABS["extra"]


def test_theme_uses_system_fonts_only():
    import gradio as gr

    from llmkit.ui.app import theme

    fonts = theme()._font + theme()._font_mono
    assert fonts and not any(isinstance(font, gr.themes.GoogleFont) for font in fonts)  # nothing to download


def test_unavailable_models_say_why(ctx):
    from llmkit.ui.chat import model_choices, model_problem

    assert model_problem(ctx.engine.resolve("smollm2-135m-instruct")) is None
    labels = dict((value, label) for label, value in model_choices(ctx))
    assert labels["smollm2-135m-instruct"] == "smollm2-135m-instruct"
    assert "unavailable" in labels["llama-3.1-70b-instruct"] and "hub" in labels["llama-3.1-70b-instruct"]


def test_spec_errors_point_at_the_field_and_its_line():
    from llmkit.ui.synth import field_line

    text = "name: x\ntables:\n  - name: a\n    rows: 3\n    columns:\n      - {name: id, sampler: sequence}\n      - {name: b, sampler: nope}\n"
    assert field_line(text, "tables[0].columns[1].sampler") == 7
    assert field_line(text, "tables[0].rows") == 4
    assert field_line(text, "spec.seed") is None
    assert field_line("a: [unclosed", "tables[0]") is None


def test_whitespace_is_made_visible():
    from llmkit.ui.tokens import visible

    assert visible("a b\n\t<") == "a<span class='ws'>·</span>b<span class='ws'>↵\n</span><span class='ws'>→</span>&lt;"


def test_chat_export_and_bad_sampling_values(ctx):
    from llmkit.errors import ConfigError
    from llmkit.generation import GenerationStats
    from llmkit.ui.chat import ChatSession, _params, export

    session = ChatSession(shown=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    session.stats.append(GenerationStats("m", "b", 3, 1, 0.1, 0.2, 5.0, "stop"))
    json_path, md_path = export(ctx, session)
    assert json.loads(open(json_path).read())["messages"][1]["content"] == "hello"
    assert "| 1 | m | b |" in open(md_path).read()
    with pytest.raises(ConfigError, match="seed"):
        _params(16, 0, 1, 0, 1.1, "abc")
    with pytest.raises(ConfigError, match="top_p"):
        _params(16, 0, 0, 0, 1.1, "")


def test_chat_trims_history_to_the_window_with_a_notice(tmp_path):
    """The chat handler on the real embedded model (llama.cpp): a history longer than the 8k window loses its
    oldest exchanges (Engine.fit_history), the page gets a notice, and the answer still comes."""
    from llmkit.generation import ChatMessage
    from llmkit.ui import UiContext
    from llmkit.ui.chat import ChatSession, send

    ctx = UiContext(Engine(settings=load_settings(backend="llamacpp")), tmp_path)
    session = ChatSession()  # one exchange alone overflows the window; once it is dropped, the prompt is short
    session.history = [ChatMessage("user", "0 " + "word " * 9000), ChatMessage("assistant", "ok")]
    session.history += [ChatMessage("user", "1 Hello."), ChatMessage("assistant", "Hi.")]
    try:
        updates = list(send(ctx, "Say yes.", session, "smollm2-135m-instruct", "auto", "", 4, 0, 1, 0, 1.0, ""))
    finally:
        ctx.engine.close()
    chatbot, _, stats, notice, _, status = updates[-1]
    assert session.dropped == 2 and "trimmed" in notice and "2 oldest" in notice
    assert session.history[0].content == "1 Hello."  # the oldest exchange went, the newer one stays
    assert chatbot[-1]["role"] == "assistant" and "| 1 |" in stats and status == "Done."


def test_stop_reports_the_final_status_whatever_order_the_updates_arrive_in(tmp_path):
    """Stop and the answer's stream both write the status line; the browser may get them in either order,
    so Stop waits for the stream's end and reports the same "Stopped" (a late "Stopping..." would stay)."""
    import threading

    from llmkit.ui import UiContext
    from llmkit.ui.chat import STOPPED, ChatSession, send, stop

    ctx = UiContext(Engine(settings=load_settings(backend="llamacpp")), tmp_path)
    session = ChatSession()
    assert stop(session) == "Nothing is generating."
    updates: list[tuple] = []
    generating = threading.Event()

    def consume() -> None:
        for update in send(
            ctx, "Count from 1 to 500.", session, "smollm2-135m-instruct", "auto", "", 2000, 0, 1, 0, 1.0, ""
        ):
            updates.append(update)
            if update[-1] == "Generating...":
                generating.set()

    worker = threading.Thread(target=consume)
    worker.start()
    try:
        assert generating.wait(600), "no token within the hang guard"
        assert stop(session) == STOPPED
        worker.join(600)
    finally:
        ctx.engine.close()
    assert updates[-1][-1] == STOPPED and session.stats[-1].finish_reason == "cancelled"
    assert stop(session) == "Nothing is generating."  # a second press, or one after the answer, changes nothing
