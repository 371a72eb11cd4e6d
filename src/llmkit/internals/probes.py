"""Looking inside a loaded model: attention weights, hidden states, the logit lens and saliency.

Each probe takes the raw transformers model and tokenizer (`LoadedModel.model`, `.tokenizer`) and the
text, runs one forward pass, and returns a typed report. Inputs are cut to `max_tokens` and only the
selected layers and heads are kept, so long prompts stay bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.internals.types import AttentionReport, HiddenReport, LensLayer, LensReport, LensToken, SaliencyReport

MAX_TOKENS = 1024  # longer inputs are cut (a note says so): the report grows with tokens squared
AUTO_ALL_LAYERS = 64  # longer inputs keep one layer unless asked for more
LENS_POSITIONS = 64  # the logit lens reads this many last positions by default


def encode(tokenizer: Any, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[str], list[str]]:
    """(ids, display tokens, notes). The tokenizer's own special tokens (BOS) are kept: the model sees them."""
    if not text or not text.strip():
        raise InvalidInputError("the text is empty; give some text to inspect")
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    notes = []
    if len(ids) > max_tokens:
        notes.append(f"input cut from {len(ids)} to its first {max_tokens} tokens (raise --max-tokens to see more)")
        ids = ids[:max_tokens]
    return ids, [tokenizer.decode([i]) for i in ids], notes


def select(spec: str | int | list[int] | None, count: int, what: str) -> list[int]:
    """'all', 'last', 'mean' is not a selection; an index (negative counts from the end) or '0,3,-1'."""
    if spec is None or spec == "all":
        return list(range(count))
    if spec == "last":
        return [count - 1]
    items = spec if isinstance(spec, list) else str(spec).split(",") if isinstance(spec, str) else [spec]
    chosen = []
    for item in items:
        try:
            index = int(item)
        except ValueError as exc:
            raise InvalidInputError(f"{what} must be 'all', 'last' or indexes like 0,3,-1; got {item!r}") from exc
        if not -count <= index < count:
            raise InvalidInputError(f"{what} {index} does not exist: the model has {count} (0..{count - 1})")
        chosen.append(index % count)
    return sorted(set(chosen))


@contextmanager
def eager_attention(model: Any) -> Iterator[None]:
    """Eager attention for this call: the fused kernels (sdpa, flash) return no attention weights."""
    previous = model.config._attn_implementation
    if previous != "eager":
        model.set_attn_implementation("eager")
    try:
        yield
    finally:
        if previous != "eager":
            model.set_attn_implementation(previous)


def _forward(model: Any, ids: list[int], **kwargs: Any) -> Any:
    import torch

    with torch.inference_mode():
        return model(torch.tensor([ids], device=model.device), use_cache=False, **kwargs)


def _text_config(model: Any) -> Any:
    return model.config.get_text_config()


def attention(
    model: Any, tokenizer: Any, text: str, layers: Any = "all", heads: Any = "all", *, model_name: str = "",
    max_tokens: int = MAX_TOKENS,
) -> AttentionReport:  # fmt: skip
    """Attention weights [layer][head][query][key] of the selected layers and heads. layers="auto" keeps
    every layer for short inputs and the last layer beyond AUTO_ALL_LAYERS tokens (the report grows
    with layers x heads x tokens squared)."""
    ids, tokens, notes = encode(tokenizer, text, max_tokens)
    config = _text_config(model)
    if layers == "auto":
        layers = "all" if len(ids) <= AUTO_ALL_LAYERS else "last"
        if layers == "last":
            notes.append(f"{len(ids)} tokens: only the last layer is kept (--layer all keeps every layer)")
    layer_ids = select(layers, config.num_hidden_layers, "layer")
    head_ids = select(heads, config.num_attention_heads, "head")
    with eager_attention(model):
        out = _forward(model, ids, output_attentions=True)
    import torch

    weights = torch.stack([out.attentions[layer][0, head_ids].float() for layer in layer_ids]).numpy()
    return AttentionReport(model_name, tokens, layer_ids, head_ids, weights, notes)


def hidden_states(model: Any, tokenizer: Any, text: str, *, model_name: str = "",
                  max_tokens: int = MAX_TOKENS) -> HiddenReport:  # fmt: skip
    import torch

    ids, tokens, _ = encode(tokenizer, text, max_tokens)
    states = [h[0].float() for h in _forward(model, ids, output_hidden_states=True).hidden_states]
    per_position = [h.norm(dim=-1) for h in states]
    cosine = [torch.nn.functional.cosine_similarity(a, b, dim=-1).mean().item()
              for a, b in zip(states, states[1:], strict=False)]  # fmt: skip
    return HiddenReport(
        model_name, tokens, [n.mean().item() for n in per_position], [n.tolist() for n in per_position], cosine
    )


def final_norm(model: Any) -> Any:
    """The norm the model applies before its output head (Llama/Qwen/Gemma: model.norm; GPT-2: ln_f)."""
    base = model.base_model
    for name in ("norm", "final_layernorm", "ln_f", "final_norm"):
        module = getattr(base, name, None)
        if module is not None:
            return module
    raise InvalidInputError(f"{type(model).__name__}: no final norm found (looked for norm, final_layernorm, ln_f)")


def lens_logits(model: Any, states: tuple[Any, ...]) -> list[Any]:
    """Each layer's residual stream read through the final norm and the output head. transformers'
    last hidden state already has the final norm applied, so it only goes through the head: the last
    layer's distribution is then exactly the model's next-token distribution."""
    import torch

    norm, head = final_norm(model), model.get_output_embeddings()
    cap = getattr(_text_config(model), "final_logit_softcapping", None)
    logits = []
    with torch.inference_mode():
        for index, state in enumerate(states):
            layer_logits = head(state if index == len(states) - 1 else norm(state)).float()
            logits.append(torch.tanh(layer_logits / cap) * cap if cap else layer_logits)
    return logits


def logit_lens(model: Any, tokenizer: Any, text: str, top: int = 5, *, model_name: str = "",
               max_tokens: int = MAX_TOKENS, positions: int = LENS_POSITIONS) -> LensReport:  # fmt: skip
    """Top-k next tokens per layer for the last `positions` positions (all of a shorter input): the
    output head over every layer and position is the costly part (layers x positions x vocabulary)."""
    import torch

    if top < 1:
        raise InvalidInputError(f"--top must be at least 1, got {top}")
    ids, tokens, notes = encode(tokenizer, text, max_tokens)
    states = _forward(model, ids, output_hidden_states=True).hidden_states
    first = max(0, len(ids) - max(1, positions))
    if first:
        notes.append(f"lens for the last {len(ids) - first} of {len(ids)} positions (--positions to change)")
    layers = []
    for index, logits in enumerate(lens_logits(model, tuple(h[:, first:] for h in states))):
        probs, best = torch.softmax(logits[0], dim=-1).topk(top, dim=-1)
        rows = [[LensToken(int(i), tokenizer.decode([int(i)]), round(float(p), 6)) for p, i in zip(ps, bs, strict=True)]
                for ps, bs in zip(probs, best, strict=True)]  # fmt: skip
        layers.append(LensLayer(index, rows))
    return LensReport(model_name, tokens, layers, list(range(first, len(ids))), notes)


def saliency(model: Any, tokenizer: Any, text: str, *, model_name: str = "",
             max_tokens: int = MAX_TOKENS) -> SaliencyReport:  # fmt: skip
    """Gradient x input (how much each input embedding moves the predicted token's logit) and attention
    rollout (Abnar & Zuidema 2020: head-averaged attention plus the residual, multiplied through layers)."""
    import torch

    ids, tokens, _ = encode(tokenizer, text, max_tokens)
    embeddings = model.get_input_embeddings()(torch.tensor([ids], device=model.device)).detach().requires_grad_(True)
    with eager_attention(model), torch.enable_grad():
        out = model(inputs_embeds=embeddings, output_attentions=True, use_cache=False)
        logits = out.logits[0, -1].float()
        target = int(logits.argmax())
        logits[target].backward()
    scores = (embeddings.grad[0] * embeddings[0]).sum(-1).abs().detach().float()
    prob = float(torch.softmax(logits.detach(), -1)[target])
    rolled = rollout([a.detach() for a in out.attentions])
    return SaliencyReport(
        model_name, tokens, LensToken(target, tokenizer.decode([target]), round(prob, 6)),
        _normalised(scores), _normalised(rolled), _normalised(rolled[1:]) if len(ids) > 1 else [1.0],
    )  # fmt: skip


def rollout(attentions: list[Any]) -> Any:
    import torch

    size = attentions[0].shape[-1]
    eye = torch.eye(size)
    result = eye
    for layer in attentions:
        mixed = 0.5 * layer[0].float().mean(0) + 0.5 * eye
        result = (mixed / mixed.sum(-1, keepdim=True)) @ result
    return result[-1]


def _normalised(values: Any) -> list[float]:
    total = float(values.sum()) or 1.0
    return [round(float(v) / total, 6) for v in values]
