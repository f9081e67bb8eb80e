"""Task 3 ("generative models") stages: split, train, evaluate, and the comparison table.

A model is a recipe in params.yaml (``generative.models.NAME``: kind cae|vae|gan, latent_dim,
filters, epochs, batch_size, learning_rate). Every recipe is trained on the training split of
every dataset in ``generative.datasets`` (the prepared 32x32 arrays of the data layer); the
held-out split scores the reconstructions, and generated samples are compared with the real
images in the feature space of :mod:`idl.generative.scores`.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np

from idl.data.arrays import load_index, load_npy
from idl.errors import DataError
from idl.io import atomic_dir, save_npy, write_json, write_table

log = logging.getLogger(__name__)

DATASET_TITLES = {"afhq": "AFHQ cats", "pistachio": "Kirmizi pistachios", "tinyhero": "TinyHeroes (front)"}
# the history columns worth a panel, per kind
CURVES = {"cae": ("loss",), "vae": ("loss", "reconstruction_loss", "kl_loss"), "gan": ("d_loss", "g_loss")}


# ------------------------------------------------------------------------ data

_PREPARE_FIX = "rerun the prepare_images stage for this dataset"
_SPLIT_FIX = "rerun the gen_split stage"


def _prepared_images(prepared_dir, mmap: bool = False) -> np.ndarray:
    """The prepared ``images.npy`` (uint8, n x h x w x 3, n >= 2), checked."""
    path = Path(prepared_dir) / "images.npy"
    images = load_npy(path, mmap=mmap, fix=_PREPARE_FIX)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8 or 0 in images.shape[1:]:
        raise DataError(f"{path}: expected uint8 RGB images (n, h, w, 3), got {images.dtype} {images.shape}; "
                        f"{_PREPARE_FIX}")
    if len(images) < 2:
        raise DataError(f"{path}: {len(images)} image(s); a train/test split needs at least 2; {_PREPARE_FIX} "
                        "with more images")
    return images


def load_images(prepared_dir) -> np.ndarray:
    """The prepared ``images.npy`` (uint8, n x h x w x 3) as float32 in [0, 1]."""
    return _prepared_images(prepared_dir).astype(np.float32) / 255.0


def write_split(prepared_dir, out_dir, test_fraction: float, seed: int) -> dict:
    """A seeded train/test split of the prepared images, saved as index files (train.npy, test.npy)."""
    from idl.basics_data import split_indices

    n = len(_prepared_images(prepared_dir, mmap=True))
    parts = split_indices(n, val_fraction=test_fraction, seed=seed)
    info = {"n": n, "n_train": int(len(parts["train"])), "n_test": int(len(parts["val"])),
            "test_fraction": test_fraction, "seed": seed}
    with atomic_dir(out_dir) as tmp:
        save_npy(tmp / "train.npy", parts["train"])
        save_npy(tmp / "test.npy", parts["val"])
        write_json(tmp / "split.json", info)
    log.info("split %d images: %d train, %d test", n, info["n_train"], info["n_test"])
    return info


def read_split(split_dir, n_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The train and test index files, disjoint and non-empty, each index below ``n_rows`` if given."""
    split_dir = Path(split_dir)
    tr, te = (load_index(split_dir / f"{part}.npy", n_rows, fix=_SPLIT_FIX) for part in ("train", "test"))
    if np.intersect1d(tr, te).size:
        raise DataError(f"{split_dir}: train.npy and test.npy share row indices; {_SPLIT_FIX}")
    return tr, te


# ----------------------------------------------------------------------- train

def _factory(recipe: dict, image_shape):
    from idl.models.generative import build_generative

    return lambda: build_generative(recipe["kind"], tuple(image_shape), latent_dim=recipe["latent_dim"],
                                    filters=recipe.get("filters", 128))


def train_generative(prepared_dir, split_dir, out_dir, state_dir, recipe: dict, seed: int) -> dict:
    """Train one recipe on a dataset's training split; write model.keras and history.csv."""
    from functools import partial

    images = load_images(prepared_dir)  # before Keras starts: a bad file fails in a second
    tr, te = read_split(split_dir, len(images))

    from idl.models.generative import compile_generative
    from idl.training import configure_threads, threads_from_env, train

    configure_threads(threads_from_env())
    x_train, x_test = images[tr], images[te]
    kind = recipe["kind"]
    # the CAE learns x -> x; the VAE and GAN take the images alone (their losses are their own)
    y_train, y_val = (x_train, x_test) if kind == "cae" else (None, None)
    history = train(
        _factory(recipe, images.shape[1:]), x_train, y_train,
        None if kind == "gan" else x_test, y_val,  # a GAN has no held-out loss worth watching
        out_dir=out_dir, state_dir=state_dir,
        epochs=recipe["epochs"], batch_size=recipe["batch_size"],
        learning_rate=recipe.get("learning_rate"), lr_halving_epochs=None,
        patience=None, seed=seed, progress=sys.stderr.isatty(),
        compile_model=partial(compile_generative, learning_rate=recipe.get("learning_rate")),
    )
    return {"epochs": int(len(history)), "n_train": int(len(x_train))}


# -------------------------------------------------------------------- evaluate

def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """Points on the straight line from ``z0`` to ``z1`` (both ends included)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return ((1.0 - t) * z0[None] + t * z1[None]).astype(np.float32)


def evaluate_generative(model_path, history_path, prepared_dir, split_dir, scores_path, figures_dir,
                        name: str, dataset: str, recipe: dict, eval_cfg: dict, seed: int) -> dict:
    """Scores (scores.json) and figures (reconstructions, samples, interpolation, loss curves) of one model."""
    images = load_images(prepared_dir)  # before Keras starts: a bad file fails in a second
    tr, te = read_split(split_dir, len(images))

    import keras

    import idl.models.generative  # noqa: F401 - registers the model classes load_model needs
    from idl.generative import scores as S
    from idl.plots import image_rows, learning_curves
    from idl.training import configure_threads, read_history, threads_from_env

    configure_threads(threads_from_env())
    model = keras.models.load_model(model_path)
    history = read_history(history_path)
    test = images[te]
    kind = recipe["kind"]
    n_show = min(eval_cfg["n_show"], len(test))
    rng = np.random.default_rng(seed)
    n_score = min(eval_cfg["score_images"], len(images))
    real = images[np.sort(rng.choice(len(images), size=n_score, replace=False))]
    net = S.FeatureNet(images.shape[1:], seed=eval_cfg["feature_seed"])
    # features of the real images once; everything is compared with half A of them, the
    # same sizes as the floor (half B vs half A)
    real_f = S.features(real, net)
    idx_a, idx_b = S.split_halves(np.arange(len(real)), seed=seed)
    floor = S.frechet_distance(real_f[idx_b], real_f[idx_a])
    title = f"{name} on {DATASET_TITLES.get(dataset, dataset)}"

    result = {"model": name, "dataset": dataset, "kind": kind, "epochs": int(len(history)),
              "latent_dim": int(recipe["latent_dim"]), "image_side": int(images.shape[1]),
              "n_train": int(len(tr)), "n_test": int(len(te)), "n_score": int(n_score),
              "feature_seed": int(eval_cfg["feature_seed"]), "frechet_real_floor": floor}
    with atomic_dir(figures_dir) as tmp:
        learning_curves(history, tmp / "loss_curves.png", f"{title}: losses per epoch", metrics=CURVES[kind])
        if hasattr(model, "reconstruct"):
            recon_test = model.reconstruct(test)
            result.update({f"test_{k}": v for k, v in S.score_reconstructions(test, recon_test).items()})
            recon_b = S.features(model.reconstruct(real[idx_b]), net)
            result["frechet_reconstructions"] = S.frechet_distance(recon_b, real_f[idx_a])
            image_rows({"original": test[:n_show], "reconstruction": recon_test[:n_show]},
                       tmp / "reconstructions.png", f"{title}: held-out images and their reconstructions")
        if hasattr(model, "sample"):
            samples = np.asarray(model.sample(len(idx_b), seed=seed))
            scores = S.score_sample_features(S.features(samples, net), real_f, seed=seed)
            result.update({f"samples_{k}": v for k, v in scores.items()})
            image_rows({"": samples[:n_show], " ": samples[n_show:2 * n_show]},
                       tmp / "samples.png", f"{title}: samples from random latent vectors")
            save_npy(tmp / "samples.npy", (np.clip(samples[:2 * n_show], 0, 1) * 255).round().astype(np.uint8))
            z = np.random.default_rng(seed + 1).standard_normal((2, model.latent_dim)).astype(np.float32)
            ends = "two random latent vectors"
        else:  # the CAE has no prior to sample from: walk between the codes of two held-out images
            pair = test[:2] if len(test) >= 2 else images[tr[:2]]
            z = model.encode(pair)
            ends = "the codes of two held-out images" if len(test) >= 2 else "the codes of two training images"
        strip = model.decode(interpolate(z[0], z[1], eval_cfg["interpolation_steps"]))
        image_rows({"": strip}, tmp / "interpolation.png", f"{title}: interpolation between {ends}")
        write_json(scores_path, result)
    log.info("%s: %s", title, json.dumps({k: v for k, v in result.items() if isinstance(v, float)}))
    return result


# --------------------------------------------------------------------- summary

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
