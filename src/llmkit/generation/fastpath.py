"""A lean decode path for Llama-architecture models on CPU (SmolLM2, Llama, Qwen2-style without bias).

Why: on a 2-core CPU, a 135M-parameter model spends most of each token in framework overhead and in
reading weights, not in arithmetic. `transformers` forward runs ~1,500 small ops a token over
fp32/bf16 weights (270-540 MB read per token). This path:

- packs each layer's weights once: q/k/v fused into one matrix, gate/up into one, and (for 4-bit) stored
  as int4 codes with per-32-column scale and offset, which holds a GGUF Q4_1 source's codes unchanged;
- keeps a static KV cache (preallocated, written in place, no per-token allocation);
- applies RoPE as one complex multiply on q and k together (their rows are permuted once from the
  half-split layout to the interleaved one; q.k is unchanged by applying one permutation to both).

Its logits are checked against transformers' own forward in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GROUP_SIZE = 32  # GGUF Q4_0/Q4_1 block size: repacking keeps each block's codes


def supports(config: Any, device: str) -> bool:
    """True for decoder configs this path implements exactly, on the CPU."""
    rope = getattr(config, "rope_parameters", None) or {}
    return (
        device == "cpu"
        and config.model_type == "llama"
        and rope.get("rope_type", "default") == "default"
        and not getattr(config, "attention_bias", False)
        and not getattr(config, "mlp_bias", False)
        and getattr(config, "hidden_act", "silu") == "silu"
    )


def quantize_int4(weight: Any) -> tuple[Any, Any, Any]:
    """Asymmetric 4-bit, per GROUP_SIZE input columns: w ~= (q - 8) * scale + zero, q in [0, 15].

    Returns (packed weight for `_weight_int4pack_mm_for_cpu`, scales_and_zeros [K/G, N, 2], and the
    float weight those codes stand for, so a dense copy computes with exactly the same values).
    """
    import torch

    n, k = weight.shape
    blocks = weight.float().reshape(n, k // GROUP_SIZE, GROUP_SIZE)
    low, high = blocks.amin(-1, keepdim=True), blocks.amax(-1, keepdim=True)
    scale = ((high - low) / 15).clamp(min=1e-10)
    codes = ((blocks - low) / scale).round_().clamp_(0, 15)
    scale16, zero16 = scale.to(torch.bfloat16), (low + 8 * scale).to(torch.bfloat16)  # what the kernel keeps
    dequantized = ((codes - 8) * scale16.float() + zero16.float()).reshape(n, k)
    scales_and_zeros = torch.cat([scale16, zero16], -1).transpose(0, 1).contiguous()
    packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(codes.to(torch.int32).reshape(n, k), 1)
    return packed, scales_and_zeros, dequantized


class Linear:
    """y = x W^T, two ways: fp32 for many rows at once (prompt processing, where CPU fp32 GEMMs are
    fastest), and int4 or bf16 for one row at a time (decoding, where reading fewer bytes wins)."""

    def __init__(self, weight: Any, int4: bool, dense: bool = True):
        import torch

        self.int4 = int4 and weight.shape[1] % GROUP_SIZE == 0
        if self.int4:
            # The fp32 copy is made from the same codes, so both paths compute with the same weights.
            self.packed, self.scales_and_zeros, weight = quantize_int4(weight)
        self.dense = weight.float().contiguous() if dense else None
        self.row = None if self.int4 else weight.to(torch.bfloat16).contiguous()
        self._int4_mm = torch.ops.aten._weight_int4pack_mm_for_cpu
        self._linear = torch.nn.functional.linear

    def __call__(self, x: Any, dense: bool = False) -> Any:
        """dense: fp32 in and out; else bf16 in and out."""
        if dense:
            return self._linear(x, self.dense)
        if self.int4:
            return self._int4_mm(x, self.packed, GROUP_SIZE, self.scales_and_zeros)
        return self._linear(x, self.row)


def _interleave_rows(weight: Any, heads: int, head_dim: int) -> Any:
    """Row order [x0..x(d/2-1), y0..y(d/2-1)] -> [x0, y0, x1, y1, ...] within each head."""
    return weight.reshape(heads, 2, head_dim // 2, -1).transpose(1, 2).reshape(heads * head_dim, -1)


@dataclass
class _Layer:
    attn_norm: Any
    qkv: Linear
    o: Linear
    mlp_norm: Any
    gate_up: Linear
    down: Linear


class FastDecoder:
    """Decoding state for one model: weights packed once, a KV cache reused across requests.

    `forward(ids)` appends tokens and returns the logits of the last. Several tokens (the prompt) run
    eagerly on fp32 weights; one token (decoding) runs a TorchScript step over all layers, which
    removes most of the per-op Python cost (see `_scripted_decode_step`).
    """

    def __init__(
        self, config: Any, weights: Mapping[str, Any], int4: bool, initial_len: int = 1024, int4_head: bool = False
    ):
        """weights: a transformers Llama state dict (names as in `model.state_dict()`)."""
        import torch

        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.eps = float(config.rms_norm_eps)
        self.hidden = config.hidden_size
        self.max_len = int(config.max_position_embeddings)
        self.int4 = int4
        # Tied embeddings are stored once, under either name (safetensors keeps one of the pair).
        embed = weights.get("model.embed_tokens.weight", weights.get("lm_head.weight"))
        head = weights.get("lm_head.weight", embed)
        self.embed = embed.to(torch.bfloat16)
        self.layers = [self._pack(weights, f"model.layers.{i}.", int4) for i in range(config.num_hidden_layers)]
        self.norm = weights["model.norm.weight"].float()
        # The output head stays bf16 by default: GGUF files keep it at 8 bits, and 4 measurably loses
        # fidelity (docs/benchmarks.md, llmkit-int4-head).
        self.lm_head = Linear(head, int4=int4_head, dense=False)
        self.lm_head_dense: Any = None  # an fp32 copy, made by the first BatchDecoder
        self.freqs = self._rope_table(float(config.rope_parameters["rope_theta"]), self.max_len)
        self.reset()
        self.reused_tokens = 0
        self._capacity = 0
        self._grow(min(initial_len, self.max_len))
        self._step = _scripted_decode_step()
        self._step_weights = self._weights_for_step()
        self._head_pair = _step_pair(self.lm_head)

    @classmethod
    def from_model(cls, model: Any, int4: bool) -> FastDecoder:
        weights = {name: tensor.detach() for name, tensor in model.state_dict().items()}
        return cls(model.config, weights, int4)

    def _pack(self, weights: Mapping[str, Any], prefix: str, int4: bool) -> _Layer:
        import torch

        def w(name: str) -> Any:
            return weights[prefix + name]

        q = _interleave_rows(w("self_attn.q_proj.weight"), self.heads, self.head_dim)
        k = _interleave_rows(w("self_attn.k_proj.weight"), self.kv_heads, self.head_dim)
        qkv = torch.cat([q, k, w("self_attn.v_proj.weight")])
        gate_up = torch.cat([w("mlp.gate_proj.weight"), w("mlp.up_proj.weight")])
        return _Layer(
            attn_norm=w("input_layernorm.weight").float(),
            qkv=Linear(qkv, int4),
            o=Linear(w("self_attn.o_proj.weight"), int4),
            mlp_norm=w("post_attention_layernorm.weight").float(),
            gate_up=Linear(gate_up, int4),
            down=Linear(w("mlp.down_proj.weight"), int4),
        )

    def _weights_for_step(self) -> list[list[Any]]:
        pair = _step_pair
        columns: list[list[Any]] = [[] for _ in range(10)]
        for layer in self.layers:
            row = (layer.attn_norm, *pair(layer.qkv), *pair(layer.o), layer.mlp_norm, *pair(layer.gate_up),
                   *pair(layer.down))  # fmt: skip
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        return columns

    def _rope_table(self, theta: float, length: int) -> Any:
        import torch

        inv = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim))
        angles = torch.outer(torch.arange(length, dtype=torch.float64), inv)
        return torch.polar(torch.ones_like(angles), angles).to(torch.complex64)  # [length, head_dim/2]

    def _grow(self, needed: int) -> None:
        """Make the fp32 KV cache hold `needed` positions (doubling; the filled part is kept)."""
        import torch

        if needed <= self._capacity:
            return
        capacity = min(max(needed, 2 * self._capacity), self.max_len)
        shape = (len(self.layers), self.kv_heads, capacity, self.head_dim)
        # fp32: attention matmuls at batch 1 run faster in fp32 than in bf16 on the CPUs measured.
        k_cache, v_cache = torch.zeros(shape), torch.zeros(shape)
        if self._capacity:
            k_cache[:, :, : self.length] = self.k_cache[:, :, : self.length]
            v_cache[:, :, : self.length] = self.v_cache[:, :, : self.length]
        self.k_cache, self.v_cache, self._capacity = k_cache, v_cache, capacity
        self._k_layers, self._v_layers = list(k_cache), list(v_cache)  # per-layer views, made once

    def reset(self) -> None:
        self.length = 0
        self.tokens: list[int] = []
        self._last_prompt: tuple[list[int], Any] | None = None

    def start(self, prompt_ids: list[int]) -> Any:
        """Begin a sequence; reuses the cached keys/values of the longest prefix shared with the last
        sequence (a chat's earlier turns, a fixed system prompt). Returns the last prompt logits."""
        last = self._last_prompt
        if last is not None and last[0] == prompt_ids and self.tokens[: len(prompt_ids)] == prompt_ids:
            # The same prompt again: its keys, values and logits are all still here. Reusing them (rather
            # than recomputing the last token) keeps a seeded sample identical: decoding rounds
            # activations to bf16, where a 1e-5 difference upstream can flip a rounding.
            self.length = self.reused_tokens = len(prompt_ids)
            self.tokens = self.tokens[: len(prompt_ids)]
            return last[1].clone()
        shared = 0
        limit = min(len(self.tokens), len(prompt_ids) - 1)  # the last prompt token always runs
        while shared < limit and self.tokens[shared] == prompt_ids[shared]:
            shared += 1
        self.length = shared
        self.tokens = self.tokens[:shared]
        self.reused_tokens = shared
        logits = self.forward(prompt_ids[shared:])
        self._last_prompt = (list(prompt_ids), logits.clone())
        return logits

    def forward(self, token_ids: list[int]) -> Any:
        """Append tokens at the current position; return the float32 logits of the last one."""
        end = self.length + len(token_ids)
        if end > self.max_len:
            raise ValueError(f"sequence of {end} tokens exceeds the context window of {self.max_len}")
        self._grow(end)
        logits = self._decode(token_ids[0]) if len(token_ids) == 1 else self._prefill(token_ids)
        # Only now: if a step fails midway, the cache must not claim tokens it does not hold.
        self.length = end
        self.tokens.extend(token_ids)
        return logits

    def _decode(self, token: int) -> Any:
        position = self.length
        h = self.embed[token : token + 1].float()
        return self._step(
            h, position, self.freqs[position : position + 1, None, :], *self._step_weights,
            self._k_layers, self._v_layers, self.norm, *self._head_pair,
            self.int4, self.lm_head.int4, self.heads, self.kv_heads, self.head_dim, self.eps,
        )  # fmt: skip

    def _prefill(self, token_ids: list[int]) -> Any:
        return self.prefill_into(token_ids, self.length, self._k_layers, self._v_layers)

    def prefill_into(self, token_ids: list[int], start: int, k_layers: list[Any], v_layers: list[Any]) -> Any:
        """Run `token_ids` at positions start.. through the fp32 path, writing keys/values into the given
        per-layer caches ([kv_heads, capacity, head_dim] each); returns the last token's logits."""
        import torch

        count = len(token_ids)
        end = start + count
        h = self.embed[torch.tensor(token_ids)].float()  # the residual stream stays fp32
        freqs = self.freqs[start:end, None, :]
        # After a reused prefix, query i sees keys 0..start+i (is_causal alone would align it at 0).
        mask = None if start == 0 else torch.arange(end)[None, :] <= torch.arange(start, end)[:, None]
        for index, layer in enumerate(self.layers):
            x = _rms_norm(h, layer.attn_norm, self.eps, torch.float32)
            q, k, v = self._qkv(layer.qkv(x, dense=True), count, freqs)
            k_cache, v_cache = k_layers[index], v_layers[index]
            k_cache[:, start:end] = k
            v_cache[:, start:end] = v
            attn = torch.nn.functional.scaled_dot_product_attention(
                q[None], k_cache[None, :, :end], v_cache[None, :, :end],
                attn_mask=mask, is_causal=mask is None, enable_gqa=True,
            )[0].transpose(0, 1).reshape(count, -1)  # fmt: skip
            h = h + layer.o(attn, dense=True)
            x = _rms_norm(h, layer.mlp_norm, self.eps, torch.float32)
            gate, up = layer.gate_up(x, dense=True).chunk(2, dim=-1)
            h = h + layer.down(torch.nn.functional.silu(gate) * up, dense=True)
        # One row through the head: the bf16 copy reads half the bytes of the fp32 one.
        return self.lm_head(_rms_norm(h[-1:], self.norm, self.eps, torch.bfloat16))[0].float()

    def _qkv(self, qkv: Any, count: int, freqs: Any) -> tuple[Any, Any, Any]:
        import torch

        rotary = (self.heads + self.kv_heads) * self.head_dim
        pairs = qkv[:, :rotary].float().reshape(count, -1, self.head_dim // 2, 2)
        qk = torch.view_as_real(torch.view_as_complex(pairs) * freqs).reshape(count, -1, self.head_dim)
        qk = qk.transpose(0, 1)  # [heads, count, head_dim], fp32
        v = qkv[:, rotary:].reshape(count, self.kv_heads, self.head_dim).transpose(0, 1)
        return qk[: self.heads], qk[self.heads :], v.float()


def _step_pair(linear: Linear) -> tuple[Any, Any]:
    """(weight, scales) as the TorchScript step takes them: int4 codes and scales, or bf16 and nothing."""
    import torch

    return (linear.packed, linear.scales_and_zeros) if linear.int4 else (linear.row, torch.empty(0))


def _rms_norm(x: Any, weight: Any, eps: float, dtype: Any) -> Any:
    """fp32 in, `dtype` out for the matmul that follows. Spelled out: F.rms_norm costs ~36 us a call at
    this size on the CPUs measured, these ops ~22 us."""
    return (x * x.square().mean(-1, keepdim=True).add_(eps).rsqrt_() * weight).to(dtype)


_SCRIPTED: Any = None


def _scripted_decode_step() -> Any:
    """The one-token step over all layers, compiled by TorchScript once per process.

    At batch 1 a layer is ~40 small ops; from Python each costs ~5-8 us of interpreter and dispatch
    time, more than the arithmetic. TorchScript runs the same ops from C++ (measured: +12-25 % tok/s).
    """
    global _SCRIPTED
    if _SCRIPTED is None:
        import warnings

        import torch

        step = _decode_step_source()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript's deprecation notice
            try:
                _SCRIPTED = torch.jit.script(step)
            except Exception:  # noqa: BLE001 - TorchScript is deprecated; the same code runs eagerly
                _SCRIPTED = step
    return _SCRIPTED


def _decode_step_source() -> Any:
    import torch
    from torch import Tensor

    def mm(x: Tensor, w: Tensor, s: Tensor, int4: bool) -> Tensor:
        if int4:
            return torch.ops.aten._weight_int4pack_mm_for_cpu(x, w, 32, s)
        return torch.nn.functional.linear(x, w)

    def norm(x: Tensor, w: Tensor, eps: float) -> Tensor:
        return (x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps) * w).to(torch.bfloat16)

    def step(
        h: Tensor, pos: int, freqs: Tensor,
        norms1: list[Tensor], qkv_w: list[Tensor], qkv_s: list[Tensor], o_w: list[Tensor], o_s: list[Tensor],
        norms2: list[Tensor], gu_w: list[Tensor], gu_s: list[Tensor], down_w: list[Tensor], down_s: list[Tensor],
        k_cache: list[Tensor], v_cache: list[Tensor], final_norm: Tensor, head_w: Tensor, head_s: Tensor,
        int4: bool, int4_head: bool, heads: int, kv_heads: int, head_dim: int, eps: float,
    ) -> Tensor:  # fmt: skip
        rotary = (heads + kv_heads) * head_dim
        group = heads // kv_heads
        scale = head_dim**-0.5
        for i in range(len(norms1)):
            qkv = mm(norm(h, norms1[i], eps), qkv_w[i], qkv_s[i], int4)
            pairs = qkv[:, :rotary].float().reshape(1, -1, head_dim // 2, 2)
            qk = torch.view_as_real(torch.view_as_complex(pairs) * freqs).reshape(-1, head_dim)
            k_cache[i][:, pos] = qk[heads:]
            v_cache[i][:, pos] = qkv[0, rotary:].reshape(kv_heads, head_dim)
            q = qk[:heads].reshape(kv_heads, group, head_dim)  # query heads grouped by their KV head
            scores = torch.matmul(q, k_cache[i][:, : pos + 1].transpose(1, 2)) * scale
            attn = torch.matmul(torch.softmax(scores, dim=-1), v_cache[i][:, : pos + 1])
            h = h + mm(attn.reshape(1, -1).to(torch.bfloat16), o_w[i], o_s[i], int4)
            gate, up = mm(norm(h, norms2[i], eps), gu_w[i], gu_s[i], int4).chunk(2, dim=-1)
            h = h + mm(torch.nn.functional.silu(gate) * up, down_w[i], down_s[i], int4)
        return mm(norm(h, final_norm, eps), head_w, head_s, int4_head)[0].float()

    return step


class BatchDecoder:
    """Up to `slots` sequences decoded together on a `FastDecoder`'s weights, a slot refilled as soon as
    its sequence ends (continuous batching), so no row waits for the longest one.

    Why: at batch 1 each token reads every weight once for one row of arithmetic; with many rows the
    same read serves many tokens, on the fp32 GEMMs this CPU runs fastest (2-core machine: one token
    ~20 ms alone, 32 tokens ~160 ms together; docs/benchmarks.md, "Synthetic data"). Prompts that start
    alike (a dataset's shared instructions) process their common prefix once; each slot copies it.
    """

    def __init__(self, fast: FastDecoder, slots: int, capacity: int, prefix: list[int]):
        import torch

        if capacity > fast.max_len:
            raise ValueError(f"sequence of {capacity} tokens exceeds the context window of {fast.max_len}")
        self.fast = fast
        shape = (len(fast.layers), slots, fast.kv_heads, capacity, fast.head_dim)
        self.k_cache, self.v_cache = torch.zeros(shape), torch.zeros(shape)
        self.positions = torch.zeros(slots, dtype=torch.long)
        if fast.lm_head_dense is None:  # many rows through the head: fp32 GEMM beats emulated bf16 here
            fast.lm_head_dense = fast.lm_head.row.float()
        self.prefix = prefix
        if prefix:
            fast.prefill_into(prefix, 0, [k[0] for k in self.k_cache], [v[0] for v in self.v_cache])
            self.prefix_k = self.k_cache[:, 0, :, : len(prefix)].clone()
            self.prefix_v = self.v_cache[:, 0, :, : len(prefix)].clone()

    def admit(self, slots: list[int], prompts: list[list[int]]) -> Any:
        """Start sequences in `slots` (whatever was there is forgotten), their prompts processed together;
        returns their next-token logits [len(slots), vocab]."""
        import torch

        shared = len(self.prefix)
        if shared and all(len(p) > shared and p[:shared] == self.prefix for p in prompts):
            index = torch.tensor(slots)
            self.k_cache[:, index, :, :shared] = self.prefix_k[:, None]
            self.v_cache[:, index, :, :shared] = self.prefix_v[:, None]
        else:
            shared = 0
        logits = self._forward(slots, [p[shared:] for p in prompts], [shared] * len(slots))
        self.positions[torch.tensor(slots)] = torch.tensor([len(p) for p in prompts])
        return logits

    def step(self, tokens: list[int], active: list[bool]) -> Any:
        """One token per slot (idle slots pass any token and stay where they are); logits [slots, vocab]."""
        import torch

        logits = self._forward(list(range(len(tokens))), [[t] for t in tokens], self.positions.tolist())
        self.positions += torch.tensor(active, dtype=torch.long)
        return logits

    def _forward(self, slots: list[int], token_lists: list[list[int]], starts: list[int]) -> Any:
        """Tokens appended to each slot's sequence at its start position (shorter lists padded; their
        padding writes cache entries past the sequence's end, which no query sees and decoding
        overwrites); returns each slot's last-token logits."""
        import torch

        fast, rows = self.fast, len(slots)
        width = max(len(t) for t in token_lists)
        lengths = torch.tensor([len(t) for t in token_lists])
        ids = torch.tensor([t + [0] * (width - len(t)) for t in token_lists])
        pos = torch.tensor(starts)[:, None] + torch.arange(width)[None, :]  # [rows, width]
        end = int(pos.max()) + 1
        every_slot = slots == list(range(self.k_cache.shape[1]))
        index = torch.tensor(slots)[:, None]
        mask = (torch.arange(end)[None, None, :] <= pos[:, :, None])[:, None]  # [rows, 1, width, keys]
        freqs = fast.freqs[pos][:, :, None, :]  # [rows, width, 1, head_dim/2]
        h = fast.embed[ids].float()
        for number, layer in enumerate(fast.layers):
            x = _rms_norm(h, layer.attn_norm, fast.eps, torch.float32)
            q, k, v = self._qkv(layer.qkv(x, dense=True), freqs)
            k_cache, v_cache = self.k_cache[number], self.v_cache[number]
            k_cache[index, :, pos] = k
            v_cache[index, :, pos] = v
            keys = k_cache[:, :, :end] if every_slot else k_cache[index[:, 0], :, :end]
            values = v_cache[:, :, :end] if every_slot else v_cache[index[:, 0], :, :end]
            attn = torch.nn.functional.scaled_dot_product_attention(
                q, keys, values, attn_mask=mask, enable_gqa=True
            )  # [rows, heads, width, head_dim]
            h = h + layer.o(attn.transpose(1, 2).reshape(rows, width, -1), dense=True)
            x = _rms_norm(h, layer.mlp_norm, fast.eps, torch.float32)
            gate, up = layer.gate_up(x, dense=True).chunk(2, dim=-1)
            h = h + layer.down(torch.nn.functional.silu(gate) * up, dense=True)
        last = h[torch.arange(rows), lengths - 1]
        return torch.nn.functional.linear(_rms_norm(last, fast.norm, fast.eps, torch.float32), fast.lm_head_dense)

    def _qkv(self, qkv: Any, freqs: Any) -> tuple[Any, Any, Any]:
        """q [rows, heads, width, d] and k, v as written to the cache: [rows, width, kv_heads, d]."""
        import torch

        fast = self.fast
        rows, width = qkv.shape[:2]
        rotary = (fast.heads + fast.kv_heads) * fast.head_dim
        pairs = qkv[..., :rotary].reshape(rows, width, -1, fast.head_dim // 2, 2).contiguous()
        qk = torch.view_as_real(torch.view_as_complex(pairs) * freqs).reshape(rows, width, -1, fast.head_dim)
        v = qkv[..., rotary:].reshape(rows, width, fast.kv_heads, fast.head_dim)
        return qk[:, :, : fast.heads].transpose(1, 2), qk[:, :, fast.heads :], v


def common_prefix(prompts: list[list[int]]) -> list[int]:
    """Tokens every prompt starts with, leaving each at least one token of its own (its logits)."""
    shortest = min(len(p) for p in prompts) - 1
    shared = 0
    while shared < shortest and all(p[shared] == prompts[0][shared] for p in prompts):
        shared += 1
    return prompts[0][:shared]
