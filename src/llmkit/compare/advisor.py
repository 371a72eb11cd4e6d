"""`recommend`: rank the catalog for a memory budget, a GPU, a task, languages and a context length.

For each model: the best quantization whose weights plus KV cache (at the requested context) fit the
budget, an expected decode speed from the hardware's memory bandwidth (decoding reads every active
weight once per token), the license, and reasons in words drawn from the catalog's facts. Models that
do not fit, lack a language or a long enough context are kept as excluded rows that say why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from llmkit.compare.memory import BITS_PER_WEIGHT, MemoryNeed, memory_need
from llmkit.errors import InvalidInputError
from llmkit.models import TASKS, ModelEntry


@dataclass(frozen=True)
class Hardware:
    name: str
    memory_gb: float
    bandwidth_gb_s: float  # what decode speed scales with
    source: str = ""


# Memory and bandwidth from each vendor's datasheet (NVIDIA product pages); the CPU row is a dual-channel
# DDR4/DDR5 desktop or laptop, effective bandwidth as llama.cpp reaches it (about half the peak).
GPUS: dict[str, Hardware] = {
    "none": Hardware("CPU only", 16.0, 25.0, "assumed dual-channel DDR4/5, ~25 GB/s effective"),
    "t4": Hardware("NVIDIA T4", 16.0, 320.0, "NVIDIA T4 datasheet"),
    "l4": Hardware("NVIDIA L4", 24.0, 300.0, "NVIDIA L4 datasheet"),
    "a10g": Hardware("NVIDIA A10G", 24.0, 600.0, "AWS G5 / NVIDIA A10 datasheet"),
    "rtx3090": Hardware("RTX 3090", 24.0, 936.0, "NVIDIA RTX 3090 specifications"),
    "rtx4090": Hardware("RTX 4090", 24.0, 1008.0, "NVIDIA RTX 4090 specifications"),
    "a100-40gb": Hardware("NVIDIA A100 40GB", 40.0, 1555.0, "NVIDIA A100 datasheet"),
    "a100": Hardware("NVIDIA A100 80GB", 80.0, 2039.0, "NVIDIA A100 datasheet (SXM)"),
    "h100": Hardware("NVIDIA H100 80GB", 80.0, 3350.0, "NVIDIA H100 datasheet (SXM)"),
    "h200": Hardware("NVIDIA H200", 141.0, 4800.0, "NVIDIA H200 datasheet"),
}
BANDWIDTH_EFFICIENCY = 0.6  # share of the peak a decode loop reaches (llama.cpp and vLLM land near it)
QUANTIZATION_ORDER = ("bf16", "8bit", "4bit")  # best quality first
QUANTIZATION_PENALTY = {"bf16": 0.0, "8bit": 3.0, "4bit": 8.0}
SPEED_CLASSES = ((30.0, "fast"), (10.0, "interactive"), (2.0, "slow"), (0.0, "batch only"))


@dataclass(frozen=True)
class Constraints:
    memory_gb: float | None = None  # None: the GPU's memory (or 16 GB of RAM without one)
    gpu: str = "none"
    task: str | None = None
    languages: tuple[str, ...] = ()
    context: int = 4096

    def __post_init__(self) -> None:
        if self.gpu not in GPUS:
            raise InvalidInputError(f"unknown --gpu {self.gpu!r}; known: {', '.join(GPUS)}")
        if self.task is not None and self.task not in TASKS:
            raise InvalidInputError(f"unknown --task {self.task!r}; tasks: {', '.join(TASKS)}")
        if self.memory_gb is not None and not (math.isfinite(self.memory_gb) and self.memory_gb > 0):
            raise InvalidInputError(f"--memory-gb must be a positive number, got {self.memory_gb}")
        if self.context < 1:
            raise InvalidInputError(f"--context must be a positive number of tokens, got {self.context}")

    @property
    def hardware(self) -> Hardware:
        return GPUS[self.gpu]

    @property
    def budget_gb(self) -> float:
        return self.memory_gb if self.memory_gb is not None else self.hardware.memory_gb


@dataclass
class Recommendation:
    name: str
    family: str
    quantization: str | None
    estimated_memory_gb: float | None
    fits: bool
    score: float
    reasons: list[str] = field(default_factory=list)
    license: str = ""
    speed_class: str = ""
    expected_tokens_per_s: float | None = None
    context_length: int = 0
    excluded_because: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommend(entries: list[ModelEntry], constraints: Constraints) -> list[Recommendation]:
    """Every catalog model with the facts to judge it: fitting ones by score, then the excluded."""
    rows = [_assess(e, constraints) for e in entries if e.params_b and e.layers and e.backend != "openai"]
    return sorted(rows, key=lambda r: (not r.fits, -r.score, r.name))


def _assess(entry: ModelEntry, c: Constraints) -> Recommendation:
    row = Recommendation(entry.name, entry.family, None, None, False, 0.0, license=entry.license,
                         context_length=entry.context_length)  # fmt: skip
    why = _hard_exclusion(entry, c)
    need = _best_fit(entry, c)
    if why is None and need is None:
        smallest = memory_need(entry, "4bit", c.context)
        why = (f"needs {smallest.total_gb:g} GB even at 4-bit ({smallest.weights_gb:g} GB weights + "
               f"{smallest.kv_cache_gb:g} GB KV cache at {c.context} tokens), over the {c.budget_gb:g} GB budget")  # fmt: skip
    if why is not None:
        row.excluded_because, row.reasons = why, [why]
        return row
    assert need is not None
    speed = _tokens_per_s(entry, need.quantization, c.hardware)
    row.quantization, row.estimated_memory_gb, row.fits = need.quantization, need.total_gb, True
    row.expected_tokens_per_s, row.speed_class = round(speed, 1), _speed_class(speed)
    row.score = round(_score(entry, need, speed, c), 1)
    row.reasons = _reasons(entry, need, speed, c)
    return row


def _hard_exclusion(entry: ModelEntry, c: Constraints) -> str | None:
    if entry.context_length and c.context > entry.context_length:
        return f"its context window is {entry.context_length} tokens, less than the {c.context} asked for"
    missing = [lang for lang in c.languages if not _speaks(entry, lang)]
    if missing:
        return f"does not list {', '.join(missing)} among its languages ({', '.join(entry.languages)})"
    return None


def _speaks(entry: ModelEntry, language: str) -> bool:
    """Named in its languages, or the list ends in '+N more' (a claim of many languages, trusted for any)."""
    listed = [lang.lower() for lang in entry.languages]
    return language.lower() in listed or any(lang.startswith("+") for lang in listed)


def _best_fit(entry: ModelEntry, c: Constraints) -> MemoryNeed | None:
    for quantization in QUANTIZATION_ORDER:
        need = memory_need(entry, quantization, c.context)
        if need.total_gb <= c.budget_gb:
            return need
    return None


def _tokens_per_s(entry: ModelEntry, quantization: str, hardware: Hardware) -> float:
    active = entry.active_params_b or entry.params_b
    bytes_per_token = active * 1e9 * BITS_PER_WEIGHT[quantization] / 8
    return BANDWIDTH_EFFICIENCY * hardware.bandwidth_gb_s * 1e9 / bytes_per_token


def _speed_class(tokens_per_s: float) -> str:
    return next(name for floor, name in SPEED_CLASSES if tokens_per_s >= floor)


def _score(entry: ModelEntry, need: MemoryNeed, speed: float, c: Constraints) -> float:
    """0-100: task fit 40, capacity (log of parameters) up to 35, speed up to 15, minus a quantization
    penalty; the task's own needs (a long window, a small footprint) add up to 10."""
    task_fit = 40.0 if c.task is None or c.task in entry.good_at else 0.0
    if c.task is None:
        task_fit = 20.0
    capacity = 35.0 * min(1.0, math.log10(max(entry.params_b, 0.1) * 10) / math.log10(4050))
    pace = 15.0 * min(1.0, math.log10(max(speed, 1.0)) / math.log10(100))
    bonus = 0.0
    if c.task == "long-context":
        bonus = 10.0 * min(1.0, entry.context_length / 131072)
    elif c.task == "edge":
        bonus = 10.0 * max(0.0, 1.0 - need.total_gb / 8)
    return max(0.0, task_fit + capacity + pace + bonus - QUANTIZATION_PENALTY[need.quantization])


def _reasons(entry: ModelEntry, need: MemoryNeed, speed: float, c: Constraints) -> list[str]:
    reasons = []
    if c.task and c.task in entry.good_at:
        reasons.append(f"known for {c.task}: {entry.strengths}")
    elif c.task:
        reasons.append(f"not singled out for {c.task}; its strengths: {entry.strengths}")
    else:
        reasons.append(f"strengths: {entry.strengths}")
    reasons.append(
        f"fits {c.budget_gb:g} GB at {need.quantization}: {need.weights_gb:g} GB weights + {need.kv_cache_gb:g} GB "
        f"KV cache at {c.context} tokens + {need.overhead_gb:g} GB runtime = {need.total_gb:g} GB"
    )
    reasons.append(f"expected ~{speed:.0f} tokens/s on {c.hardware.name} ({_speed_class(speed)})")
    if c.languages:
        reasons.append(f"covers {', '.join(c.languages)} (languages: {', '.join(entry.languages)})")
    reasons.append(f"license: {entry.license}; best for: {entry.best_for}")
    return reasons
