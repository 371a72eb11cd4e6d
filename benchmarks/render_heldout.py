"""Renders the held-out meetings (benchmarks/meetings/heldout/*.json) with scripts/make_meetings.py's own
`render`, which only globs the development folder; same voices tool, pace and pauses. --folder renders another
held-out folder: heldout-voices/ holds the speakers benchmark's held-out meetings with voices that differ the
way people do.

    .venv/bin/python benchmarks/render_heldout.py [--folder heldout-voices] [NAME ...]
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
    names, folder = sys.argv[1:], HELDOUT
    if names[:1] == ["--folder"]:
        folder, names = HELDOUT.parent / names[1], names[2:]
    tool = make_meetings()
    for path in sorted(folder.glob("*.json")):
        if not path.name.endswith(".lines.json") and (not names or path.stem in names):
            tool.render(path)
