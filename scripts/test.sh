#!/usr/bin/env bash
# Installs llmkit with its test tools into ./.venv, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
# The web UI's tests drive Debian's chromium through Playwright (`playwright install` cannot download offline).
if ! command -v chromium >/dev/null; then
    sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get install -y -q chromium >/dev/null \
        || { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q chromium >/dev/null; } \
        || echo "warning: could not install chromium; the browser tests will fail" >&2
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
