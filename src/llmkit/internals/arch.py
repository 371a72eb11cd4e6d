"""Architecture from a config alone: the model is built on the meta device (shapes, no weights)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmkit.errors import ConfigError
from llmkit.internals.types import ArchReport, ModuleInfo

# Parameter-name fragments -> kind. Checked in order: "lm_head" before "embed", norms before attention
# ("self_attn.q_norm" is a norm), so each parameter lands in exactly one kind.
_KINDS = (
    ("head", ("lm_head", "output.weight", "embed_out")),
    ("norm", ("norm", "ln_", "layernorm")),
    ("embedding", ("embed", "wte", "wpe")),
    ("attention", ("attn", "attention", "q_proj", "k_proj", "v_proj", "o_proj")),
    ("mlp", ("mlp", "feed_forward", "ffn", "experts")),
)


def as_config(config: Any) -> Any:
    """A transformers PretrainedConfig from one, or from a config.json-style dict (needs `model_type`)."""
    from transformers import AutoConfig, PretrainedConfig

    if isinstance(config, PretrainedConfig):
        return config
    if isinstance(config, Mapping):
        values = dict(config)
        model_type = values.pop("model_type", None)
        if not model_type:
            raise ConfigError("a config dict needs 'model_type' (e.g. 'llama', 'qwen2', 'gemma3_text')")
        try:
            return AutoConfig.for_model(model_type, **values)
        except ValueError as exc:
            raise ConfigError(f"unknown model_type {model_type!r}: {exc}") from exc
    raise ConfigError(f"expected a PretrainedConfig or a config dict, got {type(config).__name__}")


def meta_model(config: Any) -> Any:
    """The causal-LM for this config with every tensor on the meta device: no memory, no weights."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(as_config(config))


def param_kind(name: str) -> str:
    lowered = name.lower()
    for kind, fragments in _KINDS:
        if any(f in lowered for f in fragments):
            return kind
    return "other"


def unique_params(model: Any) -> dict[str, Any]:
    """name -> parameter, tied parameters once (under their first name)."""
    return dict(model.named_parameters())


def tied_groups(model: Any) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(param), []).append(name)
    tied = [names for names in groups.values() if len(names) > 1]
    for names in _tied_by_config(model):
        if names not in tied:
            tied.append(names)
    return tied


def _tied_by_config(model: Any) -> list[list[str]]:
    # On the meta device transformers may not tie the tensors; the config still says it will.
    text = getattr(model.config, "get_text_config", lambda: model.config)()
    if not getattr(text, "tie_word_embeddings", False):
        return []
    params = dict(model.named_parameters(remove_duplicate=False))
    names = [n for n in params if param_kind(n) == "embedding" and n.endswith("embed_tokens.weight")]
    head = [n for n in params if param_kind(n) == "head"]
    return [[names[0], head[0]]] if names and head else ([[names[0], "lm_head.weight"]] if names else [])


def count_params(model: Any) -> tuple[int, dict[str, int]]:
    """Total and per-kind parameters, tied weights counted once."""
    tied_away = {n for group in tied_groups(model) for n in group[1:]}
    by_kind: dict[str, int] = {}
    total = 0
    for name, param in unique_params(model).items():
        if name in tied_away:
            continue
        by_kind[param_kind(name)] = by_kind.get(param_kind(name), 0) + param.numel()
        total += param.numel()
    return total, by_kind


def module_tree(model: Any) -> list[ModuleInfo]:
    tied_away = {n for group in tied_groups(model) for n in group[1:]}
    rows = []
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        params = sum(p.numel() for n, p in module.named_parameters() if f"{prefix}{n}" not in tied_away)
        shapes = {n: list(p.shape) for n, p in module.named_parameters(recurse=False)}
        rows.append(ModuleInfo(name or "(model)", type(module).__name__, params, shapes, name.count(".") + bool(name)))
    return rows


def config_summary(config: Any) -> dict[str, Any]:
    """The config in plain words (what engineers ask first), from the text part of multimodal configs."""
    text = getattr(config, "get_text_config", lambda: config)()
    heads = getattr(text, "num_attention_heads", None)
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    hidden = getattr(text, "hidden_size", None)
    head_dim = getattr(text, "head_dim", None) or (hidden // heads if hidden and heads else None)
    rope = _rope(text)
    return {
        "model_type": getattr(text, "model_type", ""),
        "layers": getattr(text, "num_hidden_layers", None),
        "hidden_size": hidden,
        "intermediate_size": getattr(text, "intermediate_size", None),
        "attention_heads": heads,
        "kv_heads": kv_heads,
        "attention": _attention_kind(heads, kv_heads),
        "head_dim": head_dim,
        "vocab_size": getattr(text, "vocab_size", None),
        "context_length": getattr(text, "max_position_embeddings", None),
        "sliding_window": getattr(text, "sliding_window", None),
        "rope": rope,
        "activation": getattr(text, "hidden_act", None) or getattr(text, "hidden_activation", None),
        "norm": _norm_kind(text),
        "tie_word_embeddings": bool(getattr(text, "tie_word_embeddings", False)),
    }


def _attention_kind(heads: int | None, kv_heads: int | None) -> str:
    if not heads or not kv_heads or heads == kv_heads:
        return "multi-head (MHA)"
    if kv_heads == 1:
        return "multi-query (MQA)"
    return f"grouped-query (GQA, {heads // kv_heads} query heads per KV head)"


def _rope(text: Any) -> dict[str, Any]:
    params = getattr(text, "rope_parameters", None) or getattr(text, "rope_scaling", None) or {}
    theta = getattr(text, "rope_theta", None)
    if isinstance(params, Mapping):
        params = dict(params)
        theta = params.get("rope_theta", theta)
        return {"theta": theta, "type": params.get("rope_type", "default"), **{k: v for k, v in params.items()
                if k not in ("rope_theta", "rope_type")}}  # fmt: skip
    return {"theta": theta, "type": "default"}


def _norm_kind(text: Any) -> str:
    if hasattr(text, "rms_norm_eps"):
        return f"RMSNorm (eps {text.rms_norm_eps:g})"
    if hasattr(text, "layer_norm_eps") or hasattr(text, "layer_norm_epsilon"):
        return "LayerNorm"
    return "unknown"


def describe_architecture(config: Any, model_name: str = "") -> ArchReport:
    config = as_config(config)
    model = meta_model(config)
    total, by_kind = count_params(model)
    return ArchReport(
        model=model_name, architecture=type(model).__name__, summary=config_summary(config),
        total_params=total, params_by_kind=by_kind, tied=tied_groups(model), modules=module_tree(model),
    )  # fmt: skip
