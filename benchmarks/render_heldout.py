"""Renders the held-out meetings (benchmarks/meetings/heldout/*.json) with scripts/make_meetings.py's own
`render`, which only globs the development folder; same voices tool, pace and pauses.

    .venv/bin/python benchmarks/render_heldout.py [NAME ...]
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "benchmarks" / "meetings" / "heldout"


def make_meetings():
    spec = importlib.util.spec_from_file_location("make_meetings", ROOT / "scripts" / "make_meetings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    names, tool = sys.argv[1:], make_meetings()
    for path in sorted(HELDOUT.glob("*.json")):
        if not path.name.endswith(".lines.json") and (not names or path.stem in names):
            tool.render(path)
