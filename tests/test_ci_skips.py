"""In CI (CI=true) a skipped test is a failure (tests/conftest.py); elsewhere it stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = '''
import pytest

def test_skips():
    pytest.skip("no such package")

def test_missing_module():
    pytest.importorskip("no_such_module_llmkit")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_passes():
    pass
'''

MODULE_SKIP = '''
import pytest

pytest.importorskip("no_such_module_llmkit")

def test_never_runs():
    pass
'''


def _run(tmp_path: Path, source: str, ci: str | None) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_probe.py"
    test_file.write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
               "--rootdir", str(tmp_path), str(test_file)]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)  # a hang guard only


def test_a_skip_fails_in_ci(tmp_path):
    result = _run(tmp_path, SKIPPING, "true")
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 passed, 1 xfailed" in result.stdout
    assert "skipped in CI (CI=true makes a skip a failure): Skipped: no such package" in result.stdout
    assert "could not import 'no_such_module_llmkit'" in result.stdout


def test_a_module_level_skip_fails_in_ci(tmp_path):
    result = _run(tmp_path, MODULE_SKIP, "true")
    assert result.returncode != 0 and "skipped in CI" in result.stdout, result.stdout


def test_outside_ci_a_skip_stays_a_skip(tmp_path):
    for ci in (None, "false"):
        result = _run(tmp_path, SKIPPING, ci)
        assert result.returncode == 0 and "1 passed, 2 skipped, 1 xfailed" in result.stdout, result.stdout
