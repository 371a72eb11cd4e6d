"""Typed model specs, per-case and per-model results, and the events a comparison streams."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from llmkit.compare.suites import CheckResult
from llmkit.errors import InvalidInputError
from llmkit.events import Event

_PRECISIONS = ("fp32", "bf16", "fp16")
_QUANTIZATIONS = ("8bit", "4bit")
_BACKENDS = ("transformers", "llamacpp", "openai")


@dataclass(frozen=True)
class ModelSpec:
    """`NAME[:PRECISION|:8bit|:4bit][@BACKEND|@URL]`: smollm2@llamacpp, smollm2:bf16, gpt-4o-mini@http://host/v1."""

    text: str
    model: str
    backend: str | None = None
    precision: str | None = None
    quantization: str | None = None
    base_url: str | None = None  # an OpenAI-compatible endpoint (implies the openai backend)

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        spec = text.strip()
        if not spec:
            raise InvalidInputError("an empty model spec; give NAME[:PRECISION][@BACKEND|@URL]")
        model, backend, base_url = spec, None, None
        if "@" in spec:
            model, target = spec.rsplit("@", 1)
            if target.startswith(("http://", "https://")):
                backend, base_url = "openai", target
            elif target in _BACKENDS:
                backend = target
            else:
                raise InvalidInputError(
                    f"model spec {text!r}: after @ give a backend ({', '.join(_BACKENDS)}) or an http(s) URL"
                )
        precision = quantization = None
        head, colon, tail = model.rpartition(":")
        if colon and not head:
            raise InvalidInputError(f"model spec {text!r} names no model before ':'")
        if head and tail in _PRECISIONS:
            model, precision = head, tail
        elif head and tail in _QUANTIZATIONS:
            model, quantization = head, tail
        if not model:
            raise InvalidInputError(f"model spec {text!r} names no model")
        return cls(spec, model, backend, precision, quantization, base_url)


@dataclass(frozen=True)
class CaseResult:
    model: str  # the spec's text
    case: str
    category: str
    output: str
    checks: tuple[CheckResult, ...]
    prompt_tokens: int | None = None
    completion_tokens: int = 0
    ttft_s: float = 0.0
    total_s: float = 0.0
    tokens_per_s: float = 0.0
    cost_usd: float = 0.0
    error: str = ""
    judge_score: int | None = None  # 1-5 when a judge ran
    judge_reason: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


@dataclass
class ModelSummary:
    model: str  # the spec's text
    name: str = ""  # the catalog name it resolved to
    backend: str = ""
    loaded: bool = False
    error: str = ""  # why it could not load (its row says so; the others go on)
    cases: int = 0
    cases_passed: int = 0
    checks: int = 0
    checks_passed: int = 0
    median_latency_s: float | None = None
    median_ttft_s: float | None = None
    median_tokens_per_s: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    load_s: float | None = None
    wall_s: float | None = None  # load, cases, bits per byte and unload: this model's share of the run
    peak_rss_mb: float | None = None  # the process's peak resident memory while this model ran
    load_rss_mb: float | None = None  # resident memory the load added
    bits_per_byte: float | None = None
    bits_per_byte_note: str = ""
    judge_mean: float | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.cases_passed / self.cases if self.cases else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pass_rate": self.pass_rate}


@dataclass
class ComparisonReport:
    suite: str
    suite_source: str
    seed: int
    models: list[ModelSummary]
    results: list[CaseResult]
    case_ids: list[str]
    prompts: dict[str, str] = field(default_factory=dict)
    bits_per_byte_text: str = ""  # which text bits per byte were measured on
    wall_s: float = 0.0

    def result(self, model: str, case: str) -> CaseResult | None:
        return next((r for r in self.results if r.model == model and r.case == case), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite, "suite_source": self.suite_source, "seed": self.seed, "wall_s": self.wall_s,
            "bits_per_byte_text": self.bits_per_byte_text, "case_ids": self.case_ids, "prompts": self.prompts,
            "models": [m.to_dict() for m in self.models], "results": [r.to_dict() for r in self.results],
        }  # fmt: skip


@dataclass(frozen=True)
class CompareProgress(Event):
    type: ClassVar[str] = "compare.progress"
    model: str
    model_index: int
    models: int
    stage: str  # loading | case | bits_per_byte | judging
    case: str = ""
    case_index: int = 0
    cases: int = 0


@dataclass(frozen=True)
class CaseDone(Event):
    type: ClassVar[str] = "compare.case"
    result: CaseResult


@dataclass(frozen=True)
class ModelDone(Event):
    type: ClassVar[str] = "compare.model"
    summary: ModelSummary


@dataclass(frozen=True)
class ComparisonDone(Event):
    type: ClassVar[str] = "compare.done"
    report: ComparisonReport


CompareEvent = CompareProgress | CaseDone | ModelDone | ComparisonDone
