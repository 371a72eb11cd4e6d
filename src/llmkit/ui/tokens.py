"""Tokenizer lab tab: coloured tokens with whitespace made visible, ids and offsets; the comparison table
with cost; a chat template rendered for a model with its special tokens highlighted. All from llmkit.tokens."""

from __future__ import annotations

import html
from typing import Any

from llmkit import tokens
from llmkit.ui.app import UiContext, gradio, guarded, register_tab

_COLOURS = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#e0e7ff", "#ccfbf1")
_WHITESPACE = {" ": "·", "\n": "↵\n", "\t": "→"}


def visible(text: str) -> str:
    """Text as HTML with spaces, newlines and tabs drawn, so a token's whitespace can be seen."""
    parts = []
    for char in text:
        shown = _WHITESPACE.get(char)
        parts.append(f"<span class='ws'>{html.escape(shown)}</span>" if shown else html.escape(char))
    return "".join(parts)


def coloured(encoding: tokens.Encoding) -> str:
    """One span per token, over the text the offsets refer to; specials outlined, ids on hover."""
    spans = []
    for index, token in enumerate(encoding.tokens):
        piece = encoding.text[token.start : token.end] or token.piece
        classes = "token special" if token.special else "token"
        colour = _COLOURS[index % len(_COLOURS)]
        spans.append(
            f"<span class='{classes}' style='background:{colour}' title='id {token.id} "
            f"[{token.start}:{token.end}]'>{visible(piece)}</span>"
        )
    header = f"<p><b>{len(encoding.tokens)} tokens</b> ({html.escape(encoding.tokenizer)})</p>"
    return header + "<div id='token-spans'>" + "".join(spans) + "</div>"


def encode(text: str, tokenizer: str) -> tuple[str, list[list[Any]], str]:
    gr = gradio()
    if not text:
        raise gr.Error("Type some text to encode.")
    encoding = tokens.encode(text, tokenizer)
    rows = [[t.id, t.piece, t.start, t.end, t.special] for t in encoding.tokens]
    return coloured(encoding), rows, " ".join(str(i) for i in encoding.ids)


def compare(text: str) -> list[list[Any]]:
    gr = gradio()
    if not text:
        raise gr.Error("Type some text to compare.")
    return [
        [r.tokenizer, r.tokens, round(r.chars_per_token, 2), r.price_per_m_tokens or "-",
         f"${r.cost_usd:.6f}" if r.cost_usd is not None else "-"]
        for r in tokens.compare(text)
    ]  # fmt: skip


def render_template(tokenizer: str, system: str, user: str, generation_prompt: bool) -> tuple[str, str]:
    """The prompt the model sees, with the special tokens its tokenizer finds in it highlighted."""
    gr = gradio()
    if not user.strip():
        raise gr.Error("Type a user message to render.")
    messages = ([{"role": "system", "content": system}] if system.strip() else []) + [{"role": "user", "content": user}]
    rendered = tokens.render_chat(messages, tokenizer, add_generation_prompt=generation_prompt)
    encoding = tokens.encode(rendered.text, tokenizer, special=True)
    specials = sorted({encoding.text[t.start : t.end] or t.piece for t in encoding.tokens if t.special})
    note = f"template: {rendered.template}; {len(rendered.ids)} tokens; special tokens: {', '.join(specials) or 'none'}"
    if rendered.warnings:
        note += "\n\n" + "\n".join(f"- {w}" for w in rendered.warnings)
    return coloured(encoding), note


@register_tab("tokens", "Tokenizer lab", order=20)
def build(ctx: UiContext) -> None:
    gr = gradio()
    names = [item["name"] for item in tokens.list_tokenizers()]
    default = "smollm2" if "smollm2" in names else names[0]
    with gr.Row():
        text = gr.Textbox(label="Text", lines=4, elem_id="tok-text", value="Hello world!\n\tTokenizers cut text.")
        tokenizer = gr.Dropdown(names, value=default, label="Tokenizer", elem_id="tok-name")
    with gr.Row():
        encode_button = gr.Button("Encode", variant="primary", elem_id="tok-encode")
        compare_button = gr.Button("Compare tokenizers", elem_id="tok-compare")
    spans = gr.HTML(elem_id="tok-spans")
    ids = gr.Textbox(label="Ids", elem_id="tok-ids", interactive=False)
    table = gr.Dataframe(headers=["id", "piece", "start", "end", "special"], label="Tokens and offsets",
                         elem_id="tok-table", interactive=False)  # fmt: skip
    comparison = gr.Dataframe(
        headers=["tokenizer", "tokens", "chars/token", "USD per 1M tokens", "cost"],
        label="Across tokenizers", elem_id="tok-comparison", interactive=False,
    )  # fmt: skip
    gr.Markdown("### Chat template")
    with gr.Row():
        system = gr.Textbox(label="System", value="You are a helpful assistant.", elem_id="tpl-system")
        user = gr.Textbox(label="User", value="What is a token?", elem_id="tpl-user")
        generation = gr.Checkbox(value=True, label="Add the generation prompt")
    render_button = gr.Button("Render template", elem_id="tpl-render")
    rendered = gr.HTML(elem_id="tpl-rendered")
    note = gr.Markdown(elem_id="tpl-note")
    encode_button.click(guarded(encode), [text, tokenizer], [spans, table, ids], concurrency_id="tokens")
    compare_button.click(guarded(compare), [text], [comparison], concurrency_id="tokens")
    render_button.click(guarded(render_template), [tokenizer, system, user, generation], [rendered, note],
                        concurrency_id="tokens")  # fmt: skip
