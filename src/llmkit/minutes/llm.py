"""The model's part of the minutes: per-chunk key points, JSON extraction (the `llm` extractor), the prose.

Prompts are short and focused on one question each; small models answer those far better than one big
"write the minutes" request. JSON requests carry a JSON Schema: grammar-constrained on llama.cpp and on
OpenAI-compatible servers; elsewhere the reply is validated, retried, and kept raw if it stays invalid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from llmkit.generation import ChatMessage, JsonReply, SamplingParams, TextDelta, generate_json
from llmkit.minutes.types import ActionItem, ChunkNotes, Decision

if TYPE_CHECKING:
    from llmkit.generation import Engine

SYSTEM = "You are a precise assistant that writes meeting minutes. Use only facts stated in the transcript."
JSON_RETRIES = 2
RETRY_TEMPERATURE = 0.7


def _strings(items: int, length: int) -> dict[str, Any]:
    return {"type": "array", "maxItems": items, "items": {"type": "string", "maxLength": length}}


# Bounded so that the longest valid answer fits in NOTES_MAX_TOKENS: a grammar keeps every token valid, but
# a reply cut off by the token budget is still unfinished JSON.
NOTES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key_points": _strings(3, 150),
        "decisions": _strings(5, 150),
        "action_items": {
            "type": "array",
            "maxItems": 6,
            "items": {
                "type": "object",
                "properties": {
                    "owner": {"type": "string", "maxLength": 30},
                    "task": {"type": "string", "maxLength": 120},
                    "due": {"type": "string", "maxLength": 30},
                },
                "required": ["owner", "task", "due"],
            },
        },
        "open_questions": _strings(3, 150),
        "attendees": _strings(10, 30),
    },
    "required": ["key_points", "decisions", "action_items", "open_questions", "attendees"],
}
NOTES_MAX_TOKENS = 1400


class ModelWriter:
    """Asks the generation engine focused questions, as prose or as JSON under a schema."""

    def __init__(self, engine: Engine, model: str | None, backend: str | None) -> None:
        self.engine, self.model, self.backend = engine, model, backend

    def _messages(self, prompt: str) -> list[ChatMessage]:
        return [ChatMessage("system", SYSTEM), ChatMessage("user", prompt)]

    def stream(self, prompt: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> Iterator[str]:
        params = SamplingParams(max_new_tokens=max_new_tokens, repetition_penalty=1.15, stop=stop)
        events = self.engine.stream(self._messages(prompt), model=self.model, backend=self.backend, params=params)
        for event in events:
            if isinstance(event, TextDelta):
                yield event.text

    def ask(self, prompt: str, max_new_tokens: int, stop: tuple[str, ...] = ()) -> str:
        return "".join(self.stream(prompt, max_new_tokens, stop)).strip()

    def ask_json(self, prompt: str, schema: dict[str, Any], max_new_tokens: int) -> JsonReply:
        """An object under `schema` (constrained where the backend can, validated, retried, raw text kept).
        The schema is stated in the prompt too: small models follow a schema they can read better."""
        stated = f"{prompt}\n\n{JSON_INSTRUCTION}\n{json.dumps(schema)}"
        return generate_json(
            self.engine,
            self._messages(stated),
            schema,
            max_new_tokens=max_new_tokens,
            model=self.model,
            backend=self.backend,
            retries=JSON_RETRIES,
            retry_temperature=RETRY_TEMPERATURE,
        )


def llm_notes(writer: ModelWriter, part: int, chunk_text: str) -> tuple[ChunkNotes, int]:
    """The `llm` extractor: the model returns everything for one chunk as schema-checked JSON."""
    prompt = f"Transcript of part of a meeting:\n{chunk_text}\n\n{NOTES_INSTRUCTION}"
    reply = writer.ask_json(prompt, NOTES_SCHEMA, max_new_tokens=NOTES_MAX_TOKENS)
    parsed, attempts = reply.value, reply.attempts
    if parsed is None:
        return ChunkNotes(part=part, raw=reply.raw), attempts
    items = [
        ActionItem(i["owner"].strip() or "unassigned", i["task"].strip(), i.get("due", "").strip())
        for i in parsed["action_items"]
        if i["task"].strip()
    ]
    notes = ChunkNotes(
        part=part,
        key_points=[p for p in parsed["key_points"] if p.strip()],
        decisions=[Decision(d) for d in parsed["decisions"] if d.strip()],
        action_items=items,
        open_questions=parsed["open_questions"],
        names=[n.strip() for n in parsed["attendees"]],
    )
    return notes, attempts


KEY_POINT_CHARS = 1200  # ~300 tokens: prompt processing dominates the cost of a part on a CPU


def key_point(writer: ModelWriter, sentences: list[str]) -> str:
    """One sentence on what this part was about, from its most telling sentences (the hybrid extractor's
    model step). A 1,500-token part costs ~4 s of prompt processing on 2 cores; 300 tokens cost under one."""
    prompt = f"Things said in part of a meeting:\n{_digest(sentences)}\n\n{KEY_POINT_INSTRUCTION}"
    # Stopping at the first sentence's end saves most of the generation time per part.
    return _one_sentence(writer.ask(prompt, max_new_tokens=60, stop=(". ", ".\n", "\n")))


def _digest(sentences: list[str]) -> str:
    """The longest sentences (most content), in their original order, up to KEY_POINT_CHARS."""
    ranked = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    chosen, used = set(), 0
    for index in ranked:
        if used + len(sentences[index]) > KEY_POINT_CHARS and chosen:
            continue
        chosen.add(index)
        used += len(sentences[index])
    return "\n".join(f"- {sentences[i]}" for i in sorted(chosen))


def summary_prompt(key_points: list[str], decisions: list[Decision], items: list[ActionItem]) -> str:
    lines = ["Notes from a meeting:"]
    lines += [f"- Discussed: {point}" for point in key_points]
    lines += [f"- Decided: {d.text}" for d in decisions]
    lines += [f"- To do: {i.owner}: {i.task}" for i in items]
    lines.append(f"\n{SUMMARY_INSTRUCTION}")
    return "\n".join(lines)


TITLE_INSTRUCTION = "Give this meeting a title of at most six words. Reply with the title only."
SUMMARY_INSTRUCTION = "Write a short summary of this meeting in two or three sentences."
KEY_POINT_INSTRUCTION = "In one sentence, what was discussed?"
NOTES_INSTRUCTION = (
    "List the key points, the decisions made, the action items (owner = the person who will do it, task, due "
    'date if stated, else ""), open questions, and the names of the people present.'
)
JSON_INSTRUCTION = "Answer with JSON only, matching this JSON Schema:"
# Every fixed text this package puts in a prompt: model output that repeats it is an echo, not content.
PROMPT_TEXTS = (
    SYSTEM,
    TITLE_INSTRUCTION,
    SUMMARY_INSTRUCTION,
    KEY_POINT_INSTRUCTION,
    NOTES_INSTRUCTION,
    JSON_INSTRUCTION,
    "Meeting summary:",
    "Notes from a meeting:",
    "Things said in part of a meeting:",
    "Transcript of part of a meeting:",
    "Discussed: Decided: To do:",
)
# Words of instructions (about the answer's form) that a title about a meeting's subject does not need.
_INSTRUCTION_WORDS = {
    "sentence",
    "sentences",
    "words",
    "word",
    "title",
    "reply",
    "answer",
    "json",
    "schema",
    "transcript",
    "assistant",
    "summary",
    "summarize",
    "should",
    "must",
    "long",
    "less",
    "more",
    "least",
    "most",
    "than",
    "only",
    "write",
    "give",
    "list",
    "precise",
}


def _prompt_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def echoes_prompt(text: str, transcript_text: str) -> bool:
    """Does model output repeat our own instructions rather than say something about the meeting? True when it
    shares three words in a row with a prompt, or uses a word of instruction-speak ("sentences", "should",
    "title") that the meeting itself never used."""
    words = _prompt_words(text)
    spoken = set(_prompt_words(transcript_text))
    prompt_trigrams = {tuple(w[i : i + 3]) for p in PROMPT_TEXTS for w in [_prompt_words(p)] for i in range(len(w) - 2)}
    if any(tuple(words[i : i + 3]) in prompt_trigrams for i in range(len(words) - 2)):
        return True
    return any(w in _INSTRUCTION_WORDS and w not in spoken for w in words)


def title_prompt(summary: str) -> str:
    return f"Meeting summary: {summary}\n\n{TITLE_INSTRUCTION}"


def _one_sentence(text: str) -> str:
    """The first sentence; nothing if it is a fragment ("The details were as follows:")."""
    text = " ".join(text.split())
    for stop in (". ", "! ", "? "):
        if stop in text:
            text = text.split(stop)[0] + stop.strip()
            break
    return "" if text.endswith(":") or len(text.split()) < 5 else text
