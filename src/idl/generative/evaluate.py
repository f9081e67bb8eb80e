"""Score one trained Task 3 model and draw its figures (reconstructions, samples, interpolation, losses)."""
from __future__ import annotations

import json
import logging

import numpy as np

from idl.generative.data import DATASET_TITLES, load_images, read_split
from idl.io import atomic_dir, save_npy, write_json

log = logging.getLogger(__name__)

# the history columns worth a panel, per kind
CURVES = {"cae": ("loss",), "vae": ("loss", "reconstruction_loss", "kl_loss"), "gan": ("d_loss", "g_loss")}


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
    from idl.io import read_history
    from idl.training import configure_threads, threads_from_env

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
