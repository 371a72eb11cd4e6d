"""Chat tab: model and backend from the catalog, sampling, a streamed answer, a Stop that cancels the
engine, stats per answer, history trimmed to the window (Engine.fit_history) and an export."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.errors import ConfigError
from llmkit.generation import (
    CancelToken,
    ChatMessage,
    Finished,
    GenerationStats,
    SamplingParams,
    TextDelta,
    backend_installed,
    backend_names,
)
from llmkit.ui.app import UiContext, gradio, guarded, register_tab


@dataclass
class ChatSession:
    """One browser session's conversation; gr.State makes one per session."""

    history: list[ChatMessage] = field(default_factory=list)  # what the model sees, trimmed to the window
    shown: list[dict[str, str]] = field(default_factory=list)  # the whole conversation, as displayed
    stats: list[GenerationStats] = field(default_factory=list)
    dropped: int = 0  # messages trimmed from `history` so far
    run: AnswerRun | None = None  # the latest answer, generating or done
    folder: Path | None = None


@dataclass
class AnswerRun:
    """One answer: its cancel signal, whether its stream has ended, the status it ended with, and whether
    Clear dropped it (then its stream stops writing to the page). One object, so Stop never sees half of a
    new answer's state."""

    cancel: CancelToken = field(default_factory=CancelToken)
    finished: threading.Event = field(default_factory=threading.Event)
    status: str = ""
    cleared: bool = False


STOPPED = "Stopped: the engine cancelled the answer."
STOP_WAIT_S = 5.0  # how long Stop waits for the engine to end before it reports "Stopping..."


def model_problem(entry: Any) -> str | None:
    """Why this catalog model cannot run here (None: it can)."""
    availability = entry.availability()
    if availability == "offline":
        return None
    if availability == "missing":
        return f"not installed: {entry.embedded.install_line}" if entry.embedded else f"{entry.local_path} is missing"
    if availability == "download":
        return "weights not downloaded (needs the Hugging Face hub; llmkit runs offline here)"
    return None if entry.base_url else "served by an OpenAI-compatible server; none is configured"


def model_choices(ctx: UiContext) -> list[tuple[str, str]]:
    choices = []
    for entry in ctx.engine.catalog.entries:
        problem = model_problem(entry)
        choices.append((entry.name if problem is None else f"{entry.name} (unavailable: {problem})", entry.name))
    return choices


def backend_choices() -> list[tuple[str, str]]:
    choices = [("auto (the model's own)", "auto")]
    for name in backend_names():
        choices.append((name if backend_installed(name) else f"{name} (unavailable: not installed)", name))
    return choices


def selection_problem(ctx: UiContext, model: str, backend: str) -> str | None:
    problem = model_problem(ctx.engine.resolve(model))
    if problem:
        return f"{model} is unavailable here: {problem}"
    if backend != "auto" and not backend_installed(backend):
        return f"the {backend} backend is not installed here"
    return None


def stats_table(stats: list[GenerationStats]) -> str:
    if not stats:
        return ""
    lines = [
        "| answer | model | backend | time to first token | tokens/s | tokens | finish |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, s in enumerate(stats, 1):
        lines.append(
            f"| {number} | {s.model} | {s.backend} | {s.ttft_s * 1000:.0f} ms | {s.tokens_per_s:.1f} | "
            f"{s.completion_tokens} | {s.finish_reason} |"
        )
    return "\n".join(lines)


def _notice(session: ChatSession) -> str:
    if not session.dropped:
        return ""
    return (
        f"<span class='notice'>History trimmed to the context window: the model no longer sees the "
        f"{session.dropped} oldest messages (they stay on screen).</span>"
    )


def _params(
    max_new_tokens: float, temperature: float, top_p: float, top_k: float, penalty: float, seed: Any
) -> SamplingParams:
    text = str(seed or "").strip()
    if text and not text.lstrip("-").isdigit():
        raise ConfigError(f"the seed must be a whole number, got {text!r}")
    seed_value = int(text) if text else None
    return SamplingParams(
        max_new_tokens=int(max_new_tokens), temperature=float(temperature), top_p=float(top_p),
        top_k=int(top_k), repetition_penalty=float(penalty), seed=seed_value,
    )  # fmt: skip


def _with_system(history: list[ChatMessage], system: str) -> list[ChatMessage]:
    """The history under the current system prompt (changing it mid-chat applies from the next answer)."""
    rest = history[1:] if history and history[0].role == "system" else history
    return ([ChatMessage("system", system.strip())] if system.strip() else []) + rest


def send(
    ctx: UiContext, message: str, session: ChatSession, model: str, backend: str, system: str, *sampling: Any
) -> Iterator[tuple]:
    """Stream one answer; yields (chatbot, message box, stats, notice, session, status)."""
    gr = gradio()
    if not message.strip():
        raise gr.Error("Type a message first.")
    params = _params(*sampling)  # a bad value fails before any model loads
    problem = selection_problem(ctx, model, backend)
    if problem:
        raise gr.Error(problem)
    run = session.run = AnswerRun()
    try:
        yield from _stream_answer(ctx, message, session, run, model, backend, system, params)
    finally:
        run.finished.set()


def _stream_answer(
    ctx: UiContext,
    message: str,
    session: ChatSession,
    run: AnswerRun,
    model: str,
    backend: str,
    system: str,
    params: Any,
) -> Iterator[tuple]:
    shown = session.shown + [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
    working = f"Working: {model} on {backend} (its first answer loads the model)..."
    yield shown, "", stats_table(session.stats), _notice(session), session, working
    ctx.engine.backend_for(model, backend)
    history = _with_system(session.history, system) + [ChatMessage("user", message)]
    session.dropped += ctx.engine.fit_history(history, params.max_new_tokens, model, backend)
    answer, finish_reason = "", ""  # no update before the first token: each is a round trip that delays it
    for event in ctx.engine.stream(history, model=model, backend=backend, cancel=run.cancel, params=params):
        if run.cleared:
            return
        if isinstance(event, TextDelta):
            answer += event.text
            shown[-1] = {"role": "assistant", "content": answer}
            yield shown, "", stats_table(session.stats), _notice(session), session, "Generating..."
        elif isinstance(event, Finished):
            session.stats.append(event.stats)
            shown[-1] = {"role": "assistant", "content": event.text}
            history.append(ChatMessage("assistant", event.text))
            finish_reason = event.stats.finish_reason
    if run.cleared:
        return
    session.history, session.shown = history, shown
    run.status = STOPPED if finish_reason == "cancelled" else "Done."
    run.finished.set()  # before the last update: a Stop from now on reports this same status
    yield shown, "", stats_table(session.stats), _notice(session), session, run.status


def stop(session: ChatSession) -> str:
    """Cancel the engine's generation for this session (it stops before its next token).

    Both this handler and the answer's stream write the status line, and their updates can reach the
    browser in either order; so Stop waits briefly for the stream to end and then reports the same final
    status, rather than a "Stopping..." that could land last and stay.
    """
    run = session.run
    if run is None or run.finished.is_set():
        return "Nothing is generating."
    run.cancel.cancel()  # a second press while the first waits cancels nothing new and waits the same
    if run.finished.wait(STOP_WAIT_S):
        return run.status or STOPPED
    return "Stopping... (the engine stops before its next token)"


def clear(session: ChatSession) -> tuple:
    if session.run is not None:
        session.run.cleared = True  # its stream stops writing to the page (it would bring the chat back)
    stop(session)
    fresh = ChatSession(folder=session.folder)
    return [], "", "", fresh, "History cleared."


def export(ctx: UiContext, session: ChatSession) -> list[str]:
    """The chat as chat.json (messages and stats) and chat.md."""
    gr = gradio()
    if not session.shown:
        raise gr.Error("Nothing to export yet: the chat is empty.")
    session.folder = session.folder or ctx.session_dir("chat")
    data = {
        "messages": session.shown,
        "stats": [s.__dict__ for s in session.stats],
        "trimmed_messages": session.dropped,
    }
    json_path = session.folder / "chat.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    lines = ["# Chat", ""]
    for item in session.shown:
        lines += [f"**{item['role']}:**", "", item["content"], ""]
    if session.stats:
        lines += ["## Stats", "", stats_table(session.stats), ""]
    md_path = session.folder / "chat.md"
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return [str(json_path), str(md_path)]


def _selection_note(ctx: UiContext, model: str, backend: str) -> tuple[str, Any]:
    gr = gradio()
    problem = selection_problem(ctx, model, backend)
    note = f"<span class='notice'>{problem}</span>" if problem else ""
    return note, gr.update(interactive=problem is None)


@register_tab("chat", "Chat", order=10)
def build(ctx: UiContext) -> None:
    gr = gradio()
    session = gr.State(lambda: ChatSession())  # called once per browser session: each gets its own
    default = ctx.engine.resolve().name
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", elem_id="chat-bot", height=420, buttons=["copy"])
            message = gr.Textbox(label="Message", placeholder="Ask something...", elem_id="chat-message", lines=2)
            with gr.Row():
                send_button = gr.Button("Send", variant="primary", elem_id="chat-send")
                stop_button = gr.Button("Stop", variant="stop", elem_id="chat-stop")
                clear_button = gr.Button("Clear", elem_id="chat-clear")
                export_button = gr.Button("Export chat", elem_id="chat-export")
            status = gr.Markdown("", elem_id="chat-status")
            notice = gr.Markdown("", elem_id="chat-notice")
            stats = gr.Markdown("", elem_id="chat-stats")
            files = gr.File(label="Export (JSON, Markdown)", file_count="multiple", elem_id="chat-files", height=120)
        with gr.Column(scale=2):
            model = gr.Dropdown(model_choices(ctx), value=default, label="Model", elem_id="chat-model")
            backend = gr.Dropdown(backend_choices(), value="auto", label="Backend", elem_id="chat-backend")
            selection = gr.Markdown("", elem_id="chat-selection")
            system = gr.Textbox(label="System prompt", lines=2, elem_id="chat-system")
            sampling = [
                gr.Slider(1, 2048, value=256, step=1, label="Max new tokens", elem_id="chat-max-tokens"),
                gr.Slider(0, 2, value=0.0, step=0.05, label="Temperature (0 = greedy)"),
                gr.Slider(0.05, 1, value=1.0, step=0.05, label="Top-p"),
                gr.Slider(0, 200, value=0, step=1, label="Top-k (0 = off)"),
                gr.Slider(0.5, 2, value=1.1, step=0.05, label="Repetition penalty"),
                gr.Textbox(value="", label="Seed (empty = none)", elem_id="chat-seed"),
            ]
    outputs = [chatbot, message, stats, notice, session, status]
    inputs = [message, session, model, backend, system, *sampling]
    on_send = guarded(lambda *args: (yield from send(ctx, *args)))
    send_button.click(on_send, inputs, outputs, concurrency_id="generate")
    message.submit(on_send, inputs, outputs, concurrency_id="generate")
    stop_button.click(guarded(stop), [session], [status], concurrency_limit=None, queue=False)
    clear_button.click(guarded(clear), [session], [chatbot, stats, notice, session, status], queue=False)
    export_button.click(guarded(lambda s: export(ctx, s)), [session], [files])
    for picker in (model, backend):
        picker.change(lambda m, b: _selection_note(ctx, m, b), [model, backend], [selection, send_button])
