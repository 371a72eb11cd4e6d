"""The quantization methods, one registry: each loads (or quantizes) a model that the measurements run on.

A method is a name, what it needs (packages, CUDA) and a `load(source, threads)` returning a model with
the transformers forward signature, or for `gguf` the llama.cpp runner. The worker process calls
exactly one of them; nothing here runs in the parent process.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmkit.errors import ConfigError


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    load: Callable[[str], Any]  # transformers source dir -> model (eval mode, on the CPU unless CUDA)
    packages: tuple[str, ...] = ()  # import names it needs
    needs_cuda: bool = False
    kind: str = "transformers"  # transformers | gguf
    install: str = "pip install 'llmkit[lab]'"

    def unavailable_reason(self, cuda: bool) -> str | None:
        """Why this method cannot run here, or None (checked in the parent without importing anything)."""
        missing = [p for p in self.packages if importlib.util.find_spec(p) is None]
        if missing:
            return f"needs the {', '.join(missing)} package(s): {self.install}"
        if self.needs_cuda and not cuda:
            return "needs CUDA (a GPU method); this machine has none"
        return None


_REGISTRY: dict[str, Method] = {}


def register_method(method: Method) -> None:
    """Add a method (built-ins are registered the same way)."""
    _REGISTRY[method.name] = method


def get_method(name: str) -> Method:
    if name not in _REGISTRY:
        raise ConfigError(f"unknown quantization method {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def method_names() -> list[str]:
    return list(_REGISTRY)


def _from_pretrained(source: str, **kwargs: Any) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs.setdefault("dtype", torch.float32)
    return AutoModelForCausalLM.from_pretrained(source, **kwargs).eval()


def _linear_layers(model: Any) -> list[tuple[Any, str, Any]]:
    """(parent, attribute, Linear) for every Linear in the decoder blocks; the output head stays (it is
    often tied to the embedding, and the quantizers keep it in float by default too)."""
    import torch

    found = []
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            if isinstance(child, torch.nn.Linear) and "lm_head" not in f"{name}.{child_name}":
                found.append((module, child_name, child))
    return found


def _dtype_loader(dtype_name: str) -> Callable[[str], Any]:
    def load(source: str) -> Any:
        import torch

        return _from_pretrained(source, dtype=getattr(torch, dtype_name))

    return load


def _int8_dynamic(source: str) -> Any:
    """Per-channel int8 weights (the per-tensor default loses far more on small models), activations
    quantized per batch at run time; the tied output head stays float."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    model = _from_pretrained(source)
    names = {f"{parent_name}.{child}" for parent_name, parent in model.named_modules()
             for child, module in parent.named_children() if isinstance(module, torch.nn.Linear)}  # fmt: skip
    spec = {name.lstrip("."): per_channel_dynamic_qconfig for name in names if "lm_head" not in name}
    return quantize_dynamic(model, spec, dtype=torch.qint8)


def _bnb(four_bit: bool) -> Callable[[str], Any]:
    def load(source: str) -> Any:
        import torch
        from transformers import BitsAndBytesConfig

        if four_bit:  # the course's 4-bit recipe: NF4, double quantization, bf16 compute
            config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                        bnb_4bit_compute_dtype=torch.bfloat16)  # fmt: skip
        else:
            warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
            config = BitsAndBytesConfig(load_in_8bit=True)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return _from_pretrained(source, quantization_config=config, device_map=device)

    return load


def _quanto(bits: int) -> Callable[[str], Any]:
    def load(source: str) -> Any:
        from optimum.quanto import freeze, qint4, qint8, quantize

        model = _from_pretrained(source)
        quantize(model, weights=qint8 if bits == 8 else qint4, exclude=["lm_head"])
        freeze(model)  # replace the float weights by their quantized storage
        return model

    return load


def _torchao(dynamic: bool) -> Callable[[str], Any]:
    def load(source: str) -> Any:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, Int8WeightOnlyConfig, quantize_

        model = _from_pretrained(source)
        config = Int8DynamicActivationInt8WeightConfig() if dynamic else Int8WeightOnlyConfig()
        quantize_(model, config, filter_fn=lambda module, fqn: "lm_head" not in fqn and _is_linear(module))
        return model

    return load


def _is_linear(module: Any) -> bool:
    import torch

    return isinstance(module, torch.nn.Linear)


def _hqq_4bit(source: str) -> Any:
    """HQQLinear on each Linear directly: transformers' HqqConfig path fails on the CPU here."""
    import torch
    from hqq.core.quantize import BaseQuantizeConfig, HQQLinear

    model = _from_pretrained(source)
    config = BaseQuantizeConfig(nbits=4, group_size=64)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for parent, name, linear in _linear_layers(model):
        setattr(parent, name, HQQLinear(linear, config, compute_dtype=torch.float32, device=device))
    return model


def _gpu_only(package: str) -> Callable[[str], Any]:
    def load(source: str) -> Any:
        raise RuntimeError(f"{package} quantizes with a calibration set on a GPU; not wired for this model")

    return load


def _gguf(source: str) -> Any:  # the worker opens the GGUF itself; see worker.run_gguf
    raise RuntimeError("gguf runs through llama.cpp, not transformers")


for _method in (
    Method("fp32", "float32 weights: the reference", _dtype_loader("float32")),
    Method("bf16", "bfloat16 weights", _dtype_loader("bfloat16")),
    Method("fp16", "float16 weights", _dtype_loader("float16")),
    Method("int8-dynamic", "torch dynamic quantization: int8 Linear weights, activations quantized per batch",
           _int8_dynamic),
    Method("bnb-int8", "bitsandbytes LLM.int8()", _bnb(False), ("bitsandbytes",)),
    Method("bnb-nf4", "bitsandbytes NF4, double quantization, bf16 compute", _bnb(True), ("bitsandbytes",)),
    Method("quanto-int8", "optimum-quanto int8 weights", _quanto(8), ("optimum.quanto",)),
    Method("quanto-int4", "optimum-quanto int4 weights (group-wise)", _quanto(4), ("optimum.quanto",)),
    Method("torchao-int8", "torchao int8 weight-only", _torchao(False), ("torchao",)),
    Method("torchao-int8-dynamic", "torchao int8 weights and dynamic int8 activations", _torchao(True),
           ("torchao",)),
    Method("hqq-4bit", "HQQ 4-bit, group size 64 (no calibration data)", _hqq_4bit, ("hqq",)),
    # llama-cpp-python: logits_all=True returns every position's full logits; xllamacpp's server API
    # returns at most the top n_probs per token, too few for a full-vocabulary KL divergence.
    Method("gguf", "the GGUF file's own quantization, run by llama.cpp", _gguf, ("llama_cpp",), kind="gguf",
           install="pip install llama-cpp-python (compiles llama.cpp; the dev extra has it)"),
    Method("gptq", "GPTQ 4-bit (GPU, calibration data)", _gpu_only("gptqmodel"), ("gptqmodel",), needs_cuda=True,
           install="pip install gptqmodel (on a CUDA machine)"),
    Method("awq", "AWQ 4-bit (GPU, calibration data)", _gpu_only("awq"), ("awq",), needs_cuda=True,
           install="pip install autoawq (on a CUDA machine)"),
):  # fmt: skip
    register_method(_method)

CPU_METHODS = tuple(m for m in _REGISTRY if not _REGISTRY[m].needs_cuda)
