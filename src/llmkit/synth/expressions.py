"""Safe expressions over a row's columns: arithmetic, comparisons, conditionals and a few functions.

Parsed once with Python's `ast` and checked against an allow-list (no attributes, no imports, no calls but
the functions below), then evaluated per row. Used by `expression` columns and `check` rules.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any

# A small opinion lexicon for `sentiment(text)`: enough to tell a glowing review from an angry one.
_POSITIVE = set(
    "good great excellent amazing love loved loves perfect best wonderful fantastic happy pleased recommend "
    "awesome nice easy comfortable reliable sturdy fast beautiful impressed favorite delighted superb solid "
    "enjoy enjoyed worth satisfied brilliant outstanding helpful quality durable".split()
)
_NEGATIVE = set(
    "bad poor terrible awful hate hated broke broken worst disappointed disappointing useless waste cheap "
    "slow difficult problem problems issue issues return returned refund flimsy defective annoying "
    "nightmare horrible unhappy fails failed failure leaking leaked noisy uncomfortable regret not never".split()
)


def _ascii(text: str) -> str:
    """Accents dropped (José -> Jose, Müller -> Muller); letters with no ASCII form are dropped too."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def sentiment(text: Any) -> float:
    """(positive words - negative words) / (their sum): -1 all negative .. 1 all positive, 0 when neither."""
    tokens = re.findall(r"[a-z']+", str(text).lower())
    positive = sum(t in _POSITIVE for t in tokens)
    negative = sum(t in _NEGATIVE or t.endswith("n't") for t in tokens)
    return (positive - negative) / (positive + negative) if positive + negative else 0.0


# Bounds on what one expression may build: a row's cell is data, not a way to fill memory or spin the CPU
# (`'x' * 10**11`, `9**9**9**9`). Generous for real data: a 3,000-digit number, a 1 MB string.
MAX_INT_BITS = 10_000
MAX_LENGTH = 1_000_000
MAX_ROUND_DIGITS = 1_000


class ExpressionError(ValueError):
    pass


def _too_big(what: str) -> ExpressionError:
    limits = f"numbers up to {MAX_INT_BITS:,} bits, text and lists up to {MAX_LENGTH:,} items"
    return ExpressionError(f"{what} is too big (expressions build {limits})")


def _repeat_length(sequence: Any, times: Any) -> int:
    return len(sequence) * max(times, 0)


def _multiply(a: Any, b: Any) -> Any:
    if type(a) is float or type(b) is float:  # the common case, nothing to bound
        return a * b
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_big(f"a product of {a.bit_length() + b.bit_length():,} bits")
    elif isinstance(a, (str, list, tuple)) and isinstance(b, int) and _repeat_length(a, b) > MAX_LENGTH:
        raise _too_big(f"a repetition of {_repeat_length(a, b):,} items")
    elif isinstance(b, (str, list, tuple)) and isinstance(a, int) and _repeat_length(b, a) > MAX_LENGTH:
        raise _too_big(f"a repetition of {_repeat_length(b, a):,} items")
    return a * b


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = exponent * math.log2(abs(base))  # checked before computing: 9**387420489 would run for hours
        if bits > MAX_INT_BITS:
            raise _too_big(f"{base} ** {exponent} ({bits:,.0f} bits)")
    return base**exponent


_FORMAT_NUMBERS = re.compile(r"%[^%a-zA-Z]*")


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, str):  # printf-style text: a width or precision could ask for a gigabyte of padding
        for spec in _FORMAT_NUMBERS.findall(a):
            if "*" in spec or any(int(n) > MAX_LENGTH for n in re.findall(r"\d+", spec)):
                raise _too_big(f"the text format {spec!r}")
    return a % b


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and abs(int(ndigits)) > MAX_ROUND_DIGITS:  # round(5, -10**9) computes 10**10**9
        raise ExpressionError(f"round() to {ndigits} digits; at most {MAX_ROUND_DIGITS} either way")
    return round(number, ndigits)


_GUARDED = {ast.Mult: "__multiply", ast.Pow: "__power", ast.Mod: "__modulo"}
_GUARDS = {"__multiply": _multiply, "__power": _power, "__modulo": _modulo}

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "title": lambda s: str(s).title(),
    "str": str,
    "int": int,
    "float": float,
    "round": _round,
    "abs": abs,
    "min": min,
    "max": max,
    "len": len,
    "slug": lambda s: re.sub(r"[^a-z0-9]+", ".", _ascii(str(s)).lower()).strip("."),
    "add_days": lambda d, n: d + dt.timedelta(days=int(n)),
    "add_hours": lambda d, n: d + dt.timedelta(hours=float(n)),
    "days_between": lambda a, b: (b - a).days,
    "year": lambda d: d.year,
    "hour": lambda d: d.hour,
    "sentiment": sentiment,
    "before": lambda s, sep: str(s).split(sep, 1)[0],
    "after": lambda s, sep: str(s).split(sep, 1)[-1],
}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.List,
    ast.Tuple,
)


class Expression:
    def __init__(self, source: str) -> None:
        self.source = source
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"not a valid expression: {exc.msg}") from exc
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise ExpressionError(f"{type(node).__name__} is not allowed in expressions")
            if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                raise ExpressionError(f"unknown function; known: {', '.join(sorted(FUNCTIONS))}")
        self.names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(FUNCTIONS))
        # Compiled once into `lambda row: ...` with each column name read as row["name"]: a plain call per
        # row, several times faster than eval() with the row as locals.
        body = _ColumnsFromRow(set(self.names)).visit(tree).body
        function = ast.Expression(ast.Lambda(_one_arg("__row"), body))
        ast.fix_missing_locations(function)
        scope = {"__builtins__": {}, **FUNCTIONS, **_GUARDS}
        self._function = eval(compile(function, "<expression>", "eval"), scope)  # noqa: S307

    def __repr__(self) -> str:  # stable across processes: resumable runs fingerprint the spec by its repr
        return f"Expression({self.source!r})"

    def __call__(self, row: dict[str, Any]) -> Any:
        return self._function(row)


class _ColumnsFromRow(ast.NodeTransformer):
    def __init__(self, columns: set[str]) -> None:
        self.columns = columns

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in self.columns:
            return node
        return ast.copy_location(ast.Subscript(ast.Name("__row", ast.Load()), ast.Constant(node.id), ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """`a * b`, `a ** b` and `a % b` become calls to their bounded forms (see MAX_INT_BITS)."""
        self.generic_visit(node)
        guard = _GUARDED.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)


def _one_arg(name: str) -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[ast.arg(name)], kwonlyargs=[], kw_defaults=[], defaults=[])
