"""Loading models into transformers: by catalog entry, hub id, local directory or GGUF file.

GGUF files are dequantized by transformers, which takes ~15-60 s. The result is cached once as
safetensors + config + tokenizer under ``<cache_dir>/converted/<file>-<fingerprint>/``, so later loads
read plain safetensors (about a second).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from llmkit.config import Settings
from llmkit.errors import ConfigError, MissingAssetError, ModelFileError, OutOfMemoryError, UnsupportedError
from llmkit.extras import require
from llmkit.models.catalog import ModelEntry

log = logging.getLogger(__name__)
T = TypeVar("T")
# transformers imports torchao whenever it is installed (the lab extra): on a CPU machine torchao then warns
# that its CUDA kernels did not load and torch that its Enum registrations are deprecated. Neither concerns a
# model llmkit loads, and both printed above every first answer.
for _noisy in ("torchao", "torch.utils._pytree"):
    logging.getLogger(_noisy).setLevel(logging.ERROR)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
QUANTIZATIONS = ("none", "8bit", "4bit")
GGUF_MAGIC = b"GGUF"
_CONVERSION_VERSION = "3"  # bump when the cached files change (3: SmolLM2 digit pre-tokenizer)


@dataclass(frozen=True)
class LoadOptions:
    precision: str = "auto"
    quantization: str = "none"
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.quantization not in QUANTIZATIONS:
            raise ConfigError(f"quantization must be one of {', '.join(QUANTIZATIONS)}, got {self.quantization!r}")

    @classmethod
    def from_settings(cls, settings: Settings) -> LoadOptions:
        return cls(settings.precision, settings.quantization, settings.device, settings.threads)


class LoadedModel:
    """Tokenizer, config and (built on first use) the transformers model of one entry."""

    def __init__(
        self, *, entry: ModelEntry, tokenizer: Any, config: Any, device: str, dtype: Any, source: str,
        build: Callable[[], Any], converted_now: bool = False, source_weight_bits: int | None = None,
    ):  # fmt: skip
        self.entry, self.tokenizer, self.config = entry, tokenizer, config
        self.device, self.dtype, self.source = device, dtype, source
        self.converted_now = converted_now  # True when this load paid for the GGUF conversion
        self.source_weight_bits = source_weight_bits  # for a converted GGUF: bits per weight (4 = Q4)
        self.load_s = 0.0
        self._build = build
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The transformers model, built on first access (the lean CPU decoder does not need it)."""
        if self._model is None:
            self._model = self._build()
        return self._model

    @property
    def model_is_built(self) -> bool:
        return self._model is not None

    @property
    def context_length(self) -> int:
        return self.entry.context_length or int(getattr(self.config, "max_position_embeddings", 0) or 0)

    def prompt_ids(self, messages: list[dict[str, str]] | None = None, raw: str | None = None) -> list[int]:
        """Token ids the model reads: the chat rendered by its own template (through the one renderer),
        or raw text. A template writes any BOS it wants itself, so none is added to a rendered chat."""
        from llmkit.models.chat_template import render_prompt_text

        if raw is not None:
            return list(self.tokenizer(raw, add_special_tokens=True)["input_ids"])
        template = self.tokenizer.chat_template
        text = render_prompt_text(
            messages or [], template, bos_token=self.tokenizer.bos_token or "", eos_token=self.tokenizer.eos_token or ""
        )
        return list(self.tokenizer(text, add_special_tokens=not template)["input_ids"])

    def safetensors_file(self) -> Path | None:
        """The single weights file of a local model directory, if it has exactly one."""
        path = Path(self.source) / "model.safetensors"
        return path if path.is_file() else None

    def memory_bytes(self) -> int:
        """Real bytes of parameters and buffers (get_memory_footprint misreports some quantizers)."""
        if self._model is None:
            return 0
        tensors = list(self._model.parameters()) + list(self._model.buffers())
        return sum(t.numel() * t.element_size() for t in tensors)

    def unload(self) -> None:
        self._model = None
        self.tokenizer = None
        free_memory()


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UnsupportedError(f"device {device!r} asked for, but torch sees no CUDA GPU; use --device cpu")
    return device


def resolve_dtype(precision: str, device: str) -> Any:
    import torch

    if precision == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        # On CPU, fp32 decodes faster than bf16 for small models here (see docs/benchmarks.md).
        return torch.float32
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def quantization_config(quantization: str, device: str) -> Any | None:
    """bitsandbytes config: NF4 + double quantization + bf16 compute, the standard 4-bit recipe."""
    if quantization == "none":
        return None
    require("bitsandbytes", f"{quantization} quantization")
    import torch
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        # bitsandbytes warns on every 8-bit matmul that fp32 inputs are cast to fp16: once is plenty.
        warnings.filterwarnings("once", message="MatMul8bitLt")
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def with_oom_retry(fn: Callable[[], T], what: str, remedy: str) -> T:
    """Run fn; on CUDA out-of-memory free the cache and retry once, then raise a clear error."""
    import torch

    try:
        return fn()
    except torch.OutOfMemoryError:
        log.warning("out of memory while %s; freeing the cache and retrying once", what)
    free_memory()
    try:
        return fn()
    except torch.OutOfMemoryError as exc:
        free_memory()
        raise OutOfMemoryError(what, remedy) from exc


def check_gguf_file(path: Path) -> None:
    if not path.is_file():
        raise ModelFileError(str(path), "a GGUF model file", "file not found")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(str(path), "a GGUF file (starts with the bytes 'GGUF')", f"starts with {magic!r}")


def gguf_cache_dir(gguf: Path, settings: Settings) -> Path:
    """Keyed by the file's content (size, head and tail), not its path: the same model installed in
    several virtual environments shares one conversion."""
    digest = hashlib.sha256(f"{_CONVERSION_VERSION}|{gguf.stat().st_size}|".encode())
    with gguf.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        handle.seek(max(0, gguf.stat().st_size - (1 << 20)))
        digest.update(handle.read())
    return Path(settings.cache_dir) / "converted" / f"{gguf.stem}-{digest.hexdigest()[:16]}"


def _cache_is_complete(directory: Path) -> bool:
    return (directory / "model.safetensors").is_file() and (directory / "llmkit-converted.json").is_file()


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantize a GGUF into a transformers directory, written atomically (temp dir, then rename)."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_gguf_file(gguf)
    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:  # noqa: BLE001 - any parse failure of the user's file means a broken file
        problem = f"could not be read ({type(exc).__name__}: {exc}); truncated or corrupted?"
        raise ModelFileError(str(gguf), "a complete GGUF model file", problem) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        save_model(model, str(staging / "model.safetensors"))  # handles the tied embedding/lm_head
        model.config.save_pretrained(staging)
        _drop_gguf_quantization_flag(staging / "config.json")
        model.generation_config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        _match_reference_pre_tokenizer(staging / "tokenizer.json", gguf)
        marker = {
            "source": str(gguf),
            "seconds": round(time.perf_counter() - started, 2),
            "weight_bits": gguf_weight_bits(gguf),
        }
        (staging / "llmkit-converted.json").write_text(json.dumps(marker))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


# GGUF pre-tokenizer names whose original tokenizer splits every digit (\p{N}) apart before the byte-level
# regex; transformers' GGUF conversion writes only the byte-level step. Checked against llama.cpp's tokenizer.
_DIGIT_SPLITTING_PRE_TOKENIZERS = {"smollm", "starcoder", "refact"}


def _match_reference_pre_tokenizer(tokenizer_json: Path, gguf: Path) -> None:
    from llmkit.models.gguf_header import read_gguf_header

    pre_type = str(read_gguf_header(gguf).metadata.get("tokenizer.ggml.pre") or "")
    if pre_type not in _DIGIT_SPLITTING_PRE_TOKENIZERS or not tokenizer_json.is_file():
        return
    data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    data["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [{"type": "Digits", "individual_digits": True}, data["pre_tokenizer"]],
    }
    tokenizer_json.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def gguf_weight_bits(gguf: Path) -> int:
    """Bits per weight of most of the GGUF's matrices (4 for Q4_0/Q4_1/Q4_K/IQ4, else 8 or 16)."""
    from collections import Counter

    from gguf import GGMLQuantizationType

    from llmkit.models.gguf_header import read_gguf_header

    header = read_gguf_header(gguf)
    kinds = Counter(GGMLQuantizationType(kind).name for _, dims, kind in header.tensor_types if dims == 2)
    common = kinds.most_common(1)[0][0] if kinds else "F32"
    if common.startswith(("Q4", "IQ4")):
        return 4
    return 8 if common.startswith(("Q5", "Q6", "Q8")) else 16


def converted_weight_bits(directory: Path) -> int | None:
    marker = directory / "llmkit-converted.json"
    if not marker.is_file():
        return None
    return json.loads(marker.read_text()).get("weight_bits")


def _drop_gguf_quantization_flag(config_path: Path) -> None:
    # The weights are plain floats now; the flag would make transformers treat them as GGUF again.
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2))


def weights_source(entry: ModelEntry, settings: Settings) -> tuple[str, bool]:
    """Where transformers reads this entry from, converting a GGUF first if needed: (source, converted)."""
    if entry.embedded is not None and entry.gguf_file is None:
        raise MissingAssetError(f"the embedded model {entry.name}", entry.embedded.install_line)
    gguf = entry.gguf_file
    if gguf is not None:
        check_gguf_file(gguf)
        cache = gguf_cache_dir(gguf, settings)
        if _cache_is_complete(cache):
            return str(cache), False
        log.info("converting %s once to %s", gguf, cache)
        convert_gguf(gguf, cache)
        return str(cache), True
    if entry.local_path:
        return entry.local_path, False
    return entry.hub_id, False


def load_tokenizer(source: str) -> Any:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if (Path(source) / "llmkit-converted.json").is_file():
        # Our own conversion holds a plain tokenizer.json: loading it directly skips ~1 s of
        # AutoTokenizer's class resolution in a cold process. Other models may need their own class.
        return PreTrainedTokenizerFast.from_pretrained(source)
    return AutoTokenizer.from_pretrained(source)


def load_transformers(entry: ModelEntry, options: LoadOptions, settings: Settings) -> LoadedModel:
    """Tokenizer and config now; the model itself when `.model` is first used."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    started = time.perf_counter()
    if options.threads:
        torch.set_num_threads(options.threads)
    device = resolve_device(options.device)
    dtype = resolve_dtype(options.precision, device)
    source, converted = weights_source(entry, settings)
    kwargs: dict[str, Any] = {"dtype": dtype}
    quant = quantization_config(options.quantization, device)
    if quant is not None:
        kwargs["quantization_config"] = quant
    if device.startswith("cuda"):
        kwargs["device_map"] = "auto" if device == "cuda" else device  # auto: spread over every GPU

    def load() -> Any:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        if "device_map" not in kwargs and quant is None:
            model = model.to(device)
        return model.eval()

    def build() -> Any:
        try:
            return with_oom_retry(load, f"loading {entry.name}", _smaller_precision_remedy(options))
        except (OSError, ValueError, KeyError) as exc:
            raise _load_error(entry, source, exc) from exc

    try:
        tokenizer = load_tokenizer(source)
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise _load_error(entry, source, exc) from exc
    loaded = LoadedModel(
        entry=entry, tokenizer=tokenizer, config=config, device=device, dtype=dtype, source=source,
        build=build, converted_now=converted, source_weight_bits=converted_weight_bits(Path(source)),
    )  # fmt: skip
    loaded.load_s = time.perf_counter() - started
    return loaded


def _smaller_precision_remedy(options: LoadOptions) -> str:
    if options.quantization != "4bit":
        return "try --quantization 4bit (or 8bit), or a smaller model"
    return "try a smaller model, or serve it from a bigger machine with the openai backend"


def _load_error(entry: ModelEntry, source: str, exc: Exception) -> Exception:
    if Path(source).exists():
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        expected = "a transformers model directory (config.json, tokenizer files, *.safetensors weights)"
        return ModelFileError(source, expected, f"could not be loaded: {first_line}")
    return ModelFileError(
        source,
        f"hub id {entry.hub_id or source} in the local Hugging Face cache, or network access to download it",
        f"could not be loaded ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
    )


def has_chat_template(entry: ModelEntry) -> bool:
    """Whether the model ships a chat template: the catalog says so for its entries; a GGUF file says so in
    its metadata; other models are assumed to (their tokenizer decides when it loads)."""
    if not entry.chat_template:
        return False
    gguf = entry.gguf_file if entry.source != "catalog" else None
    if gguf is None or not gguf.is_file():
        return True
    from llmkit.models.gguf_header import read_gguf_header

    return "tokenizer.chat_template" in read_gguf_header(gguf).metadata
