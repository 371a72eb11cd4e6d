"""Chat templates: the model's own Jinja template, or a named format for models that ship none.

Templates run in Jinja's immutable sandbox, as transformers runs them. Each named format states which roles
it knows, so a conversation it cannot express fails with the reason instead of rendering something the
model was never trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError


@dataclass(frozen=True)
class ChatFormat:
    name: str
    description: str
    template: str
    roles: frozenset[str]
    alternating: bool = False  # user/assistant turns must alternate, starting with the user
    system_first_only: bool = True


CHAT_FORMATS: dict[str, ChatFormat] = {}


def _register(chat_format: ChatFormat) -> None:
    CHAT_FORMATS[chat_format.name] = chat_format


_register(
    ChatFormat(
        "chatml",
        "ChatML (Qwen, SmolLM2, many fine-tunes)",
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        frozenset({"system", "user", "assistant", "tool"}),
    )
)
_register(
    ChatFormat(
        "llama3",
        "Llama 3 header format",
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n"
        "{{ m.content | trim }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
        frozenset({"system", "user", "assistant", "ipython"}),
    )
)
_register(
    ChatFormat(
        "llama2",
        "Llama 2 [INST] <<SYS>> format",
        "{% set ns = namespace(system='') %}"
        "{% for m in messages %}"
        "{% if m.role == 'system' %}{% set ns.system = '<<SYS>>\n' ~ m.content ~ '\n<</SYS>>\n\n' %}"
        "{% elif m.role == 'user' %}{{ bos_token }}[INST] {{ ns.system }}{{ m.content | trim }} [/INST]"
        "{% set ns.system = '' %}"
        "{% else %} {{ m.content | trim }} {{ eos_token }}{% endif %}"
        "{% endfor %}",
        frozenset({"system", "user", "assistant"}),
        alternating=True,
    )
)
_register(
    ChatFormat(
        "mistral",
        "Mistral / Mixtral [INST] format (v1: no system role)",
        "{{ bos_token }}{% for m in messages %}"
        "{% if m.role == 'user' %}[INST] {{ m.content | trim }} [/INST]"
        "{% else %} {{ m.content | trim }}{{ eos_token }}{% endif %}"
        "{% endfor %}",
        frozenset({"user", "assistant"}),
        alternating=True,
    )
)
_register(
    ChatFormat(
        "alpaca",
        "Alpaca instruction format",
        "{% for m in messages %}"
        "{% if m.role == 'system' %}{{ m.content | trim }}\n\n"
        "{% elif m.role == 'user' %}### Instruction:\n{{ m.content | trim }}\n\n"
        "{% else %}### Response:\n{{ m.content | trim }}\n\n{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}### Response:\n{% endif %}",
        frozenset({"system", "user", "assistant"}),
        alternating=True,
    )
)


# Roles the chat templates in use understand; another name would be rendered silently as if it were one of them
# (or dropped), so it is refused instead.
KNOWN_ROLES = frozenset({"system", "user", "assistant", "tool", "ipython", "developer"})


def read_messages(path: Path) -> list[dict[str, str]]:
    """A JSON list of {"role", "content"} objects (or {"messages": [...]}), checked field by field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the messages file: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not valid JSON: {exc}") from exc
    return check_messages(data, str(path))


def check_messages(data: Any, where: str = "messages") -> list[dict[str, str]]:
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f'{where}: expected a non-empty JSON list of {{"role", "content"}} objects')
    messages = []
    for index, message in enumerate(data):
        if not isinstance(message, dict):
            raise InvalidInputError(f"{where}: messages[{index}] is {type(message).__name__}, expected an object")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise InvalidInputError(f"{where}: messages[{index}].{key} is missing or not a string")
        if message["role"] not in KNOWN_ROLES:
            raise InvalidInputError(
                f"{where}: messages[{index}].role is {message['role']!r}; chat templates know "
                f"{', '.join(sorted(KNOWN_ROLES))}"
            )
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def check_roles(chat_format: ChatFormat, messages: list[dict[str, str]]) -> None:
    """Refuse conversations the format cannot express, naming the message and the reason."""
    for index, message in enumerate(messages):
        role = message["role"]
        if role not in chat_format.roles:
            raise InvalidInputError(
                f"messages[{index}]: the {chat_format.name} format has no {role!r} role "
                f"(it knows {', '.join(sorted(chat_format.roles))})"
            )
        if role == "system" and index > 0 and chat_format.system_first_only:
            raise InvalidInputError(
                f"messages[{index}]: the {chat_format.name} format takes a system message only at the start"
            )
    if chat_format.alternating:
        turns = [m["role"] for m in messages if m["role"] != "system"]
        for index, role in enumerate(turns):
            expected = "user" if index % 2 == 0 else "assistant"
            if role != expected:
                raise InvalidInputError(
                    f"the {chat_format.name} format needs user/assistant turns to alternate, "
                    f"starting with the user; turn {index + 1} is {role!r}"
                )
