"""One quantization method in its own process: `python -m llmkit.quant.worker JOB.json RESULT.json`.

A crash, a leak or a library that patches torch globally stays in this process; the parent reads the
row from RESULT.json (or, if there is none, turns the exit code and stderr into the row's error).
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from llmkit.quant.measure import LlamaCppRunner, TransformersRunner, bits_per_byte, perplexity, score, speed
from llmkit.quant.methods import get_method
from llmkit.quant.types import QuantRow


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _load(job: dict[str, Any]) -> tuple[Any, int, list[str]]:
    """(runner, weight bytes, notes)."""
    method = get_method(job["method"])
    if method.kind == "gguf":
        return _load_gguf(job)
    from llmkit.internals import measured_bytes

    model = method.load(job["source"])
    return TransformersRunner(model), measured_bytes(model), []


def _load_gguf(job: dict[str, Any]) -> tuple[Any, int, list[str]]:
    if not job.get("gguf"):
        raise RuntimeError("this model has no GGUF file (give a .gguf, or a catalog entry that is one)")
    from gguf import GGUFReader
    from llama_cpp import Llama

    weights = sum(int(t.n_bytes) for t in GGUFReader(job["gguf"]).tensors)
    llm = Llama(job["gguf"], n_ctx=max(job["window"], job["prompt_tokens"] + job["decode_tokens"] + 1),
                n_batch=job["window"], logits_all=True, n_threads=job["threads"] or None, verbose=False)  # fmt: skip
    return LlamaCppRunner(llm), weights, ["llama.cpp via llama-cpp-python (logits_all=True)"]


def run(job: dict[str, Any]) -> QuantRow:
    import numpy as np
    import torch

    started = time.perf_counter()
    if job["threads"]:
        torch.set_num_threads(job["threads"])
    row = QuantRow(job["method"])
    runner, weight_bytes, row.notes = _load(job)
    row.load_s = round(time.perf_counter() - started, 2)
    row.weight_mb = round(weight_bytes / 2**20, 2)
    ids = [int(i) for i in np.load(job["ids_file"])]
    prefill, decode = speed(runner, ids[: job["prompt_tokens"]], job["decode_tokens"])
    row.prefill_tok_s, row.decode_tok_s = round(prefill, 1), round(decode, 1)
    row.peak_rss_mb = round(_peak_rss_mb(), 1)  # before the evaluation maps the reference logits
    reference = np.load(job["reference"], mmap_mode="r") if job.get("reference") else None
    scores, kept = score(runner, ids, job["window"], job["stride"], reference, keep_log_probs=bool(job.get("write")))
    if kept is not None:
        np.save(job["write"], kept)
    row.perplexity = round(perplexity(scores), 4)
    row.bits_per_byte = round(bits_per_byte(scores, job["text_bytes"]), 5)
    if reference is not None:
        row.kl_vs_reference = round(scores.kl / scores.count, 6)
        row.top1_agreement = round(scores.top1_same / scores.count, 5)
    elif job.get("write"):
        row.kl_vs_reference, row.top1_agreement = 0.0, 1.0
    row.seconds = round(time.perf_counter() - started, 2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    row.cpu_s = round(usage.ru_utime + usage.ru_stime, 1)  # includes the imports before `started`
    row.notes.append(f"cpu {row.cpu_s} s")
    return row


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    try:
        row = run(job)
    except Exception as exc:  # noqa: BLE001 - any failure of a method is its row's error, never a crash
        traceback.print_exc()
        row = QuantRow(job["method"], error=f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}")
    Path(argv[1]).write_text(json.dumps(row.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
