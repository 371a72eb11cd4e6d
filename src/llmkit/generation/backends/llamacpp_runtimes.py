"""The two libraries that can run llama.cpp for the llamacpp backend, behind one small interface.

- `xllamacpp` ships llama.cpp prebuilt (a manylinux wheel): installs in seconds. It exposes llama.cpp's own
  server in-process; llmkit streams completions from it through a callback and tokenizes through the
  server's loopback endpoint (bound to 127.0.0.1 and locked with a random key).
- `llama-cpp-python` compiles llama.cpp from source (about 12 minutes on 2 cores); llmkit drives its
  token-by-token `generate` loop.

Both take token ids in and give text pieces out, so the backend renders prompts, checks the context
window, applies stop strings and measures stats the same way whichever runs.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from llmkit.errors import ConfigError, EndpointError, MissingExtraError, ModelFileError
from llmkit.extras import require
from llmkit.generation.types import CancelToken, SamplingParams

RUNTIMES = ("xllamacpp", "llama-cpp-python")


@dataclass(frozen=True)
class Piece:
    """One generated token's text (may be empty while a multi-byte character is incomplete)."""

    text: str
    end: bool = False  # the model ended the sequence (end-of-generation token)


class LlamaRuntime(Protocol):
    context_length: int
    chat_template: str | None
    bos_text: str
    eos_text: str

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]: ...

    def pieces(self, tokens: list[int], params: SamplingParams, budget: int, cancel: CancelToken) -> Iterator[Piece]:
        """Generated tokens' text, one piece per token, until the budget, end of sequence or a cancel."""
        ...

    def close(self) -> None: ...


def open_runtime(choice: str, path: Path, n_ctx: int, threads: int, gpu: bool) -> LlamaRuntime:
    """Load the GGUF with the runtime the setting names; `auto` prefers the prebuilt xllamacpp."""
    if choice not in ("auto", *RUNTIMES):
        raise ConfigError(f"llamacpp_runtime must be auto, {' or '.join(RUNTIMES)}; got {choice!r}")
    if choice == "xllamacpp" or (choice == "auto" and _importable("xllamacpp")):
        return XLlamaCppRuntime(path, n_ctx, threads, gpu)
    if choice == "llama-cpp-python" or _importable("llama_cpp"):
        return LlamaCppPythonRuntime(path, n_ctx, threads, gpu)
    raise MissingExtraError("xllamacpp", "llamacpp", "the llamacpp backend")


def installed() -> bool:
    """Whether any llama.cpp runtime is installed (without importing it)."""
    return _importable("xllamacpp") or _importable("llama_cpp")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ---- xllamacpp -------------------------------------------------------------------------------------


class XLlamaCppRuntime:
    def __init__(self, path: Path, n_ctx: int, threads: int, gpu: bool):
        xllamacpp = require("xllamacpp", "the llamacpp backend")
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_parallel = 1  # one slot: requests are serialised by the backend's lock, as in llama-cpp-python
        params.n_gpu_layers = -1 if gpu else 0
        params.verbosity = -1  # llama.cpp's own log lines would interleave with the streamed text
        if threads:
            params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
        # The library also serves HTTP on a free loopback port; a random key keeps other local users out.
        self._key = secrets.token_urlsafe(24)
        params.api_keys = [self._key]
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as exc:
            raise ModelFileError(str(path), "a GGUF model llama.cpp can load", str(exc)) from exc
        self._base = self._server.listening_address
        props = self._get("/props")
        self.context_length = int(props.get("default_generation_settings", {}).get("n_ctx") or n_ctx)
        self.chat_template = props.get("chat_template") or None
        self.bos_text, self.eos_text = props.get("bos_token") or "", props.get("eos_token") or ""

    def _get(self, route: str) -> dict:
        import httpx

        return self._checked(httpx.get(self._base + route, headers=self._headers(), timeout=60))

    def _post(self, route: str, body: dict) -> dict:
        import httpx

        return self._checked(httpx.post(self._base + route, json=body, headers=self._headers(), timeout=600))

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    @staticmethod
    def _checked(response: Any) -> dict:
        if response.status_code != 200:
            raise EndpointError("llama.cpp (xllamacpp)", f"answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        body = {"content": text, "add_special": add_bos, "parse_special": True}
        return list(self._post("/tokenize", body)["tokens"])

    def pieces(self, tokens: list[int], params: SamplingParams, budget: int, cancel: CancelToken) -> Iterator[Piece]:
        request = _completion_request(tokens, params, budget)
        chunks: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()  # set when the consumer goes away: the callback then tells llama.cpp to stop

        def on_chunk(chunk: Any) -> bool:  # runs on llama.cpp's side; True tells it to stop generating
            chunks.put(chunk)
            return stop.is_set() or cancel.cancelled

        worker = threading.Thread(target=self._run, args=(request, on_chunk, chunks), daemon=True)
        worker.start()
        try:
            yield from _pieces_from_chunks(chunks)
        finally:
            stop.set()
            worker.join()

    def _run(self, request: dict, on_chunk: Any, chunks: queue.Queue) -> None:
        try:
            reply = self._server.handle_completions(request, on_chunk)
            if isinstance(reply, dict) and "error" in reply:  # refused before streaming began
                chunks.put(reply)
        except Exception as exc:  # noqa: BLE001 - handed to the consuming thread, which raises it
            chunks.put(exc)
        finally:
            chunks.put(None)

    def close(self) -> None:
        self._server = None  # the destructor stops llama.cpp's loop and frees the model


def _completion_request(tokens: list[int], params: SamplingParams, budget: int) -> dict:
    request: dict[str, Any] = {
        "prompt": tokens,
        "max_tokens": budget,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "repeat_penalty": params.repetition_penalty,
        "min_p": 0.0,  # the server's default (0.05) would filter where llmkit's other backends do not
        "ignore_eos": params.ignore_eos,
        "stream": True,
        "cache_prompt": True,
    }
    if params.seed is not None:
        request["seed"] = params.seed
    if params.json_schema is not None:
        request["json_schema"] = params.json_schema
    return request


def _pieces_from_chunks(chunks: queue.Queue) -> Iterator[Piece]:
    while True:
        chunk = chunks.get()
        if chunk is None:
            return
        if isinstance(chunk, Exception):
            raise chunk
        if isinstance(chunk, str):
            chunk = json.loads(chunk)
        if "error" in chunk:
            error = chunk["error"]
            raise EndpointError("llama.cpp (xllamacpp)", str(error.get("message", error) if isinstance(error, dict) else error))
        for choice in chunk.get("choices", []):
            if choice.get("text") or choice.get("finish_reason") is None:
                yield Piece(choice.get("text") or "")
            if choice.get("finish_reason") == "stop":
                yield Piece("", end=True)


# ---- llama-cpp-python ------------------------------------------------------------------------------


class LlamaCppPythonRuntime:
    def __init__(self, path: Path, n_ctx: int, threads: int, gpu: bool):
        import os

        llama_cpp = require("llama_cpp", "the llamacpp backend (llama-cpp-python runtime)")
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads or os.cpu_count(),
                n_gpu_layers=-1 if gpu else 0,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelFileError(str(path), "a GGUF model llama.cpp can load", str(exc)) from exc
        self.context_length = n_ctx
        self.chat_template = self.llm.metadata.get("tokenizer.chat_template") or None
        self.bos_text = self.llm._model.token_get_text(self.llm.token_bos())
        self.eos_text = self.llm._model.token_get_text(self.llm.token_eos())

    def tokenize(self, text: str, *, add_bos: bool) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=add_bos, special=True)

    def pieces(self, tokens: list[int], params: SamplingParams, budget: int, cancel: CancelToken) -> Iterator[Piece]:
        import llama_cpp

        from llmkit.generation.streaming import IncrementalDetokenizer

        llm = self.llm
        if params.seed is not None:
            llm.set_seed(params.seed)
        llm.reset()
        grammar = None
        if params.json_schema is not None:
            grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(params.json_schema), verbose=False)
        generator = llm.generate(
            tokens,
            grammar=grammar,
            temp=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            repeat_penalty=params.repetition_penalty,
            min_p=0.0,
            reset=True,
        )
        detokenizer = IncrementalDetokenizer(lambda ids: llm.detokenize(list(ids)).decode("utf-8", errors="replace"))
        try:
            for token in generator:
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token) and not params.ignore_eos:
                    yield Piece("", end=True)
                    return
                yield Piece(detokenizer.push(token))
        finally:
            generator.close()

    def close(self) -> None:
        self.llm.close()
