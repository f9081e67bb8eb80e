"""Task 3's comparison of every model on every dataset: a table (CSV, and JSON for DVC metrics) and a chart."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from idl.errors import DataError
from idl.generative.data import DATASET_TITLES
from idl.io import write_json, write_table

COLUMNS = [
    ("dataset", "dataset"), ("model", "model"), ("epochs", "epochs"),
    ("test_mse_mean", "test MSE"), ("test_ssim_mean", "test SSIM"),
    ("frechet_reconstructions", "Fréchet (reconstructions)"), ("samples_frechet", "Fréchet (samples)"),
    ("frechet_real_floor", "Fréchet floor (real vs real)"),
    ("samples_relative_diversity", "relative diversity (samples)"),
]


def write_summary(score_paths, out_dir) -> list[dict]:
    """One table of every model on every dataset (CSV + JSON for DVC metrics) and a bar chart."""
    rows = [json.loads(Path(p).read_text()) for p in score_paths]
    if not rows:
        raise DataError("no scores.json files to summarise")
    rows.sort(key=lambda r: (r["dataset"], r["model"]))
    out_dir = Path(out_dir)
    table = [[r.get(key) for key, _ in COLUMNS] for r in rows]
    write_table(out_dir / "comparison.csv", [label for _, label in COLUMNS], table)
    metrics = {f"{r['dataset']}/{r['model']}": {k: v for k, v in r.items() if isinstance(v, (int, float))}
               for r in rows}
    write_json(out_dir / "summary.json", metrics)
    scores_figure(rows, out_dir / "scores.png")
    return rows


def scores_figure(rows: list[dict], path) -> None:
    """Fréchet distance of samples (with the real-vs-real floor) and relative diversity, per dataset."""
    from matplotlib.figure import Figure

    from idl.plots import _save

    datasets = sorted({r["dataset"] for r in rows})
    models = sorted({r["model"] for r in rows})
    fig = Figure(figsize=(4.5 * len(datasets), 6.5))
    axes = fig.subplots(2, len(datasets), squeeze=False)
    for j, d in enumerate(datasets):
        by_model = {r["model"]: r for r in rows if r["dataset"] == d}
        x = np.arange(len(models))
        for i, (key, label) in enumerate([("frechet", "Fréchet distance to real (lower is better)"),
                                          ("relative_diversity", "relative diversity (1 = as varied as real)")]):
            ax = axes[i, j]
            sample_vals = [by_model.get(m, {}).get(f"samples_{key}", np.nan) for m in models]
            ax.bar(x - 0.2, sample_vals, width=0.4, label="samples")
            if key == "frechet":
                recon_vals = [by_model.get(m, {}).get("frechet_reconstructions", np.nan) for m in models]
                ax.bar(x + 0.2, recon_vals, width=0.4, label="reconstructions")
                floors = [r.get("frechet_real_floor") for r in by_model.values()]
                floors = [f for f in floors if f is not None]
                if floors:
                    ax.axhline(float(np.mean(floors)), color="k", ls="--", lw=1, label="real vs real")
            else:
                ax.axhline(1.0, color="k", ls="--", lw=1, label="real data")
            ax.set_xticks(x, models)
            ax.set_title(f"{DATASET_TITLES.get(d, d)}", fontsize=9)
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3, axis="y")
            ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
