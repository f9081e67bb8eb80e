"""Task 3's part of the results page: the comparison table, how to read its scores, and every
figure (captioned from captions/*.rst, with the report's figure numbers, by the page)."""
from __future__ import annotations

import os
from pathlib import Path

from idl.generative.data import DATASET_TITLES
from idl.io import read_table

REPORT_BUDGETS = "the report: CAE 100 epochs, VAE 20 (cats) to 100 (pistachios), GAN 500 (cats, pistachios) and 100 (TinyHeroes)"
SCORES_NOTE = (
    "How to read the scores. MSE and SSIM compare held-out images with their reconstructions "
    "(SSIM 1 = identical). The Fréchet distance compares two sets of images as Gaussians fitted to "
    "their features (the FID formula), in the feature space of the report's own Table 10 encoder with "
    "fixed, seeded random weights (no training, no download): it reflects colour, edge and texture "
    "statistics rather than semantics, so compare values within one dataset only. 0 means the same "
    "distribution; the 'floor' is the distance between two halves of the real images, what a perfect "
    "generator would score at this sample size. Relative diversity is the mean pairwise feature distance "
    "of the samples divided by that of real images: about 1 is as varied as the data, near 0 means the "
    "samples are all alike (the report's Figure 9)."
)


def _fmt(value: str) -> str | None:
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() and abs(number) >= 1 else f"{number:.3g}"


def _data_sentence(name: str, cfg: dict) -> str:
    source = cfg.get("source")
    if source == "synthetic":
        return f"{DATASET_TITLES.get(name, name)}: generated stand-ins (NOT the real images)"
    if cfg.get("local"):
        return f"{DATASET_TITLES.get(name, name)}: the real images (local copy: `{cfg['local']}`)"
    return f"{DATASET_TITLES.get(name, name)}: the real images (downloaded from their registered source)"


def generative_section(page, results: Path, cfg: dict, data_cfg: dict, out_dir: Path) -> None:
    results, out_dir = Path(results), Path(out_dir)
    data_figures = results.parent / "data"
    page.h("Task 3: generative models")
    page.p("Data: " + "; ".join(_data_sentence(d, data_cfg.get(d, {})) for d in cfg["datasets"]) + ".")
    budgets = "; ".join(
        f"`{name}` ({r['kind'].upper()}, latent {r['latent_dim']}, {r.get('filters', 128)} filters): "
        f"{r['epochs']} epochs, batch {r['batch_size']}" for name, r in sorted(cfg["models"].items()))
    page.p(f"Budgets: {budgets} ({REPORT_BUDGETS}). Encoder and decoder follow Tables 10 and 11, with the "
           "number of down- and upsampling layers derived from the image size (3 for 32x32, 4 for 64x64). "
           f"{cfg['test_fraction']:.0%} of each dataset is held out; the report has no numbers for this task, "
           "so the table is ours alone.")
    page.p(SCORES_NOTE)
    header, rows = read_table(results / "summary" / "comparison.csv")
    page.table(header, [[_fmt(c) for c in row] for row in rows])
    page.image(os.path.relpath(results / "summary" / "scores.png", out_dir),
               "Fréchet distance and relative diversity of every model on every dataset")
    for dataset in cfg["datasets"]:
        page.h(DATASET_TITLES.get(dataset, dataset), 3)
        fig = data_figures / f"{dataset}_downsampling.png"
        # captions (with the report's figure numbers) come from captions/*.rst through the page
        page.image(os.path.relpath(fig, out_dir), f"{dataset}: originals and their downsampled arrays")
        for name in sorted(cfg["models"]):
            folder = results / dataset / name / "figures"
            for stem in ("reconstructions", "samples", "interpolation", "loss_curves"):
                path = folder / f"{stem}.png"
                if not path.exists():
                    continue
                page.image(os.path.relpath(path, out_dir), f"`{name}`: {stem.replace('_', ' ')}")
