"""The built-in general suite on the embedded models, side by side: pass rate, latency, memory, bits/byte.

    nice .venv/bin/python benchmarks/compare.py [--models smollm2@transformers,smollm2@llamacpp,gemma3@llamacpp]
                                                [--suite general] [--json out.json]

Each model spec runs in its own process (`llmkit compare --json`), so its peak resident memory and load
time are its own; the wall time of each process is measured from outside. The "two embedded models"
time is the two llama.cpp runs back to back (the issue's bar: under 5 minutes on this CPU). Prints one
Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

DEFAULT_MODELS = "smollm2@transformers,smollm2@llamacpp,gemma3@llamacpp"


def run_one(spec: str, suite: str) -> dict:
    started = time.perf_counter()
    command = [sys.executable, "-m", "llmkit", "compare", "--models", spec, "--suite", suite, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, env={**os.environ})
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{spec} failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return {"spec": spec, "process_wall_s": round(wall, 1), "report": report}


def row(run: dict) -> str:
    model = run["report"]["models"][0]
    failing = [r["case"] for r in run["report"]["results"] if not r["passed"]]
    cells = [
        run["spec"], f"{model['cases_passed']}/{model['cases']}", f"{model['checks_passed']}/{model['checks']}",
        f"{model['median_latency_s']:.2f}", f"{model['median_ttft_s']:.3f}", f"{model['median_tokens_per_s']:.1f}",
        f"{model['load_s']:.1f}", f"{model['peak_rss_mb']:.0f}", f"{model['bits_per_byte']:.3f}",
        f"{run['process_wall_s']:.0f}", ", ".join(failing),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--suite", default="general")
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args()
    runs = []
    for spec in args.models.split(","):
        print(f"running {spec} ...", file=sys.stderr, flush=True)
        runs.append(run_one(spec, args.suite))
    print("| model | cases passed | checks passed | median latency s | median TTFT s | median tok/s | load s "
          "| peak RSS MB | bits/byte | process wall s | failed cases |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(row(run))
    llamacpp = [r for r in runs if r["spec"].endswith("@llamacpp")]
    if len(llamacpp) >= 2:
        total = sum(r["process_wall_s"] for r in llamacpp[:2])
        print(f"\ntwo embedded models on llama.cpp ({', '.join(r['spec'] for r in llamacpp[:2])}), back to back: "
              f"{total:.0f} s wall")  # fmt: skip
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump(runs, handle, indent=2)


if __name__ == "__main__":
    main()
