"""Statistics of the written columns (completeness, distributions, text diversity, near-duplicates) and,
against a reference table, SDMetrics' column-shape and column-pair-trend scores (KSComplement /
TVComplement; CorrelationSimilarity / ContingencySimilarity, as SDMetrics' QualityReport defines them)."""

from __future__ import annotations

from typing import Any

from llmkit.synth.draw import value_key
from llmkit.synth.export import plain_value
from llmkit.synth.report.tables import Column, as_number
from llmkit.synth.text import NearDuplicateIndex, distinct_n

BINS = 10  # the bins SDMetrics puts numbers in before comparing them as categories

# ---- one column ---------------------------------------------------------------------------------------


def column_profile(column: Column, rows: int, near_duplicate: float) -> dict[str, Any]:
    """Completeness, distinct values and distribution of one column (near-duplicates for free text)."""
    missing = sum(v is None for v in column.values)
    info: dict[str, Any] = {
        "kind": column.kind,
        "completeness": round(1 - missing / rows, 4) if rows else 0.0,
        "distinct": len({value_key(v) for v in column.values if v is not None}),
        "distribution": distribution(column),
    }
    if column.kind == "text":
        texts = [str(v) for v in column.values if v is not None]
        info["near_duplicate_rate"] = round(near_duplicate_rate(texts, near_duplicate), 4)
    return info


def _histogram(numbers: list[float], edges: list[float] | None = None) -> tuple[list[float], list[int]]:
    import numpy as np

    if edges is None:
        counts, found = np.histogram(numbers, bins=20)
        return found.tolist(), counts.tolist()
    counts, _ = np.histogram(np.clip(numbers, edges[0], edges[-1]), bins=edges)
    return edges, counts.tolist()


def distribution(column: Column) -> dict[str, Any]:
    present = [v for v in column.values if v is not None]
    if not present:
        return {}
    if column.kind in ("numeric", "datetime"):
        return _numeric_distribution(column.kind, present)
    if column.kind == "text":
        texts = [str(v) for v in present]
        return {
            "mean_length": sum(map(len, texts)) / len(texts),
            "distinct_1": round(distinct_n(texts, 1), 4),
            "distinct_2": round(distinct_n(texts, 2), 4),
        }
    counts: dict[str, int] = {}
    for value in present:
        counts[str(value)] = counts.get(str(value), 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    return {"distinct": len(counts), "top": [{"value": k, "share": round(v / len(present), 4)} for k, v in top]}


def _numeric_distribution(kind: str, present: list[Any]) -> dict[str, Any]:
    import numpy as np

    numbers = np.array([as_number(v) for v in present])
    edges, counts = _histogram(numbers.tolist())
    result = {
        "min": plain_value(min(present)),
        "max": plain_value(max(present)),
        "histogram": {"edges": edges, "counts": counts},
    }
    if kind == "numeric":
        result.update(mean=float(numbers.mean()), std=float(numbers.std()), median=float(np.median(numbers)))
    return result


def near_duplicate_rate(texts: list[str], threshold: float = 0.8) -> float:
    index = NearDuplicateIndex(threshold)
    refused = sum(not index.add(text) for text in texts)
    return refused / len(texts) if texts else 0.0


# ---- SDMetrics-style scores against a reference ------------------------------------------------------


def _shares(values: list[Any]) -> dict[Any, float]:
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return {k: v / len(values) for k, v in counts.items()} if values else {}


def tv_complement(real: list[Any], synthetic: list[Any]) -> float:
    """1 - total variation distance of the category frequencies (SDMetrics TVComplement)."""
    r, s = _shares([str(v) for v in real]), _shares([str(v) for v in synthetic])
    return 1 - 0.5 * sum(abs(r.get(k, 0) - s.get(k, 0)) for k in set(r) | set(s))


def ks_complement(real: list[float], synthetic: list[float]) -> float:
    """1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics KSComplement)."""
    import numpy as np

    a, b = np.sort(np.asarray(real, float)), np.sort(np.asarray(synthetic, float))
    if not len(a) or not len(b):
        return 0.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(1 - np.max(np.abs(cdf_a - cdf_b)))


def correlation_similarity(real: tuple[list[float], list[float]], synthetic: tuple[list[float], list[float]]) -> float:
    """1 - |Pearson(real) - Pearson(synthetic)| / 2 (SDMetrics CorrelationSimilarity)."""
    import numpy as np

    def pearson(x: list[float], y: list[float]) -> float:
        if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
            return 0.0
        return float(np.corrcoef(x, y)[0, 1])

    return 1 - abs(pearson(*real) - pearson(*synthetic)) / 2


def contingency_similarity(real: list[tuple], synthetic: list[tuple]) -> float:
    """1 - total variation distance of the joint frequencies of two columns (SDMetrics ContingencySimilarity)."""
    r, s = _shares(real), _shares(synthetic)
    return 1 - 0.5 * sum(abs(r.get(k, 0) - s.get(k, 0)) for k in set(r) | set(s))


def _discrete(column: Column, real: Column) -> list[Any]:
    """Categories as they are; numbers and dates binned on the reference's edges (as SDMetrics does)."""
    if column.kind not in ("numeric", "datetime"):
        return [str(v) for v in column.values]
    import numpy as np

    numbers = [as_number(v) for v in real.values if v is not None]
    edges = np.histogram_bin_edges(numbers, bins=BINS) if numbers else np.array([0.0, 1.0])
    return [None if v is None else int(np.clip(np.searchsorted(edges, as_number(v), "right") - 1, 0, BINS - 1))
            for v in column.values]  # fmt: skip


def _column_shapes(pairs: list[tuple[Column, Column]]) -> dict[str, float]:
    shapes: dict[str, float] = {}
    for mine, theirs in pairs:
        if mine.kind in ("numeric", "datetime") and theirs.kind == mine.kind:
            real = [as_number(v) for v in theirs.values if v is not None]
            fake = [as_number(v) for v in mine.values if v is not None]
            shapes[mine.name] = round(ks_complement(real, fake), 4)
        else:
            shapes[mine.name] = round(tv_complement(_present(theirs.values), _present(mine.values)), 4)
    return shapes


def _column_pair_trends(pairs: list[tuple[Column, Column]]) -> dict[str, float]:
    trends: dict[str, float] = {}
    for i, (a, ra) in enumerate(pairs):
        for b, rb in pairs[i + 1 :]:
            numeric = all(c.kind in ("numeric", "datetime") for c in (a, ra, b, rb))
            if numeric:
                score = correlation_similarity(_both(ra, rb), _both(a, b))
            else:
                real = list(zip(_discrete(ra, ra), _discrete(rb, rb), strict=True))
                fake = list(zip(_discrete(a, ra), _discrete(b, rb), strict=True))
                score = contingency_similarity(real, fake)
            trends[f"{a.name} ~ {b.name}"] = round(score, 4)
    return trends


def similarity(synthetic: list[Column], reference: list[Column]) -> dict[str, Any]:
    """Column shapes and column pair trends against a reference table (columns matched by name)."""
    by_name = {c.name: c for c in reference}
    pairs = [(c, by_name[c.name]) for c in synthetic if c.name in by_name and c.kind not in ("id", "text")]
    shapes, trends = _column_shapes(pairs), _column_pair_trends(pairs)
    shape_score = sum(shapes.values()) / len(shapes) if shapes else None
    trend_score = sum(trends.values()) / len(trends) if trends else None
    scores = [s for s in (shape_score, trend_score) if s is not None]
    return {
        "column_shapes": {"score": shape_score, "columns": shapes},
        "column_pair_trends": {"score": trend_score, "pairs": trends},
        "overall": sum(scores) / len(scores) if scores else None,
    }


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _both(a: Column, b: Column) -> tuple[list[float], list[float]]:
    kept = [
        (as_number(x), as_number(y)) for x, y in zip(a.values, b.values, strict=True) if x is not None and y is not None
    ]
    return [x for x, _ in kept], [y for _, y in kept]
