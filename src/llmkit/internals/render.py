"""Pictures of the internals reports: PNG heatmaps and plots (matplotlib, Agg: no display needed) and
standalone HTML pages whose small inline script draws the heatmaps (no CDN, works offline)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from llmkit.errors import MissingExtraError
from llmkit.internals.types import AttentionReport, HiddenReport, LensReport, SaliencyReport

MAX_PNG_LAYERS = 8  # more selected layers are spread evenly: drawing dominates a long report's time
LABELLED_TOKENS = 48  # axis labels and cell text only up to this many tokens (unreadable beyond)


def require_matplotlib(purpose: str) -> None:
    """matplotlib, or the install line of the extra that has it (llmkit.extras knows no lab modules)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "lab", purpose) from exc


def _pyplot() -> Any:
    require_matplotlib("plots of the internals lab")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _label(token: str) -> str:
    return token.replace("\n", "\\n").replace(" ", "·")[:12] or "∅"


def spread(items: list[int], most: int) -> list[int]:
    """At most `most` items, evenly spaced, first and last kept."""
    if len(items) <= most:
        return list(items)
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def mosaic(maps: Any, cols: int) -> Any:
    """Heads tiled into one image (NaN gaps between them): one imshow draws far faster than a subplot each."""
    import numpy as np

    count, n = maps.shape[0], maps.shape[-1]
    rows, gap = -(-count // cols), max(1, n // 16)
    tiled = np.full((rows * (n + gap) - gap, cols * (n + gap) - gap), np.nan, dtype=np.float32)
    for index in range(count):
        r, c = divmod(index, cols)
        tiled[r * (n + gap) : r * (n + gap) + n, c * (n + gap) : c * (n + gap) + n] = maps[index]
    return tiled


def attention_pngs(report: AttentionReport, out_dir: Path) -> list[Path]:
    """One PNG per drawn layer: its selected heads side by side (rows are queries, columns keys)."""
    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    n, heads = len(report.tokens), len(report.heads)
    cols = min(heads, 3)
    for li in [report.layers.index(layer) for layer in spread(report.layers, MAX_PNG_LAYERS)]:
        fig, ax = plt.subplots(figsize=(3.2 * cols + 1, 3.2 * -(-heads // cols) + 0.6))
        ax.imshow(mosaic(report.attention[li], cols), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        step = n + max(1, n // 16)
        for index, head in enumerate(report.heads):
            r, c = divmod(index, cols)
            ax.text(c * step, r * step - 0.6, f"head {head}", fontsize=8, va="bottom")
        if heads == 1 and n <= LABELLED_TOKENS:
            labels = [_label(t) for t in report.tokens]
            ax.set_xticks(range(n), labels, rotation=90, fontsize=6)
            ax.set_yticks(range(n), labels, fontsize=6)
        else:
            ax.axis("off")
        ax.set_title(f"{report.model} layer {report.layers[li]}: query rows, key columns", fontsize=9, pad=14)
        fig.tight_layout()
        path = out_dir / f"attention_layer{report.layers[li]:02d}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


_ATTENTION_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Attention: {title}</title>
<style>body{{font:14px sans-serif;margin:1em}}canvas{{image-rendering:pixelated;border:1px solid #ccc}}
#tip{{font-family:monospace;min-height:1.4em}}</style></head><body>
<h2>Attention weights: {title}</h2><p>Rows are queries, columns the keys they attend to.
Layer <select id="layer"></select> head <select id="head"></select> <span id="tip"></span></p>
<canvas id="map"></canvas>
<script id="data" type="application/json">{data}</script>
<script>
const d = JSON.parse(document.getElementById("data").textContent);
const n = d.tokens.length, cell = Math.max(2, Math.min(24, Math.floor(720 / n)));
const cv = document.getElementById("map"), cx = cv.getContext("2d");
cv.width = cv.height = n * cell;
const L = document.getElementById("layer"), H = document.getElementById("head");
d.layers.forEach((l, i) => L.add(new Option(l, i)));
d.heads.forEach((h, i) => H.add(new Option(h, i)));
function colour(v) {{ const r = Math.round(255 * (1 - v)); return `rgb(${{r}},${{r}},255)`; }}
function draw() {{
  const m = d.attention[L.value][H.value];
  for (let q = 0; q < n; q++) for (let k = 0; k < n; k++) {{
    cx.fillStyle = colour(Math.sqrt(m[q][k])); cx.fillRect(k * cell, q * cell, cell, cell); }}
}}
cv.onmousemove = e => {{
  const k = Math.floor(e.offsetX / cell), q = Math.floor(e.offsetY / cell);
  if (q < n && k < n) document.getElementById("tip").textContent =
    `query ${{q}} ${{JSON.stringify(d.tokens[q])}} -> key ${{k}} ${{JSON.stringify(d.tokens[k])}}: ` +
    d.attention[L.value][H.value][q][k].toFixed(4);
}};
L.onchange = H.onchange = draw; draw();
</script></body></html>"""


def attention_html(report: AttentionReport, path: Path) -> Path:
    """One standalone page: pick a layer and head, hover a cell for its query, key and weight."""
    data = {"tokens": report.tokens, "layers": report.layers, "heads": report.heads,
            "attention": report.attention.round(3).tolist()}  # fmt: skip
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_ATTENTION_PAGE.format(title=html.escape(report.model or "model"), data=payload), "utf-8")
    return path


def hidden_png(report: HiddenReport, path: Path) -> Path:
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    top.plot(range(len(report.norms)), report.norms, marker="o")
    top.set_ylabel("mean L2 norm")
    top.set_title(f"hidden states per layer (0 = embeddings): {report.model}")
    bottom.plot(range(len(report.cosine_to_next)), report.cosine_to_next, marker="o", color="tab:orange")
    bottom.set_ylabel("cosine(layer i, i+1)")
    bottom.set_xlabel("layer")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lens_png(report: LensReport, path: Path) -> Path:
    """Layers x positions; colour = probability of the top token, text = the top token (short inputs)."""
    import numpy as np

    plt = _pyplot()
    probs = np.array([[pos[0].prob for pos in layer.top] for layer in report.layers])
    n_layers, n_pos = probs.shape
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * min(n_pos, LABELLED_TOKENS) + 2), max(4, 0.3 * n_layers + 1)))
    ax.imshow(probs, aspect="auto", cmap="Blues", vmin=0, vmax=1, origin="lower", interpolation="nearest")
    if n_pos <= LABELLED_TOKENS:
        for li, layer in enumerate(report.layers):
            for pi, pos in enumerate(layer.top):
                ax.text(pi, li, _label(pos[0].token), ha="center", va="center", fontsize=6,
                        color="white" if pos[0].prob > 0.5 else "black")  # fmt: skip
        shown = report.positions or list(range(n_pos))
        ax.set_xticks(range(n_pos), [_label(report.tokens[p]) for p in shown], rotation=90, fontsize=7)
    ax.set_xlabel("input position (the prediction is for the next token)")
    ax.set_ylabel("layer (0 = embeddings)")
    ax.set_title(f"logit lens, top next token per layer: {report.model}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def saliency_html(report: SaliencyReport, path: Path) -> Path:
    """The input as coloured text, once per method; hover a token for its score."""
    rows = []
    for title, scores in (("gradient x input", report.gradient_x_input),
                          ("attention rollout (first token left out)", [0.0] + report.rollout_without_first)):
        top = max(scores) or 1.0
        spans = "".join(
            f'<span title="{s:.4f}" style="background:rgba(255,80,0,{s / top:.3f})">{html.escape(t)}</span>'
            for t, s in zip(report.tokens, scores, strict=True)
        )
        rows.append(f"<h3>{title}</h3><p style='white-space:pre-wrap;font-family:monospace'>{spans}</p>")
    target = html.escape(report.target.token)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Saliency</title></head><body>"
            f"<h2>What drives the next token {target!r} (p={report.target.prob:.3f})</h2>{''.join(rows)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, "utf-8")
    return path
