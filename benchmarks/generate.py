"""Generation speed on the embedded model, side by side with llama.cpp on the same GGUF, in one run.

    .venv/bin/python benchmarks/generate.py [--processes 3] [--rounds 3] [--new-tokens 128] [--json out.json]
    .venv/bin/python benchmarks/generate.py --runtimes [--processes 6]   # xllamacpp vs llama-cpp-python

Each configuration runs in `--processes` fresh processes (so load time and peak memory are its own), the
configurations taking turns: pass 1 runs them in order, pass 2 in reverse, and so on (A B B A for two), so a
slow spell on this shared machine hits every side. Every process makes the same warm-up request after load
(8 greedy tokens of a short prompt) before anything is timed. Greedy, `--new-tokens` tokens past
end-of-sequence, 2 threads. Reported: cached load time, time to first token for a 50-token prompt (cold: no
reusable prefix; the same prompt again), decode tokens/s, peak RSS: medians with (min-max) over every round
of every process; and the ratio of decode speed to the llama.cpp reference, computed per pass (the
reference and the configuration ran next to each other), median (min-max) over passes.

Configurations, each a lever from the issue measured on its own:
  reference-llama.cpp    llama-cpp-python called directly (Q4_1 GGUF): the reference
  hf-generate-fp32       transformers `generate()`, fp32 (what a plain script does)
  hf-generate-bf16       transformers `generate()`, bf16
  llmkit-loop-fp32       llmkit's own decode loop over transformers' forward (precision=fp32)
  llmkit-fast-bf16       llmkit's lean decoder: fused bf16 weights, static fp32 KV cache, TorchScript step
  llmkit-transformers    the default backend: the lean decoder with the GGUF's own 4-bit codes
  llmkit-int4-head       the same with the output head also at 4 bits (the GGUF keeps it at 8): faster,
                         but measurably less faithful (see docs/benchmarks.md); not a default
  llmkit-llamacpp        llmkit's llamacpp backend (its overhead over the reference)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

THREADS = 2
PROMPT_TOKENS_WANTED = 50
STORY = "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle."
WARM_UP = "Say hello."  # every configuration's first request after load, untimed
CONFIGS = [
    "reference-llama.cpp",
    "hf-generate-fp32",
    "hf-generate-bf16",
    "llmkit-loop-fp32",
    "llmkit-fast-bf16",
    "llmkit-transformers",
    "llmkit-int4-head",
    "llmkit-llamacpp",
]


def fifty_token_prompt(count_tokens) -> str:
    """A user message whose chat-templated prompt is PROMPT_TOKENS_WANTED tokens (or just under)."""
    words = ("Please summarise the main risks of deploying a language model in a hospital setting, "
             "covering privacy, hallucination, latency, cost, auditability and staff training needs, "
             "and rank them by severity with one line of justification each please").split()  # fmt: skip
    text = ""
    for word in words:
        candidate = f"{text} {word}".strip()
        if count_tokens(candidate) > PROMPT_TOKENS_WANTED:
            break
        text = candidate
    return text


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- one configuration, in a child process -------------------------------------------------------


def run_reference(rounds: int, new_tokens: int) -> dict:
    from llama_cpp import Llama

    from llmkit.models.assets import SMOLLM2_GGUF

    started = time.perf_counter()
    llm = Llama(str(SMOLLM2_GGUF.path()), n_ctx=2048, n_threads=THREADS, verbose=False)
    load_s = time.perf_counter() - started
    template = _llamacpp_render(llm)
    prompt = fifty_token_prompt(lambda text: len(llm.tokenize(template(text).encode(), add_bos=False, special=True)))
    tokens = llm.tokenize(template(prompt).encode(), add_bos=False, special=True)
    story = llm.tokenize(template(STORY).encode(), add_bos=False, special=True)
    _reference_decode(llm, llm.tokenize(template(WARM_UP).encode(), add_bos=False, special=True), 8)
    ttfts, rates = [], []
    for _ in range(rounds):
        ttfts.append(_reference_decode(llm, tokens, 1)[0])
        rates.append(_reference_decode(llm, story, new_tokens)[1])
    return _summary(load_s, ttfts, rates, len(tokens))


def _llamacpp_render(llm):
    from llmkit.models import render_chat_template as render

    template = llm.metadata["tokenizer.chat_template"]
    bos, eos = (llm._model.token_get_text(t) for t in (llm.token_bos(), llm.token_eos()))
    return lambda text: render(template, [{"role": "user", "content": text}], add_generation_prompt=True,
                               bos_token=bos, eos_token=eos)  # fmt: skip


def _reference_decode(llm, tokens: list[int], count: int) -> tuple[float, float]:
    llm.reset()
    started = time.perf_counter()
    first = last = started
    produced = 0
    for _ in llm.generate(tokens, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, reset=True):
        produced += 1
        last = time.perf_counter()
        if produced == 1:
            first = last
        if produced == count:
            break
    rate = (produced - 1) / (last - first) if produced > 1 else 0.0
    return first - started, rate


def run_hf_generate(rounds: int, new_tokens: int, dtype_name: str) -> dict:
    import torch

    from llmkit import Engine, Prompt
    from llmkit.generation.backends.transformers import encode_prompt

    import_s = _import_libraries()
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    engine = Engine(precision=dtype_name, threads=THREADS)
    loaded = engine.backend_for().loaded
    loaded.model  # noqa: B018 - build the transformers model now, as part of the load
    load_s = time.perf_counter() - started
    prompt = fifty_token_prompt(lambda text: len(encode_prompt(loaded, Prompt.of(text))))
    ids = torch.tensor([encode_prompt(loaded, Prompt.of(prompt))])
    story = torch.tensor([encode_prompt(loaded, Prompt.of(STORY))])
    ttfts, rates = [], []
    with torch.inference_mode():
        warm = torch.tensor([encode_prompt(loaded, Prompt.of(WARM_UP))])
        loaded.model.generate(warm, max_new_tokens=8, do_sample=False)
        for _ in range(rounds):
            began = time.perf_counter()
            loaded.model.generate(ids, max_new_tokens=1, do_sample=False)
            ttfts.append(time.perf_counter() - began)
            began = time.perf_counter()
            loaded.model.generate(story, max_new_tokens=1, do_sample=False)
            one = time.perf_counter() - began  # prefill + 1 token, subtracted to get decode speed
            began = time.perf_counter()
            loaded.model.generate(story, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
            rates.append((new_tokens - 1) / (time.perf_counter() - began - one))
    return {**_summary(load_s, ttfts, rates, ids.shape[1]), "import_s": import_s}


def _import_libraries() -> float:
    """Imports are a process cost, not a model-load cost: timed apart. torch, transformers and the
    model family's code (transformers imports it lazily on first use): ~3-4 s here."""
    started = time.perf_counter()
    import torch  # noqa: F401
    import transformers  # noqa: F401
    import transformers.models.llama.configuration_llama  # noqa: F401
    import transformers.models.llama.modeling_llama  # noqa: F401
    from transformers import AutoConfig, GenerationConfig, PreTrainedTokenizerFast  # noqa: F401

    return time.perf_counter() - started


def run_llmkit(
    rounds: int, new_tokens: int, backend: str, precision: str, int4: bool | None = None, int4_head: bool = False
) -> dict:
    from llmkit import Engine, Prompt

    import_s = _import_libraries() if backend == "transformers" else 0.0
    started = time.perf_counter()
    engine = Engine(precision=precision, threads=THREADS)
    chosen = engine.backend_for(backend=backend)
    if (int4 is False or int4_head) and chosen.fast is not None:  # a variant of the lean decoder
        from safetensors.torch import load_file

        from llmkit.generation.fastpath import FastDecoder

        weights = load_file(str(chosen.loaded.safetensors_file()))
        chosen.fast = FastDecoder(chosen.loaded.config, weights, int4=int4 is not False, int4_head=int4_head)
    load_s = time.perf_counter() - started
    prompt = fifty_token_prompt(lambda text: chosen.count_prompt_tokens(Prompt.of(text)))
    engine.generate(WARM_UP, backend=backend, max_new_tokens=8)  # the same warm-up as every configuration
    ttfts, warm_ttfts, rates = [], [], []
    for _ in range(rounds):
        if getattr(chosen, "fast", None) is not None:
            chosen.fast.reset()  # cold: nothing to reuse
        ttfts.append(engine.generate(prompt, backend=backend, max_new_tokens=1).stats.ttft_s)
        warm_ttfts.append(engine.generate(prompt, backend=backend, max_new_tokens=1).stats.ttft_s)
        result = engine.generate(STORY, backend=backend, max_new_tokens=new_tokens, ignore_eos=True)
        assert result.stats.completion_tokens == new_tokens
        rates.append(result.stats.tokens_per_s)
    summary = _summary(load_s, ttfts, rates, chosen.count_prompt_tokens(Prompt.of(prompt)))
    summary["ttft_warm_ms_all"] = [t * 1000 for t in warm_ttfts]
    summary["import_s"] = import_s
    return summary


def _summary(load_s: float, ttfts: list[float], rates: list[float], prompt_tokens: int) -> dict:
    return {
        "load_s": load_s,
        "ttft_ms_all": [t * 1000 for t in ttfts],
        "tokens_per_s_all": [round(r, 1) for r in rates],
        "prompt_tokens": prompt_tokens,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_one(name: str, rounds: int, new_tokens: int) -> dict:
    runners = {
        "reference-llama.cpp": lambda: run_reference(rounds, new_tokens),
        "hf-generate-fp32": lambda: run_hf_generate(rounds, new_tokens, "fp32"),
        "hf-generate-bf16": lambda: run_hf_generate(rounds, new_tokens, "bf16"),
        "llmkit-loop-fp32": lambda: run_llmkit(rounds, new_tokens, "transformers", "fp32"),
        "llmkit-fast-bf16": lambda: run_llmkit(rounds, new_tokens, "transformers", "auto", int4=False),
        "llmkit-transformers": lambda: run_llmkit(rounds, new_tokens, "transformers", "auto"),
        "llmkit-int4-head": lambda: run_llmkit(rounds, new_tokens, "transformers", "auto", int4_head=True),
        "llmkit-llamacpp": lambda: run_llmkit(rounds, new_tokens, "llamacpp", "auto"),
    }
    return runners[name]()


# ---- the parent: run each configuration in a fresh process, print the table ----------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--only", nargs="*", default=CONFIGS, choices=CONFIGS)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--runtimes", action="store_true", help="compare the llamacpp backend's two runtimes")
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per configuration (or runtime)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-runtime", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.rounds, args.new_tokens)))
        return
    if args.child_runtime:
        print(json.dumps(run_runtime(args.child_runtime, args.rounds, args.new_tokens)))
        return
    if args.runtimes:
        runs = compare_runtimes(args.processes, args.rounds, args.new_tokens)
        print_runtimes(runs, args.new_tokens)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(runs, handle, indent=2)
        return
    _warm_conversion_cache()
    passes: list[dict] = []
    for number in range(args.processes):
        order = args.only if number % 2 == 0 else list(reversed(args.only))
        passes.append({})
        for name in order:
            print(f"pass {number + 1}: running {name} ...", file=sys.stderr, flush=True)
            command = [sys.executable, __file__, "--child", name, "--rounds", str(args.rounds),
                       "--new-tokens", str(args.new_tokens)]  # fmt: skip
            env = {**os.environ, "OMP_NUM_THREADS": str(THREADS), "PYTHONWARNINGS": "ignore"}
            out = subprocess.run(command, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                print(f"{name} failed:\n{out.stderr[-3000:]}", file=sys.stderr)
                continue
            passes[-1][name] = json.loads(out.stdout.strip().splitlines()[-1])
    results = combine(passes)
    print_table(results, args.new_tokens, args.processes, args.rounds)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"combined": results, "passes": passes}, handle, indent=2)


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _all(runs: list[dict], key: str) -> list[float]:
    return [value for run in runs for value in run.get(key, [])]


def combine(passes: list[dict]) -> dict:
    """Every configuration's rounds over all its processes, and its decode ratio to the reference per pass."""
    names = list(dict.fromkeys(name for run in passes for name in run))
    results = {}
    for name in names:
        runs = [run[name] for run in passes if name in run]
        ratios = [
            statistics.median(run[name]["tokens_per_s_all"])
            / statistics.median(run["reference-llama.cpp"]["tokens_per_s_all"])
            for run in passes
            if name in run and "reference-llama.cpp" in run
        ]
        results[name] = {
            "processes": len(runs),
            "import_s": spread([r.get("import_s", 0.0) for r in runs]),
            "load_s": spread([r["load_s"] for r in runs]),
            "prompt_tokens": runs[0]["prompt_tokens"],
            "ttft_ms": spread(_all(runs, "ttft_ms_all")),
            "ttft_warm_ms": spread(_all(runs, "ttft_warm_ms_all")) if _all(runs, "ttft_warm_ms_all") else None,
            "tokens_per_s": spread(_all(runs, "tokens_per_s_all")),
            "ratio_to_reference": spread(ratios) if ratios else None,
            "peak_rss_mb": spread([r["peak_rss_mb"] for r in runs]),
        }
    return results


def _warm_conversion_cache() -> None:
    """The one-time GGUF conversion is not part of any configuration's load time."""
    subprocess.run([sys.executable, "-c", "import llmkit; llmkit.Engine().backend_for()"], check=True,
                   capture_output=True)  # fmt: skip


def print_table(results: dict, new_tokens: int, processes: int, rounds: int) -> None:
    def cell(value: dict | None, digits: int, suffix: str = "") -> str:
        if value is None:
            return "-"
        return f"{value['median']:.{digits}f}{suffix} ({value['min']:.{digits}f}-{value['max']:.{digits}f})"

    print(f"\nSmolLM2-135M-Instruct, {THREADS} threads, greedy, {new_tokens} new tokens; {processes} processes "
          f"per configuration, alternated, {rounds} rounds each; median (min-max)\n")  # fmt: skip
    header = ("| configuration | imports s | cached load s | prompt tok | TTFT ms (cold) | TTFT ms (same prompt again) "
              "| decode tok/s | vs llama.cpp (per pass) | peak RSS MB |")  # fmt: skip
    print(header)
    print("|" + "---|" * 9)
    for name, r in results.items():
        print(f"| {name} | {r['import_s']['median']:.2f} | {cell(r['load_s'], 2)} | {r['prompt_tokens']} "
              f"| {cell(r['ttft_ms'], 0)} | {cell(r['ttft_warm_ms'], 0)} | {cell(r['tokens_per_s'], 1)} "
              f"| {cell(r['ratio_to_reference'], 2, 'x')} | {r['peak_rss_mb']['median']:.0f} |")  # fmt: skip


# ---- the llamacpp backend's two runtimes, alternated in fresh processes ---------------------------
# xllamacpp (prebuilt wheel) against llama-cpp-python (compiled here), both behind llmkit's llamacpp
# backend, on the same GGUF, same settings: the same warm-up, then cold TTFT (a prompt never seen),
# decode speed past end-of-sequence, and the features the backend offers (streaming, JSON-Schema
# grammar, cancellation). Processes run A B B A A B ... so drift on a noisy machine hits both sides.

RUNTIME_NAMES = ("xllamacpp", "llama-cpp-python")


def run_runtime(runtime: str, rounds: int, new_tokens: int) -> dict:
    import json as json_module

    from llmkit import CancelToken, Engine, TextDelta, load_settings

    started = time.perf_counter()
    engine = Engine(settings=load_settings(backend="llamacpp", llamacpp_runtime=runtime, threads=THREADS))
    engine.backend_for()
    load_s = time.perf_counter() - started
    engine.generate("Say hello.", max_new_tokens=8)  # the same warm-up on both sides
    ttfts, rates = [], []
    for round_index in range(rounds):
        cold = f"Case {round_index}: list the main risks of running a model on a small CPU."
        ttfts.append(engine.generate(cold, max_new_tokens=1).stats.ttft_s)
        result = engine.generate(STORY, max_new_tokens=new_tokens, ignore_eos=True)
        assert result.stats.completion_tokens == new_tokens, result.stats
        rates.append(result.stats.tokens_per_s)
    events = list(engine.stream("Count from one to twenty.", max_new_tokens=40))
    deltas = sum(isinstance(e, TextDelta) for e in events)
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 24},
              "people": {"type": "integer"}}, "required": ["city", "people"], "additionalProperties": False}  # fmt: skip
    valid = 0
    for seed in range(5):
        text = engine.generate(
            "Describe a city.", max_new_tokens=60, json_schema=schema, temperature=0.8, seed=seed
        ).text
        try:
            data = json_module.loads(text)
            valid += isinstance(data.get("city"), str) and isinstance(data.get("people"), int)
        except json_module.JSONDecodeError:
            pass
    cancel = CancelToken()
    stream = engine.stream("Write a very long story about a ship.", max_new_tokens=400, cancel=cancel)
    next(e for e in stream if isinstance(e, TextDelta))
    cancelled_at = time.perf_counter()
    cancel.cancel()
    final = list(stream)[-1]
    cancel_ms = (time.perf_counter() - cancelled_at) * 1000
    return {
        "load_s": load_s, "ttft_ms": [t * 1000 for t in ttfts], "tokens_per_s": rates, "stream_deltas": deltas,
        "json_schema_valid": f"{valid}/5", "cancel_reason": final.stats.finish_reason,
        "tokens_after_cancel": final.stats.completion_tokens, "cancel_ms": cancel_ms, "peak_rss_mb": peak_rss_mb(),
    }  # fmt: skip


def compare_runtimes(processes: int, rounds: int, new_tokens: int) -> dict:
    order = [RUNTIME_NAMES[(i + i // 2) % 2] for i in range(2 * processes)]  # A B B A A B B A ...
    runs: dict[str, list[dict]] = {name: [] for name in RUNTIME_NAMES}
    for name in order:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--child-runtime", name, "--rounds", str(rounds),
                   "--new-tokens", str(new_tokens)]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": str(THREADS), "PYTHONWARNINGS": "ignore"}
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def print_runtimes(runs: dict[str, list[dict]], new_tokens: int) -> None:
    def spread(values: list[float], digits: int) -> str:
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    print(f"\nllamacpp backend runtimes, SmolLM2-135M Q4_1, {THREADS} threads, greedy, {new_tokens} new tokens; "
          f"{len(runs[RUNTIME_NAMES[0]])} processes each, alternated; median (min-max) over every round\n")  # fmt: skip
    print("| runtime | load s | TTFT ms (cold) | decode tok/s | stream deltas | JSON schema valid | "
          "after cancel: reason, tokens, ms | peak RSS MB |")  # fmt: skip
    print("|" + "---|" * 8)
    medians = {}
    for name, items in runs.items():
        rates = [r for item in items for r in item["tokens_per_s"]]
        ttfts = [t for item in items for t in item["ttft_ms"]]
        medians[name] = statistics.median(rates)
        last = items[-1]
        print(f"| {name} | {spread([i['load_s'] for i in items], 2)} | {spread(ttfts, 0)} | {spread(rates, 1)} | "
              f"{last['stream_deltas']} | {last['json_schema_valid']} | {last['cancel_reason']}, "
              f"{last['tokens_after_cancel']}, {spread([i['cancel_ms'] for i in items], 0)} | "
              f"{statistics.median(i['peak_rss_mb'] for i in items):.0f} |")  # fmt: skip
    ratio = medians["xllamacpp"] / medians["llama-cpp-python"]
    print(f"\ndecode speed xllamacpp / llama-cpp-python: {ratio:.2f}x")


if __name__ == "__main__":
    main()
