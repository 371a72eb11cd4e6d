#!/usr/bin/env bash
# Installs llmkit with its test tools into ./.venv, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
