"""The layout's rules, checked on the source: every package has a complete public face (`__all__`), and a
capability imports another package only through that face (`from llmkit.synth import run`, never
`from llmkit.synth.service import run`). Adapters (the CLI) are held to the same rule."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "llmkit"
PACKAGES = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))


def _package_of(path: Path) -> str | None:
    relative = path.relative_to(SRC).parts
    return relative[0] if len(relative) > 1 else None


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_packages_import_each_other_only_through_their_faces():
    crossings = []
    for path in SRC.rglob("*.py"):
        home = _package_of(path)
        if home is None:  # llmkit/__init__.py and the single modules (config, errors, extras, events)
            continue
        for line, module in _imported_modules(ast.parse(path.read_text())):
            parts = module.split(".")
            if parts[0] == "llmkit" and len(parts) > 2 and parts[1] in PACKAGES and parts[1] != home:
                crossings.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert not crossings, "import the package's face instead:\n" + "\n".join(sorted(crossings))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_declares_a_complete_public_face(package):
    module = importlib.import_module(f"llmkit.{package}")
    assert hasattr(module, "__all__"), f"llmkit.{package} has no __all__"
    for name in module.__all__:
        assert hasattr(module, name), f"llmkit.{package}.__all__ names {name}, which it does not have"
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not isinstance(v, type(ast))}
    assert public <= set(module.__all__), f"llmkit.{package} exports {sorted(public - set(module.__all__))}"
