"""`llmkit serve` under concurrent streams, side by side with llama.cpp's own server on the same GGUF.

For 1, 4 and 16 concurrent streaming chat requests (greedy, a fixed number of tokens past end-of-sequence):
aggregate decode tokens/s (all tokens / wall time) and time to first token p50/p95, against
- llmkit serve, transformers backend (continuous batching on the lean decoder),
- llmkit serve, llamacpp backend (one llama.cpp slot: requests take turns),
- llama.cpp's server (xllamacpp, the prebuilt llama.cpp; `--parallel` slots = the stream count),
then 1 stream through llmkit in-process (the server's overhead), and 64 connections to llmkit serve
(48 idle WebSockets, 16 streaming): the server's memory, latency, and whether anything was dropped.
Targets run in alternating order across rounds; each server is its own process.

    .venv/bin/python benchmarks/serve.py [--tokens 32] [--rounds 2] [--streams 1,4,16] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"
PROMPTS = ["Write a story about a dragon.", "Explain how rain forms.", "Describe a busy market.", "List facts about the moon."]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_llmkit(backend: str, port: int, slots: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "llmkit", "serve", "--backend", backend, "--port", str(port),
               "--max-concurrency", str(slots), "--max-queue", "128"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


LLAMA_SERVER = """
import sys, time, xllamacpp
from llmkit.models.assets import SMOLLM2_GGUF
params = xllamacpp.CommonParams()
params.model.path = str(SMOLLM2_GGUF.path())
params.n_parallel = int(sys.argv[1])
params.n_ctx = 1024 * params.n_parallel  # each slot gets 1024 tokens
params.port = int(sys.argv[2])
params.verbosity = -1
params.cpuparams.n_threads = params.cpuparams_batch.n_threads = int(sys.argv[3])
server = xllamacpp.Server(params)
print(server.listening_address, flush=True)
while True:
    time.sleep(3600)
"""


def start_llama_server(port: int, slots: int) -> tuple[subprocess.Popen, str]:
    threads = os.environ["LLMKIT_THREADS"]
    process = subprocess.Popen([sys.executable, "-c", LLAMA_SERVER, str(slots), str(port), threads], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, cwd=ROOT)  # fmt: skip
    return process, process.stdout.readline().strip()


def wait_ready(base: str, path: str) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + path, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base} did not become ready")


async def one_stream(client: httpx.AsyncClient, url: str, prompt: str, tokens: int) -> tuple[float, int, float]:
    """(TTFT s, content chunks, end s) of one streamed chat request."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": tokens,
            "temperature": 0, "stream": True, "ignore_eos": True}  # fmt: skip
    started = time.perf_counter()
    first, count = None, 0
    async with client.stream("POST", url, json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"content"' in line and '"role"' not in line:
                count += 1
                first = first or time.perf_counter() - started
    return first or 0.0, count, time.perf_counter() - started


async def concurrent(base: str, streams: int, tokens: int) -> dict:
    url = base + "/v1/chat/completions"
    limits = httpx.Limits(max_connections=streams + 4)
    async with httpx.AsyncClient(timeout=1800, limits=limits) as client:
        await one_stream(client, url, "Hello", 4)  # warm: the first request pays one-time costs
        started = time.perf_counter()
        results = await asyncio.gather(*(one_stream(client, url, PROMPTS[i % len(PROMPTS)], tokens) for i in range(streams)))
        wall = time.perf_counter() - started
    ttfts = sorted(r[0] for r in results)
    total = sum(r[1] for r in results)
    return {"streams": streams, "tokens": total, "wall_s": wall, "tok_s": total / wall,
            "ttft_p50_ms": 1000 * statistics.median(ttfts), "ttft_p95_ms": 1000 * ttfts[min(len(ttfts) - 1, int(0.95 * len(ttfts)))]}  # fmt: skip


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith("VmRSS"))) / 1024


async def many_connections(base: str, idle: int, streaming: int, tokens: int, pid: int) -> dict:
    import websockets

    sockets = [await websockets.connect(base.replace("http", "ws") + "/v1/ws") for _ in range(idle)]
    try:
        result = await concurrent(base, streaming, tokens)
        alive = 0
        for socket in sockets:  # every idle socket still answers
            await socket.send(json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}))
            while (await socket.recv()) != "[DONE]":
                pass
            alive += 1
    finally:
        for socket in sockets:
            await socket.close()
    return {**result, "idle": idle, "idle_alive_after": alive, "rss_mb": rss_mb(pid)}


def in_process(tokens: int) -> dict:
    from llmkit import Engine, load_settings

    engine = Engine(settings=load_settings(backend="llamacpp"))
    engine.generate("Hello", max_new_tokens=4)
    started = time.perf_counter()
    result = engine.generate(PROMPTS[0], max_new_tokens=tokens, ignore_eos=True, temperature=0)
    wall = time.perf_counter() - started
    engine.close()
    return {"streams": 1, "tokens": result.stats.completion_tokens, "wall_s": wall,
            "tok_s": result.stats.completion_tokens / wall, "ttft_p50_ms": 1000 * result.stats.ttft_s}  # fmt: skip


def run_target(name: str, streams: int, tokens: int) -> dict:
    port = free_port()
    if name == "llama.cpp server":
        process, base = start_llama_server(port, streams)
        wait_ready(base, "/health")
    else:
        process = start_llmkit(name.split()[-1], port, streams)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, "/ready")
    try:
        return {"target": name, **asyncio.run(concurrent(base, streams, tokens))}
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--targets", default="llmkit transformers,llama.cpp server,llmkit llamacpp")
    parser.add_argument("--skip-connections", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for every target")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-bench-config.toml")
    os.environ["LLMKIT_THREADS"] = str(args.threads)  # llmkit serve, in-process and llama.cpp's server alike
    targets = args.targets.split(",")
    rows = []
    for round_number in range(args.rounds):
        order = targets if round_number % 2 == 0 else targets[::-1]
        for streams in (int(s) for s in args.streams.split(",")):
            for name in order:
                row = {"round": round_number + 1, **run_target(name, streams, args.tokens)}
                rows.append(row)
                print(f"round {row['round']} {name:<22} streams {streams:>2}: {row['tok_s']:7.1f} tok/s  "
                      f"TTFT p50 {row['ttft_p50_ms']:7.0f} ms p95 {row['ttft_p95_ms']:7.0f} ms", flush=True)  # fmt: skip
    solo = {"target": "llmkit in-process (llamacpp)", **in_process(args.tokens)}
    print(f"in-process 1 stream: {solo['tok_s']:.1f} tok/s, TTFT {solo['ttft_p50_ms']:.0f} ms", flush=True)
    crowd = None
    if not args.skip_connections:
        port = free_port()
        process = start_llmkit("transformers", port, 16)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, "/ready")
        try:
            crowd = asyncio.run(many_connections(base, 48, 16, args.tokens, process.pid))
        finally:
            process.terminate()
            process.wait()
        print(f"64 connections (48 idle WebSockets, 16 streaming): {crowd['tok_s']:.1f} tok/s, TTFT p50 "
              f"{crowd['ttft_p50_ms']:.0f} ms p95 {crowd['ttft_p95_ms']:.0f} ms, {crowd['tokens']} tokens, "
              f"idle sockets answering after: {crowd['idle_alive_after']}/48, server RSS {crowd['rss_mb']:.0f} MB")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "in_process": solo, "connections": crowd}, indent=1))


if __name__ == "__main__":
    main()
