"""The one chat-template renderer: messages -> the exact text a model reads.

Generation (transformers and llama.cpp backends) and the tokenizer lab all render through here, so the
lab shows the prompt generation sends. Templates run in Jinja's immutable sandbox with the globals,
filters and extensions transformers gives them (`raise_exception`, `tojson`, `strftime_now`, loop controls).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from llmkit.errors import InvalidInputError


def render_chat_template(
    template: str,
    messages: list[dict[str, str]],
    *,
    add_generation_prompt: bool,
    bos_token: str = "",
    eos_token: str = "",
) -> str:
    from jinja2 import TemplateError

    try:
        compiled = _environment().from_string(template)
        return compiled.render(
            messages=messages, add_generation_prompt=add_generation_prompt, bos_token=bos_token, eos_token=eos_token
        )
    except TemplateError as exc:
        raise InvalidInputError(f"the chat template failed: {exc}") from exc


def render_prompt_text(
    messages: list[dict[str, str]], template: str | None, *, bos_token: str = "", eos_token: str = ""
) -> str:
    """The text a model without special handling reads for a chat: its template with the assistant's
    turn opened, or for a model without a template a plain `role: content` transcript."""
    if not template:
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
    return render_chat_template(
        template, messages, add_generation_prompt=True, bos_token=bos_token, eos_token=eos_token
    )


def _environment() -> Any:
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise InvalidInputError(f"the chat template refused the messages: {message}")

    def tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = lambda fmt: dt.datetime.now().strftime(fmt)
    return environment
