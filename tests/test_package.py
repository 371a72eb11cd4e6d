"""The package surface: cheap import, complete public API, configuration precedence."""

from __future__ import annotations

import subprocess
import sys

import pytest

import llmkit
from llmkit.config import load_settings
from llmkit.errors import ConfigError


def test_import_is_light():
    code = "import sys, llmkit; print(sorted(m for m in ('torch', 'transformers', 'llama_cpp') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_complete():
    public = {name for name in dir(llmkit) if not name.startswith("_") and name[0].isupper()}
    assert public <= set(llmkit.__all__)
    for name in llmkit.__all__:
        assert hasattr(llmkit, name), name


def test_settings_precedence(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('default_model = "from-file"\nthreads = 3\nprecision = "bf16"\n')
    monkeypatch.setenv("LLMKIT_CONFIG", str(config))
    assert load_settings().default_model == "from-file"
    assert load_settings().threads == 3
    monkeypatch.setenv("LLMKIT_DEFAULT_MODEL", "from-env")
    assert load_settings().default_model == "from-env"
    assert load_settings(default_model="from-flag").default_model == "from-flag"
    assert load_settings(default_model=None).default_model == "from-env"  # None = flag not given
    assert load_settings().precision == "bf16"


def test_openai_env_fallback(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://example.invalid/v1")
    assert load_settings().openai_base_url == "http://example.invalid/v1"
    monkeypatch.setenv("LLMKIT_OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    assert load_settings().openai_base_url == "http://127.0.0.1:1/v1"


@pytest.mark.parametrize(
    "text, message",
    [
        ("threads = [", "not valid TOML"),
        ("colour = 'red'", "unknown setting 'colour'"),
        ("threads = 'many'", "threads must be an integer"),
        ("[models.x]\nweird = 1", "unknown field(s) weird"),
        ("[models.x]\nlicense = 'MIT'", "give hub_id, local_path"),
    ],
)
def test_bad_config_names_the_problem(tmp_path, monkeypatch, text, message):
    config = tmp_path / "config.toml"
    config.write_text(text)
    monkeypatch.setenv("LLMKIT_CONFIG", str(config))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        llmkit.Catalog.load(load_settings())


def test_bad_sampling_values_are_refused():
    with pytest.raises(ConfigError, match="top_p"):
        llmkit.SamplingParams(top_p=0)
    with pytest.raises(ConfigError, match="max_new_tokens"):
        llmkit.SamplingParams(max_new_tokens=0)


@pytest.mark.parametrize("module", ["llmkit.tokens", "llmkit.asr", "llmkit.minutes", "llmkit.synth"])
def test_capability_packages_import_light_and_export_their_api(module):
    heavy = (
        "torch",
        "transformers",
        "llama_cpp",
        "faster_whisper",
        "ctranslate2",
        "av",
        "tiktoken",
        "sentencepiece",
        "faker",
        "pyarrow",
        "datasets",
        "numpy",
    )
    code = (
        f"import sys, importlib; m = importlib.import_module({module!r}); "
        f"assert all(hasattr(m, n) for n in m.__all__); "
        f"print(sorted(x for x in {heavy!r} if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "blocked, call, line",
    [
        ("faster_whisper", "from llmkit.asr import Transcriber; Transcriber().engine", "pip install 'llmkit[asr]'"),
        ("docx", "from llmkit.minutes.render import to_docx; to_docx(None, None)", "pip install 'llmkit[docx]'"),
        (
            "pyarrow",
            "from pathlib import Path; from llmkit.synth import resolve_spec, run; "
            "list(run(resolve_spec('orders', rows=5), Path(__import__('tempfile').mkdtemp()), 'parquet'))",
            "pip install 'llmkit[data]'",
        ),
    ],
)
def test_missing_extras_name_the_install_line(blocked, call, line):
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\nfrom llmkit.errors import MissingExtraError\n"
        f"try:\n    {call}\nexcept MissingExtraError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert line in out


def test_missing_llamacpp_runtimes_name_the_install_line():
    code = (
        "import sys; sys.modules['xllamacpp'] = sys.modules['llama_cpp'] = None\n"
        "from llmkit import Engine, MissingExtraError\n"
        "try:\n    Engine(backend='llamacpp').generate('hi', max_new_tokens=2)\n"
        "except MissingExtraError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'llmkit[llamacpp]'" in out


def test_declared_python_version_can_run_the_code():
    """`requires-python` must not admit an interpreter the code cannot run on (tomllib is 3.11+)."""
    import ast
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = int(re.fullmatch(r">=\s*3\.(\d+)", declared.strip()).group(1))
    newer_modules = {"tomllib": 11}  # stdlib modules that appeared after 3.10, by the minor version that added them
    for path in (root / "src").rglob("*.py"):
        tree = ast.parse(path.read_text(), feature_version=(3, minor))  # syntax the declared version knows
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                assert newer_modules.get(name.split(".")[0], 0) <= minor, f"{path}: {name} needs 3.{newer_modules[name]}"
