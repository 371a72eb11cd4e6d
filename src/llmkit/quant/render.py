"""The quantization table (Markdown) and the quality-vs-memory plot."""

from __future__ import annotations

from pathlib import Path

from llmkit.quant.types import QuantReport

_COLUMNS = (("method", "method", "{}"), ("weight_mb", "weights MB", "{:.1f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
            ("perplexity", "perplexity", "{:.3f}"), ("bits_per_byte", "bits/byte", "{:.4f}"),
            ("kl_vs_reference", "KL vs fp32", "{:.5f}"), ("top1_agreement", "top-1 same", "{:.2%}"),
            ("prefill_tok_s", "prompt tok/s", "{:.0f}"), ("decode_tok_s", "decode tok/s", "{:.1f}"),
            ("error", "error", "{}"))  # fmt: skip


def table_rows(report: QuantReport) -> list[list[str]]:
    rows = []
    for row in report.rows:
        values = row.to_dict()
        rows.append(["" if values[key] is None else fmt.format(values[key]) for key, _, fmt in _COLUMNS])
    return rows


def table_markdown(report: QuantReport) -> str:
    header = [title for _, title, _ in _COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(report)]
    lines.append(f"\n{report.model}; {report.eval_tokens} tokens ({report.eval_bytes} bytes) of {report.text_source}; "
                 f"window {report.window}, stride {report.stride}; {report.threads} threads")  # fmt: skip
    return "\n".join(lines)


def plot_quality_vs_memory(report: QuantReport, path: Path) -> Path | None:
    """Perplexity and KL against weight memory, one labelled point per method that ran."""
    rows = [r for r in report.rows if r.error is None and r.weight_mb and r.perplexity]
    if not rows:
        return None
    
    from llmkit.internals import require_matplotlib

    require_matplotlib("the quantization plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for row in rows:
        left.scatter(row.weight_mb, row.perplexity)
        left.annotate(row.method, (row.weight_mb, row.perplexity), fontsize=8, xytext=(3, 3), textcoords="offset points")
        if row.kl_vs_reference is not None:
            right.scatter(row.weight_mb, max(row.kl_vs_reference, 1e-6))
            right.annotate(row.method, (row.weight_mb, max(row.kl_vs_reference, 1e-6)), fontsize=8, xytext=(3, 3),
                           textcoords="offset points")  # fmt: skip
    left.set(xlabel="weights (MB)", ylabel="perplexity (lower is better)", title=f"{report.model}: quality vs memory")
    right.set(xlabel="weights (MB)", ylabel="KL vs fp32, nats/token (log)", yscale="log", title="divergence from fp32")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
