"""The internals lab on the embedded SmolLM2: how long each probe takes, including the 512-token full
attention report (every head of the selected layers, PNGs and the HTML page), and the memory estimate
against the measured bytes.

    nice .venv/bin/python benchmarks/internals.py [--tokens 512] [--layer last] [--json out.json]

The model is loaded once (fp32, CPU) and not counted; each probe is timed from text to report + files.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import torch

from llmkit import internals


def _timed(label: str, fn, rows: list) -> object:
    """Wall and CPU seconds (all threads). On a busy shared machine the wall time mostly measures the
    others; the CPU time is what the probe costs, an upper bound of its wall time when it has the cores."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    rows.append({"probe": label, "wall_s": round(time.perf_counter() - started, 2),
                 "cpu_s": round(time.process_time() - cpu, 2)})  # fmt: skip
    print(f"{label}: wall {rows[-1]['wall_s']} s, cpu {rows[-1]['cpu_s']} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--layer", default="last", help="Layers for the long attention report (all, last, 0,15,-1).")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows: list[dict] = []
    loaded = internals.load_for_inspection("smollm2")
    _ = loaded.model
    text, _ = __import__("llmkit.quant", fromlist=["default_text"]).default_text()
    ids = loaded.tokenizer(text)["input_ids"][: args.tokens]
    long_text = loaded.tokenizer.decode(ids)
    short = "The capital of France is"
    out = tempfile.mkdtemp(prefix="llmkit-internals-bench-")
    _timed("arch (meta device)", lambda: internals.architecture("smollm2"), rows)
    memory = _timed("memory (estimate + measured)", lambda: internals.memory(context=2048, loaded=loaded), rows)
    _timed("attention, 6 tokens, all layers and heads, files",
           lambda: internals.attention(loaded, short, "all", "all", out_dir=f"{out}/short"), rows)  # fmt: skip
    report = _timed(f"attention, {len(ids)} tokens, layer {args.layer}, all heads, PNG + HTML",
                    lambda: internals.attention(loaded, long_text, args.layer, "all", out_dir=f"{out}/long",
                                                max_tokens=args.tokens), rows)  # fmt: skip
    _timed(f"attention JSON of that report ({len(ids)} tokens)", lambda: json.dumps(report.to_dict()), rows)
    _timed(f"lens, {len(ids)} tokens, top 5, PNG", lambda: internals.lens(loaded, long_text, 5, out_dir=out), rows)
    _timed(f"hidden, {len(ids)} tokens, PNG", lambda: internals.hidden(loaded, long_text, out_dir=out), rows)
    _timed(f"saliency, {len(ids)} tokens, HTML", lambda: internals.saliency(loaded, long_text, out_dir=out), rows)
    print(f"\nmemory estimate error at fp32: {memory.estimate_error_pct:+.3f} % "
          f"({memory.measured_bytes:,} bytes measured)")  # fmt: skip
    sizes = {os.path.basename(p): os.path.getsize(p) for p in report.files}
    print(f"files of the long attention report: {sizes}\n")
    print(f"load average {os.getloadavg()[0]:.1f}, {torch.get_num_threads()} torch threads\n")
    print("| probe | wall s | CPU s (all threads) |\n|---|---|---|")
    for row in rows:
        print(f"| {row['probe']} | {row['wall_s']} | {row['cpu_s']} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"rows": rows, "files": sizes, "estimate_error_pct": memory.estimate_error_pct}, handle)


if __name__ == "__main__":
    main()
