"""Prompt suites: YAML files of cases, each a prompt (or messages) and the checks its answer must pass.

A check is one mapping whose first key names its kind (`contains`, `regex`, `equals`, `json_schema`,
`max_words`, `numeric`); kinds live in a registry, so a new one is one function. A suite may name a
judge (a model spec and a rubric) that scores every answer 1-5 on top of the checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError

CheckFunction = Callable[[str, Any, dict[str, Any]], tuple[bool, str]]
_CHECKS: dict[str, CheckFunction] = {}
_CHECK_OPTIONS = {"ignore_case", "tolerance", "all"}


def register_check(kind: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check kind: fn(answer, expected, options) -> (passed, detail)."""

    def decorator(fn: CheckFunction) -> CheckFunction:
        _CHECKS[kind] = fn
        return fn

    return decorator


def check_kinds() -> list[str]:
    return sorted(_CHECKS)


@dataclass(frozen=True)
class Check:
    kind: str
    expected: Any
    options: dict[str, Any] = field(default_factory=dict)

    def run(self, answer: str) -> CheckResult:
        passed, detail = _CHECKS[self.kind](answer, self.expected, self.options)
        return CheckResult(self.kind, passed, detail)

    def describe(self) -> str:
        return f"{self.kind}: {self.expected!r}"[:80]


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Case:
    id: str
    messages: tuple[tuple[str, str], ...]  # (role, content)
    checks: tuple[Check, ...]
    category: str = ""
    rubric: str = ""  # the judge's rubric for this case (else the suite's)
    max_new_tokens: int | None = None

    @property
    def prompt_text(self) -> str:
        return "\n".join(content for role, content in self.messages if role == "user")


@dataclass(frozen=True)
class Judge:
    model: str  # a model spec, as for `--models`
    rubric: str


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]
    description: str = ""
    max_new_tokens: int = 96
    seed: int = 0
    judge: Judge | None = None
    source: str = ""


# -- checks ---------------------------------------------------------------------------------------------


def _fold(text: str, options: dict[str, Any]) -> str:
    return text.lower() if options.get("ignore_case", True) else text


@register_check("contains")
def _contains(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    """Any of the strings (all of them with `all: true`), case-insensitive unless `ignore_case: false`."""
    wanted = [expected] if isinstance(expected, str) else list(expected)
    found = [w for w in wanted if _fold(str(w), options) in _fold(answer, options)]
    passed = len(found) == len(wanted) if options.get("all") else bool(found)
    return passed, f"found {found}" if found else f"none of {wanted}"


@register_check("regex")
def _regex(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    flags = re.IGNORECASE if options.get("ignore_case", True) else 0
    match = re.search(str(expected), answer, flags)
    return match is not None, f"matched {match.group(0)!r}" if match else "no match"


@register_check("equals")
def _equals(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    """The whole answer, stripped of spaces and a final full stop."""
    got = _fold(answer.strip().rstrip("."), options)
    return got == _fold(str(expected).strip(), options), f"answer {answer.strip()[:40]!r}"


@register_check("json_schema")
def _json_schema(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    from llmkit.generation import parse_json_object, schema_errors

    value = parse_json_object(answer)
    if value is None:
        return False, "no JSON object in the answer"
    errors = schema_errors(value, expected)
    return not errors, "; ".join(errors[:3]) if errors else "valid"


@register_check("max_words")
def _max_words(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    words = len(answer.split())
    return 0 < words <= int(expected), f"{words} words"


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@register_check("numeric")
def _numeric(answer: str, expected: Any, options: dict[str, Any]) -> tuple[bool, str]:
    """The last number in the answer (where "12 * 11 = 132" and worked answers put it), within `tolerance`
    (absolute; default 0) of the expected value."""
    numbers = _NUMBER.findall(answer)
    if not numbers:
        return False, "no number in the answer"
    got = float(numbers[-1].replace(",", ""))
    tolerance = float(options.get("tolerance", 0))
    return math.isclose(got, float(expected), abs_tol=tolerance), f"got {got:g}"


# -- loading --------------------------------------------------------------------------------------------


def builtin_suites() -> list[str]:
    folder = files("llmkit.compare").joinpath("suites")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite by name, or a YAML file."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return parse_suite(_read_yaml(path.read_text(encoding="utf-8"), str(path)), str(path))
    if name_or_path in builtin_suites():
        text = files("llmkit.compare").joinpath("suites").joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
        return parse_suite(_read_yaml(text, name_or_path), f"built-in:{name_or_path}")
    raise InvalidInputError(
        f"suite {name_or_path!r} is neither a file nor a built-in suite; built-in: {', '.join(builtin_suites())}"
    )


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: a suite is a mapping with `name` and `cases`")
    return data


def parse_suite(data: dict[str, Any], source: str = "") -> Suite:
    unknown = set(data) - {"name", "description", "max_new_tokens", "seed", "judge", "cases"}
    if unknown:
        raise InvalidInputError(f"{source}: unknown suite field(s) {', '.join(sorted(unknown))}")
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        raise InvalidInputError(f"{source}: `cases` must be a non-empty list")
    parsed = tuple(_parse_case(case, index, source) for index, case in enumerate(cases, 1))
    ids = [c.id for c in parsed]
    if len(set(ids)) != len(ids):
        raise InvalidInputError(f"{source}: case ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return Suite(
        name=str(data.get("name") or Path(source).stem),
        cases=parsed,
        description=str(data.get("description", "")),
        max_new_tokens=_positive_int(data.get("max_new_tokens", 96), f"{source}: max_new_tokens"),
        seed=int(data.get("seed", 0)),
        judge=_parse_judge(data.get("judge"), source),
        source=source,
    )


def _parse_case(case: Any, index: int, source: str) -> Case:
    where = f"{source}: case {index}"
    if not isinstance(case, dict):
        raise InvalidInputError(f"{where}: a case is a mapping with `prompt` (or `messages`) and `checks`")
    where = f"{source}: case {case.get('id', index)!r}"
    checks = case.get("checks") or []
    if not isinstance(checks, list):
        raise InvalidInputError(f"{where}: `checks` must be a list")
    if not checks and not case.get("rubric"):
        raise InvalidInputError(f"{where}: give at least one check (or a `rubric` for the judge)")
    max_new = case.get("max_new_tokens")
    return Case(
        id=str(case.get("id", f"case-{index}")),
        messages=_parse_messages(case, where),
        checks=tuple(_parse_check(check, where) for check in checks),
        category=str(case.get("category", "")),
        rubric=str(case.get("rubric", "")),
        max_new_tokens=_positive_int(max_new, f"{where}: max_new_tokens") if max_new is not None else None,
    )


def _parse_messages(case: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    if "prompt" in case:
        if not isinstance(case["prompt"], str) or not case["prompt"].strip():
            raise InvalidInputError(f"{where}: `prompt` must be non-empty text")
        messages = [("user", case["prompt"])]
        if case.get("system"):
            messages.insert(0, ("system", str(case["system"])))
        return tuple(messages)
    raw = case.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(f"{where}: give `prompt` or a non-empty `messages` list")
    out = []
    for message in raw:
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
            raise InvalidInputError(f"{where}: each message needs role system|user|assistant and content")
        out.append((message["role"], str(message.get("content", ""))))
    return tuple(out)


def _parse_check(check: Any, where: str) -> Check:
    if not isinstance(check, dict) or not check:
        raise InvalidInputError(f"{where}: a check is a mapping like {{contains: Paris}}")
    kinds = [k for k in check if k not in _CHECK_OPTIONS]
    if len(kinds) != 1 or kinds[0] not in _CHECKS:
        raise InvalidInputError(
            f"{where}: check {check!r} must name exactly one kind of: {', '.join(check_kinds())}"
        )
    kind = kinds[0]
    options = {k: v for k, v in check.items() if k in _CHECK_OPTIONS}
    if kind == "regex":
        try:
            re.compile(str(check[kind]))
        except re.error as exc:
            raise InvalidInputError(f"{where}: bad regex {check[kind]!r}: {exc}") from exc
    if kind == "json_schema" and not isinstance(check[kind], dict):
        raise InvalidInputError(f"{where}: json_schema must be a JSON Schema mapping")
    if kind in ("numeric", "max_words") and not isinstance(check[kind], (int, float)):
        raise InvalidInputError(f"{where}: {kind} must be a number, got {check[kind]!r}")
    return Check(kind, check[kind], options)


def _parse_judge(judge: Any, source: str) -> Judge | None:
    if judge is None:
        return None
    if not isinstance(judge, dict) or not judge.get("model") or not judge.get("rubric"):
        raise InvalidInputError(f"{source}: `judge` needs `model` (a model spec) and `rubric` (what a 5 is)")
    return Judge(str(judge["model"]), str(judge["rubric"]))


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{where} must be a positive integer, got {value!r}")
    return value
